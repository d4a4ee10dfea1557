// Conv2D -> ONNX Conv on NCHW: kernel [kh, kw, in, out] transposed to [out, in, kh, kw], TF 'same'
// padding as explicit pads, an optional BatchNormalization folded in, then the fused activation.
import { foldBatchNorm } from '../fold-batch-norm.js';
import { attr } from '../graph-builder.js';
import { tfPads, type PaddingMode } from '../padding.js';
import { applyActivation, fusedActivation } from './activation.js';
import { checkChannelsLast, pair, singleInput, unsupported, weight, type LayerConverter } from './context.js';

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

export function paddingMode(value: unknown, fail: (reason: string) => never): PaddingMode {
  if (value === 'same' || value === 'valid') return value;
  return fail(`padding ${JSON.stringify(value)} (supported: same, valid)`);
}

export const convertConv2D: LayerConverter = (ctx) => {
  checkChannelsLast(ctx);
  const b = ctx.builder;
  const input = b.nchw(singleInput(ctx));
  const kernel = weight(ctx, 'kernel');
  const [kh, kw, inC, outC] = kernel.shape;
  const strides = pair(ctx.config.strides);
  const dilations = pair(ctx.config.dilationRate ?? 1);
  const mode = paddingMode(ctx.config.padding, (reason) => unsupported(ctx, reason));
  if ((ctx.config.groups ?? 1) !== 1) unsupported(ctx, 'grouped convolution');
  let w = hwioToOihw(kernel.data, kernel.shape);
  let bias = ctx.weights.get('bias')?.data;
  if (ctx.foldBatchNorm) ({ weight: w, bias } = foldBatchNorm(w, bias, ctx.foldBatchNorm));
  const name = ctx.layer.name;
  const inputs = [input.name, b.weight(`${name}/W`, w, [outC, inC, kh, kw])];
  if (bias) inputs.push(b.weight(`${name}/B`, bias, [outC]));
  const [h, wIn] = input.shape;
  const pads = tfPads(mode, { input: [h, wIn], kernel: [kh, kw], strides, dilations });
  const conv = b.node('Conv', inputs, name, {
    kernel_shape: attr.ints([kh, kw]),
    strides: attr.ints(strides),
    dilations: attr.ints(dilations),
    pads: attr.ints(pads),
    group: attr.int(1),
  });
  const outShape = (ctx.layer.outputShape as (number | null)[]).slice(1) as number[];
  const out = { ...input, name: conv, shape: outShape };
  return applyActivation(ctx, out, fusedActivation(ctx), `${name}/act`);
};
