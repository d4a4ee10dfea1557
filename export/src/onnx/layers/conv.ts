// Conv2D and DepthwiseConv2D -> ONNX Conv on NCHW: the kernel transposed to [out, in / group, kh, kw], TF
// 'same' padding as explicit pads, an optional BatchNormalization folded in, then the fused activation.
// A depthwise convolution is a Conv with one group per input channel.
import { foldBatchNorm } from '../fold-batch-norm.js';
import { attr, type Value } from '../graph-builder.js';
import { tfPads, type PaddingMode } from '../padding.js';
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

function conv(ctx: LayerContext, weights: ConvWeights, dilations: [number, number]): Value {
  checkChannelsLast(ctx);
  const b = ctx.builder;
  const input = b.nchw(singleInput(ctx));
  const strides = pair(ctx.config.strides);
  const mode = paddingMode(ctx.config.padding, (reason) => unsupported(ctx, reason));
  let { weight: w, bias } = weights;
  if (ctx.foldBatchNorm) ({ weight: w, bias } = foldBatchNorm(w, bias, ctx.foldBatchNorm));
  const [outC, , kh, kw] = weights.dims;
  const name = ctx.layer.name;
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
  const outShape = (ctx.layer.outputShape as (number | null)[]).slice(1) as number[];
  const out = { ...input, name: node, shape: outShape };
  return applyActivation(ctx, out, fusedActivation(ctx), `${name}/act`);
}

export const convertConv2D: LayerConverter = (ctx) => {
  if ((ctx.config.groups ?? 1) !== 1) unsupported(ctx, 'grouped convolution');
  const kernel = weight(ctx, 'kernel');
  const [kh, kw, inC, outC] = kernel.shape;
  const weights: ConvWeights = { weight: hwioToOihw(kernel.data, kernel.shape), bias: ctx.weights.get('bias')?.data, dims: [outC, inC, kh, kw], group: 1 };
  return conv(ctx, weights, pair(ctx.config.dilationRate ?? 1));
};

export const convertDepthwiseConv2D: LayerConverter = (ctx) => {
  // tfjs-layers (4.22) runs DepthwiseConv2D undilated whatever dilationRate says, and computes its output
  // shape that way too: a dilated export would not give the tfjs model's numbers, an undilated one not its config's.
  const dilations = pair(ctx.config.dilationRate ?? 1);
  if (dilations[0] !== 1 || dilations[1] !== 1) unsupported(ctx, `dilationRate ${JSON.stringify(dilations)} (tfjs runs DepthwiseConv2D undilated; only 1 is supported)`);
  const kernel = weight(ctx, 'depthwise_kernel');
  const [kh, kw, channels, multiplier] = kernel.shape;
  const weights: ConvWeights = {
    weight: depthwiseToOihw(kernel.data, kernel.shape),
    bias: ctx.weights.get('bias')?.data,
    dims: [channels * multiplier, 1, kh, kw],
    group: channels,
  };
  return conv(ctx, weights, dilations);
};
