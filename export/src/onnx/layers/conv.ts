// Conv2D and DepthwiseConv2D -> ONNX Conv on NCHW: the kernel transposed to [out, in / group, kh, kw], TF
// 'same' padding as explicit pads, an optional BatchNormalization folded in, then the fused activation.
// A depthwise convolution is a Conv with one group per input channel; SeparableConv2D is a depthwise Conv
// then a 1x1 Conv, as tfjs computes it; Conv2DTranspose is a ConvTranspose with TF's output size.
import { foldBatchNorm } from '../fold-batch-norm.js';
import { attr, type Value } from '../graph-builder.js';
import { tfOutputSize, tfPads, type PaddingMode } from '../padding.js';
import { applyActivation, fusedActivation } from './activation.js';
import { checkChannelsLast, pair, singleInput, unsupported, weight, type LayerContext, type LayerConverter } from './context.js';

/** tfjs HWIO kernel -> ONNX OIHW. */
export function hwioToOihw(kernel: Float32Array, [kh, kw, inC, outC]: number[]): Float32Array {
  const out = new Float32Array(kernel.length);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let i = 0; i < inC; i++) {
        const src = ((y * kw + x) * inC + i) * outC;
        for (let o = 0; o < outC; o++) out[((o * inC + i) * kh + y) * kw + x] = kernel[src + o];
      }
    }
  }
  return out;
}

/**
 * tfjs depthwise kernel [kh, kw, C, mult] -> ONNX grouped Conv weight [C * mult, 1, kh, kw]. Output channel
 * c * mult + m reads input channel c in both, so the kernel is an HWIO kernel with one input and C * mult outputs.
 */
export function depthwiseToOihw(kernel: Float32Array, [kh, kw, channels, multiplier]: number[]): Float32Array {
  return hwioToOihw(kernel, [kh, kw, 1, channels * multiplier]);
}

export function paddingMode(value: unknown, fail: (reason: string) => never): PaddingMode {
  if (value === 'same' || value === 'valid') return value;
  return fail(`padding ${JSON.stringify(value)} (supported: same, valid)`);
}

/** The ONNX Conv weight [out, in / group, kh, kw], its bias and its group count. */
interface ConvWeights {
  weight: Float32Array;
  bias?: Float32Array;
  dims: [number, number, number, number];
  group: number;
}

/** One ONNX Conv of the layer's input (or `input`), before any activation. */
function conv(ctx: LayerContext, weights: ConvWeights, dilations: [number, number], input = ctx.builder.nchw(singleInput(ctx)), suffix = ''): Value {
  checkChannelsLast(ctx);
  const b = ctx.builder;
  const strides = pair(ctx.config.strides);
  const mode = paddingMode(ctx.config.padding, (reason) => unsupported(ctx, reason));
  let { weight: w, bias } = weights;
  if (ctx.foldBatchNorm) ({ weight: w, bias } = foldBatchNorm(w, bias, ctx.foldBatchNorm));
  const [outC, , kh, kw] = weights.dims;
  const name = `${ctx.layer.name}${suffix}`;
  const inputs = [input.name, b.weight(`${name}/W`, w, weights.dims)];
  if (bias) inputs.push(b.weight(`${name}/B`, bias, [outC]));
  const [h, wIn] = input.shape;
  const pads = tfPads(mode, { input: [h, wIn], kernel: [kh, kw], strides, dilations });
  const node = b.node('Conv', inputs, name, {
    kernel_shape: attr.ints([kh, kw]),
    strides: attr.ints(strides),
    dilations: attr.ints(dilations),
    pads: attr.ints(pads),
    group: attr.int(weights.group),
  });
  const [oh, ow] = [0, 1].map((i) => tfOutputSize(mode, input.shape[i], [kh, kw][i], strides[i], dilations[i]));
  return { ...input, name: node, shape: [oh, ow, outC] };
}

const activated = (ctx: LayerContext, value: Value): Value => applyActivation(ctx, value, fusedActivation(ctx), `${ctx.layer.name}/act`);

export const convertConv2D: LayerConverter = (ctx) => {
  if ((ctx.config.groups ?? 1) !== 1) unsupported(ctx, 'grouped convolution');
  const kernel = weight(ctx, 'kernel');
  const [kh, kw, inC, outC] = kernel.shape;
  const weights: ConvWeights = { weight: hwioToOihw(kernel.data, kernel.shape), bias: ctx.weights.get('bias')?.data, dims: [outC, inC, kh, kw], group: 1 };
  return activated(ctx, conv(ctx, weights, pair(ctx.config.dilationRate ?? 1)));
};

