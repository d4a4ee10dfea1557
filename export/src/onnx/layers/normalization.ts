// BatchNormalization that is not folded into a Conv (--no-fold-bn, or not after a Conv) and LayerNormalization.
// BatchNormalization over the axis ONNX's BatchNormalization normalizes (its axis 1: the channels of an NCHW
// image, the features of [N, F]) is that node, in inference mode, with epsilon always written (tfjs' default
// is 1e-3, ONNX's 1e-5); over any other axis it is x * s + t with s and t as tfjs applies them: tfjs-layers
// reshapes the parameters to broadcast along the axis, but the cpu and wasm BatchNorm kernels (4.22) ignore
// that shape and cycle through the parameters over the flattened tensor (element i gets parameter i mod n),
// so a height or width BatchNormalization mixes rows up in tfjs. The export reproduces what tfjs computes.
import type { BatchNormParams } from '../fold-batch-norm.js';
import { attr, onnxAxis, toLayout, type Value } from '../graph-builder.js';
import { singleInput, unsupported, weight, type LayerContext, type LayerConverter } from './context.js';

/** The tfjs axis of a BatchNormalization or LayerNormalization config entry, as a number. */
function configAxis(ctx: LayerContext, fallback: number): number[] {
  const axis = ctx.config.axis ?? fallback;
  const axes = Array.isArray(axis) ? axis : [axis];
  if (axes.length === 0 || !axes.every((a) => Number.isInteger(a))) unsupported(ctx, `axis ${JSON.stringify(axis)}`);
  return axes as number[];
}

/** Whether a BatchNormalization normalizes the channel axis (what folding into a Conv needs). */
export function normalizesChannels(ctx: Pick<LayerContext, 'config'>, rank: number): boolean {
  const raw = ctx.config.axis ?? -1;
  // Keras 3 writes the axis as a one-element list.
  const axis = Array.isArray(raw) && raw.length === 1 ? raw[0] : raw;
  return axis === -1 || axis === rank - 1;
}

/** The four per-channel vectors and epsilon of a tfjs BatchNormalization (scale/center off -> 1/0). */
export function batchNormParams(ctx: LayerContext): BatchNormParams {
  const mean = weight(ctx, 'moving_mean').data;
  return {
    gamma: ctx.weights.get('gamma')?.data ?? new Float32Array(mean.length).fill(1),
    beta: ctx.weights.get('beta')?.data ?? new Float32Array(mean.length),
    mean,
    variance: weight(ctx, 'moving_variance').data,
    epsilon: Number(ctx.config.epsilon ?? 1e-3),
  };
}

/** The parameters as tfjs' cpu/wasm kernels apply them: per-image element i (tfjs order) gets data[i mod n], in the value's layout. */
function cyclic(ctx: LayerContext, base: string, data: Float32Array, value: Value): string {
  const size = value.shape.reduce((a, d) => a * d, 1);
  const full = Float32Array.from({ length: size }, (_, i) => data[i % data.length]);
  const { data: laid, dims } = toLayout(value, full, value.shape);
  return ctx.builder.weight(base, laid, dims.slice(1));
}

export const convertBatchNormalization: LayerConverter = (ctx) => {
  const b = ctx.builder;
  const raw = singleInput(ctx);
  const image = raw.layout === 'nhwc' || raw.layout === 'nchw';
  // Images normalized per channel go to NCHW, where ONNX's BatchNormalization has them on its axis 1.
  const input = raw.layout === 'flat-chw' ? b.tfjsOrder(raw) : image && normalizesChannels(ctx, 4) ? b.nchw(raw) : raw;
  const rank = input.shape.length + 1;
  const [tfjsAxis] = configAxis(ctx, -1);
  const axis = onnxAxis(input, tfjsAxis);
  const p = batchNormParams(ctx);
  const name = ctx.layer.name;
  if (axis === 1 && normalizesChannels(ctx, rank)) {
    const channels = [p.mean.length];
    const inputs = [
      input.name,
      b.weight(`${name}/scale`, p.gamma, channels),
      b.weight(`${name}/B`, p.beta, channels),
      b.weight(`${name}/mean`, p.mean, channels),
      b.weight(`${name}/var`, p.variance, channels),
    ];
    return { ...input, name: b.node('BatchNormalization', inputs, name, { epsilon: attr.float(p.epsilon) }) };
  }
  // gamma * (x - mean) / sqrt(var + eps) + beta = x * s + (beta - mean * s), in float64 then rounded once.
  const s = p.gamma.map((g, i) => g / Math.sqrt(p.variance[i] + p.epsilon));
  const t = p.beta.map((beta, i) => beta - p.mean[i] * s[i]);
  const scaled = b.node('Mul', [input.name, cyclic(ctx, `${name}/scale`, s, input)], `${name}/scaled`);
  return { ...input, name: b.node('Add', [scaled, cyclic(ctx, `${name}/shift`, t, input)], name) };
};

/**
 * tfjs LayerNormalization: mean and variance (the mean of squared deviations) over `axis`, then
 * (x - mean) / sqrt(var + eps) * gamma + beta, gamma and beta shaped like the normalized axes. Written with
 * ReduceMean, not ONNX's LayerNormalization op, which needs opset 17 and normalizes trailing axes only.
 */
export const convertLayerNormalization: LayerConverter = (ctx) => {
  const b = ctx.builder;
  const raw = singleInput(ctx);
  const axes = configAxis(ctx, -1);
  // Several axes: in tfjs order, where gamma's element order is the input's.
  const input = raw.layout === 'flat-chw' || (axes.length > 1 && raw.layout === 'nchw') ? b.tfjsOrder(raw) : raw;
  const rank = input.shape.length + 1;
  const onnx = axes.map((a) => onnxAxis(input, a));
  const name = ctx.layer.name;
  const mean = b.reduce('ReduceMean', input.name, onnx, true, `${name}/mean`);
  const centered = b.node('Sub', [input.name, mean], `${name}/centered`);
  const variance = b.reduce('ReduceMean', b.node('Mul', [centered, centered], `${name}/squared`), onnx, true, `${name}/var`);
  const std = b.node('Sqrt', [b.node('Add', [variance, b.scalar(`${name}/eps`, Number(ctx.config.epsilon ?? 1e-3))], `${name}/var_eps`)], `${name}/std`);
  let out = b.node('Div', [centered, std], ctx.config.scale === false && ctx.config.center === false ? name : `${name}/normalized`);
  // gamma/beta dims: the normalized axes' sizes at their ONNX positions, 1 elsewhere (batch dropped).
  const full = [1, ...input.shape];
  const tfjsAxes = axes.map((a) => (a < 0 ? a + rank : a));
  const from = input.layout === 'nchw' ? [0, 3, 1, 2] : full.map((_, i) => i);
  const dims = from.slice(1).map((t) => (tfjsAxes.includes(t) ? full[t] : 1));
  const gamma = ctx.weights.get('gamma');
  const beta = ctx.weights.get('beta');
  if (gamma) out = b.node('Mul', [out, b.weight(`${name}/gamma`, gamma.data, dims)], beta ? `${name}/scaled` : name);
  if (beta) out = b.node('Add', [out, b.weight(`${name}/beta`, beta.data, dims)], name);
  return { ...input, name: out } satisfies Value;
};
