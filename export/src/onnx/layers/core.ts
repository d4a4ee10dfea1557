// Dense, Flatten, Reshape, Permute, RepeatVector and the layers that are the identity at inference. Flatten of an NCHW value is left in C,H,W order ("flat-chw") and the
// Dense that reads it gets its kernel rows permuted to match, instead of transposing the activations back to
// NHWC: the same numbers, without a second Transpose in the graph (model1: Flatten -> 25.7M-weight Dense).
// Reshape moves elements in tfjs order, so it reads its input in that order, unless the input has one pixel
// or one channel, where NCHW and NHWC order are the same (MobileNet's [C] -> [1, 1, C] -> Conv -> [classes]).
import { attr, physicalAxes, tfjsLayout, type GraphBuilder, type Value } from '../graph-builder.js';
import { applyActivation, fusedActivation } from './activation.js';
import { checkChannelsLast, singleInput, unsupported, weight, type LayerConverter } from './context.js';

/** tfjs Rescaling (a preprocessing layer Keras models start with): x * scale + offset. */
export const convertRescaling: LayerConverter = (ctx) => {
  const b = ctx.builder;
  const input = singleInput(ctx);
  const name = ctx.layer.name;
  const scale = Number(ctx.config.scale ?? 1);
  const offset = Number(ctx.config.offset ?? 0);
  const scaled = b.node('Mul', [input.name, b.scalar(`${name}/scale`, scale)], `${name}/scaled`);
  return { ...input, name: b.node('Add', [scaled, b.scalar(`${name}/offset`, offset)], name) };
};

/** Dropout, AlphaDropout, GaussianDropout, GaussianNoise and SpatialDropout1D are the identity at inference. */
export const convertIdentity: LayerConverter = (ctx) => singleInput(ctx);

export const convertFlatten: LayerConverter = (ctx) => {
  checkChannelsLast(ctx);
  const input = singleInput(ctx);
  if (input.layout === 'flat' || input.layout === 'flat-chw') return input;
  if (input.layout === 'nd') {
    const features = input.shape.reduce((a, d) => a * d, 1);
    return { name: ctx.builder.node('Flatten', [input.name], ctx.layer.name, { axis: attr.int(1) }), layout: 'flat', shape: [features], elemType: input.elemType };
  }
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

/**
 * tfjs' Dense on a rank > 2 input applies the kernel to the last axis. On an image in NCHW that is a 1x1
 * Conv (the output stays NCHW); on other ranks a MatMul and an Add.
 */
function denseOnAxis(ctx: Parameters<LayerConverter>[0], input: Value): Value {
  const b = ctx.builder;
  const kernel = weight(ctx, 'kernel');
  const [features, units] = kernel.shape;
  const bias = ctx.weights.get('bias');
  const name = ctx.layer.name;
  const shape = [...input.shape.slice(0, -1), units];
  if (input.layout === 'nchw' || input.layout === 'nhwc') {
    const image = b.nchw(input);
    const oihw = new Float32Array(kernel.data.length);
    for (let i = 0; i < features; i++) for (let o = 0; o < units; o++) oihw[o * features + i] = kernel.data[i * units + o];
    const inputs = [image.name, b.weight(`${name}/W`, oihw, [units, features, 1, 1])];
    if (bias) inputs.push(b.weight(`${name}/B`, bias.data, [units]));
    return { ...image, name: b.node('Conv', inputs, name, { kernel_shape: attr.ints([1, 1]) }), shape };
  }
  const product = b.node('MatMul', [input.name, b.weight(`${name}/W`, kernel.data, [features, units])], bias ? `${name}/matmul` : name);
  const out = bias ? b.node('Add', [product, b.weight(`${name}/B`, bias.data, [units])], name) : product;
  return { name: out, layout: 'nd', shape, elemType: input.elemType };
}

export const convertDense: LayerConverter = (ctx) => {
  const b = ctx.builder;
  const input: Value = singleInput(ctx);
  if (input.layout !== 'flat' && input.layout !== 'flat-chw') return applyActivation(ctx, denseOnAxis(ctx, input), fusedActivation(ctx), `${ctx.layer.name}/act`);
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
  const size = input.shape.reduce((a, d) => a * d, 1);
  const target = ((ctx.config.targetShape ?? []) as (number | null)[]).map((d) => (d === null ? -1 : d));
  const unknown = target.filter((d) => d === -1).length;
  const known = target.filter((d) => d !== -1).reduce((a, d) => a * d, 1);
  if (unknown > 1 || target.some((d) => !Number.isInteger(d) || d === 0 || d < -1)) unsupported(ctx, `target shape ${JSON.stringify(ctx.config.targetShape)}`);
  const shape = target.map((d) => (d === -1 ? size / known : d));
  const name = ctx.layer.name;
  const reshape = (dims: number[]) => b.node('Reshape', [input.name, b.int64(`${name}/shape`, [-1, ...dims])], name);
  if (shape.length !== 3) return { name: reshape(shape), layout: tfjsLayout(shape), shape, elemType: input.elemType };
  const [h, w, c] = shape;
  // Straight to NCHW when that is the same element order: no Transpose before the Conv or pooling that follows.
  const nchw = h * w === 1 || c === 1;
  return { name: reshape(nchw ? [c, h, w] : [h, w, c]), layout: nchw ? 'nchw' : 'nhwc', shape, elemType: input.elemType };
};

/**
 * Permute(dims): one Transpose from the input's ONNX layout straight to the output's (NCHW for images, so that
 * no second Transpose follows before a Conv), or none when the element order does not change.
 */
export const convertPermute: LayerConverter = (ctx) => {
  const b = ctx.builder;
  const raw = singleInput(ctx);
  const input = raw.layout === 'flat-chw' ? b.tfjsOrder(raw) : raw;
  const dims = ctx.config.dims as number[];
  if (!Array.isArray(dims) || dims.length !== input.shape.length) unsupported(ctx, `dims ${JSON.stringify(dims)}`);
  const full = [0, ...dims];
  const shape = dims.map((d) => input.shape[d - 1]);
  const layout = shape.length === 3 ? 'nchw' : tfjsLayout(shape);
  const target = layout === 'nchw' ? [0, 3, 1, 2] : full.map((_, i) => i);
  const from = physicalAxes(input);
  // ONNX output axis j holds output tfjs axis target[j] = input tfjs axis full[target[j]], which is input ONNX axis from.indexOf(...).
  const perm = target.map((t) => from.indexOf(full[t]));
  if (perm.every((p, i) => p === i)) return { ...input, layout, shape };
  return { name: b.transpose(input.name, perm, ctx.layer.name), layout, shape, elemType: input.elemType };
};

/** RepeatVector(n): [N, F] -> [N, n, F], as a Reshape to [N, 1, F] and a Tile. */
export const convertRepeatVector: LayerConverter = (ctx) => {
  const b = ctx.builder;
  const input = b.tfjsOrder(singleInput(ctx));
  if (input.layout !== 'flat') unsupported(ctx, `a ${input.shape.length + 1}-D input (RepeatVector takes [batch, features])`);
  const n = ctx.config.n as number;
  const name = ctx.layer.name;
  const [features] = input.shape;
  const column = b.node('Reshape', [input.name, b.int64(`${name}/shape`, [-1, 1, features])], `${name}/column`);
  return { name: b.node('Tile', [column, b.int64(`${name}/repeats`, [1, n, 1])], name), layout: 'nd', shape: [n, features], elemType: input.elemType };
};