export const convertDepthwiseConv2D: LayerConverter = (ctx) => {
  // tfjs-layers (4.22) runs DepthwiseConv2D undilated whatever dilationRate says (it passes no dilation to
  // tfjs-core), and computes its output shape that way too. The export does what tfjs computes, as everywhere.
  const dilations: [number, number] = [1, 1];
  const kernel = weight(ctx, 'depthwise_kernel');
  const [kh, kw, channels, multiplier] = kernel.shape;
  const weights: ConvWeights = {
    weight: depthwiseToOihw(kernel.data, kernel.shape),
    bias: ctx.weights.get('bias')?.data,
    dims: [channels * multiplier, 1, kh, kw],
    group: channels,
  };
  return activated(ctx, conv(ctx, weights, dilations));
};

/** tfjs-core's separableConv2d: the depthwise Conv (strides, padding, dilation), then a 1x1 'valid' Conv with the bias. */
export const convertSeparableConv2D: LayerConverter = (ctx) => {
  const dilations = pair(ctx.config.dilationRate ?? 1);
  const depthwise = weight(ctx, 'depthwise_kernel');
  const [kh, kw, channels, multiplier] = depthwise.shape;
  const dw = conv(ctx, { weight: depthwiseToOihw(depthwise.data, depthwise.shape), dims: [channels * multiplier, 1, kh, kw], group: channels }, dilations, undefined, '/depthwise');
  const pointwise = weight(ctx, 'pointwise_kernel');
  const [, , inC, outC] = pointwise.shape;
  const pw: ConvWeights = { weight: hwioToOihw(pointwise.data, pointwise.shape), bias: ctx.weights.get('bias')?.data, dims: [outC, inC, 1, 1], group: 1 };
  const pointwiseCtx: LayerContext = { ...ctx, config: { ...ctx.config, strides: 1, padding: 'valid' } };
  return activated(ctx, conv(pointwiseCtx, pw, [1, 1], dw));
};

/**
 * tfjs Conv2DTranspose (no dilation in tfjs): kernel [kh, kw, filters, in] -> ConvTranspose weight [in, filters, kh, kw].
 * TF's output size is in * stride ('same') or in * stride + max(k - stride, 0) ('valid'); ONNX's is
 * (in - 1) * stride + k - pads + output_padding: the difference k - stride is cropped as pads (odd one at the
 * end, as TF's 'same' pads) when positive, or added as output_padding (zeros plus bias) when negative.
 */
export const convertConv2DTranspose: LayerConverter = (ctx) => {
  checkChannelsLast(ctx);
  const b = ctx.builder;
  const input = b.nchw(singleInput(ctx));
  const kernel = weight(ctx, 'kernel');
  const [kh, kw, filters, inC] = kernel.shape;
  const strides = pair(ctx.config.strides);
  const mode = paddingMode(ctx.config.padding, (reason) => unsupported(ctx, reason));
  const oihw = new Float32Array(kernel.data.length);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let o = 0; o < filters; o++) {
        for (let i = 0; i < inC; i++) oihw[((i * filters + o) * kh + y) * kw + x] = kernel.data[((y * kw + x) * filters + o) * inC + i];
      }
    }
  }
  const begin: number[] = [];
  const end: number[] = [];
  const outputPadding: number[] = [];
  const outShape: number[] = [];
  [kh, kw].forEach((k, axis) => {
    const s = strides[axis];
    const excess = mode === 'same' ? k - s : Math.max(k - s, 0) - (k - s);
    const crop = mode === 'same' ? Math.max(excess, 0) : 0;
    begin.push(Math.floor(crop / 2));
    end.push(crop - Math.floor(crop / 2));
    outputPadding.push(mode === 'same' ? Math.max(-excess, 0) : excess);
    outShape.push(input.shape[axis] * s + (mode === 'same' ? 0 : Math.max(k - s, 0)));
  });
  const name = ctx.layer.name;
  const inputs = [input.name, b.weight(`${name}/W`, oihw, [inC, filters, kh, kw])];
  const bias = ctx.weights.get('bias');
  if (bias) inputs.push(b.weight(`${name}/B`, bias.data, [filters]));
  const node = b.node('ConvTranspose', inputs, name, {
    kernel_shape: attr.ints([kh, kw]),
    strides: attr.ints(strides),
    pads: attr.ints([...begin, ...end]),
    output_padding: attr.ints(outputPadding),
  });
  return activated(ctx, { ...input, name: node, shape: [outShape[0], outShape[1], filters] });
};
