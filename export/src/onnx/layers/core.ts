// Dense, Flatten, Reshape and Dropout. Flatten of an NCHW value is left in C,H,W order ("flat-chw") and the
// Dense that reads it gets its kernel rows permuted to match, instead of transposing the activations back to
// NHWC: the same numbers, without a second Transpose in the graph (model1: Flatten -> 25.7M-weight Dense).
// Reshape moves elements in tfjs order, so it reads its input in that order, unless the input has one pixel
// or one channel, where NCHW and NHWC order are the same (MobileNet's [C] -> [1, 1, C] -> Conv -> [classes]).
import { attr, type GraphBuilder, type Value } from '../graph-builder.js';
import { applyActivation, fusedActivation } from './activation.js';
import { checkChannelsLast, singleInput, unsupported, weight, type LayerConverter } from './context.js';

/** Dropout is the identity at inference. */
export const convertDropout: LayerConverter = (ctx) => singleInput(ctx);

export const convertFlatten: LayerConverter = (ctx) => {
  checkChannelsLast(ctx);
  const input = singleInput(ctx);
  if (input.layout === 'flat' || input.layout === 'flat-chw') return input;
  const [h, w, c] = input.shape;
  const features = h * w * c;
  const name = ctx.builder.node('Flatten', [input.name], ctx.layer.name, { axis: attr.int(1) });
  // With one pixel or one channel, C,H,W order is H,W,C order.
  const inTfjsOrder = input.layout === 'nhwc' || c === 1 || h * w === 1;
  return inTfjsOrder
    ? { name, layout: 'flat', shape: [features], elemType: input.elemType }
    : { name, layout: 'flat-chw', shape: [features], chw: [h, w, c], elemType: input.elemType };
};

/** Kernel rows of a Dense that reads H,W,C-ordered features, reordered for C,H,W-ordered ones. */
export function permuteRowsHwcToChw(kernel: Float32Array, [h, w, c]: [number, number, number], units: number): Float32Array {
  const out = new Float32Array(kernel.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let ch = 0; ch < c; ch++) {
        const from = ((y * w + x) * c + ch) * units;
        const to = ((ch * h + y) * w + x) * units;
        out.set(kernel.subarray(from, from + units), to);
      }
    }
  }
  return out;
}

export const convertDense: LayerConverter = (ctx) => {
  const b = ctx.builder;
  const input: Value = singleInput(ctx);
  if (input.layout !== 'flat' && input.layout !== 'flat-chw') unsupported(ctx, `a Dense on a ${input.shape.length + 1}-D input (add a Flatten before it)`);
  const kernel = weight(ctx, 'kernel');
  const [features, units] = kernel.shape;
  const data = input.layout === 'flat-chw' ? permuteRowsHwcToChw(kernel.data, input.chw as [number, number, number], units) : kernel.data;
  const name = ctx.layer.name;
  const inputs = [input.name, b.weight(`${name}/W`, data, [features, units])];
  const bias = ctx.weights.get('bias');
  if (bias) inputs.push(b.weight(`${name}/B`, bias.data, [units]));
  const out: Value = { name: b.node('Gemm', inputs, name), layout: 'flat', shape: [units], elemType: input.elemType };
  return applyActivation(ctx, out, fusedActivation(ctx), `${name}/act`);
};

/** The value with its elements in tfjs order, transposing only when NCHW and NHWC order differ. */
function elementsInTfjsOrder(b: GraphBuilder, value: Value): Value {
  const [h, w, c] = value.layout === 'flat-chw' ? (value.chw as [number, number, number]) : value.shape;
  const onePixelOrChannel = (value.layout === 'nchw' || value.layout === 'flat-chw') && (h * w === 1 || c === 1);
  return onePixelOrChannel ? value : b.tfjsOrder(value);
}

export const convertReshape: LayerConverter = (ctx) => {
  const b = ctx.builder;
  const input = elementsInTfjsOrder(b, singleInput(ctx));
  const target = (ctx.layer.outputShape as (number | null)[]).slice(1);
  if (!target.every((d): d is number => typeof d === 'number' && d > 0)) unsupported(ctx, `target shape ${JSON.stringify(target)} is not fully known`);
  if (target.length !== 1 && target.length !== 3) unsupported(ctx, `a reshape to ${JSON.stringify(target)} (supported: [features] and [height, width, channels])`);
  const name = ctx.layer.name;
  const reshape = (dims: number[]) => b.node('Reshape', [input.name, b.int64(`${name}/shape`, [-1, ...dims])], name);
  if (target.length === 1) return { name: reshape(target), layout: 'flat', shape: target, elemType: input.elemType };
  const [h, w, c] = target;
  // Straight to NCHW when that is the same element order: no Transpose before the Conv or pooling that follows.
  const nchw = h * w === 1 || c === 1;
  return { name: reshape(nchw ? [c, h, w] : [h, w, c]), layout: nchw ? 'nchw' : 'nhwc', shape: target, elemType: input.elemType };
};
