// BatchNormalization that is not folded into a Conv (--no-fold-bn, or not after a Conv): an ONNX
// BatchNormalization node in inference mode. epsilon is always written: tfjs' default is 1e-3, ONNX's 1e-5.
import type { BatchNormParams } from '../fold-batch-norm.js';
import { attr } from '../graph-builder.js';
import { singleInput, unsupported, weight, type LayerContext, type LayerConverter } from './context.js';

/** The four per-channel vectors and epsilon of a tfjs BatchNormalization (scale/center off -> 1/0). */
export function batchNormParams(ctx: LayerContext): BatchNormParams {
  const axis = ctx.config.axis;
  const rank = ctx.inputs[0] ? ctx.inputs[0].shape.length + 1 : 0;
  if (axis !== -1 && axis !== rank - 1) unsupported(ctx, `normalization over axis ${JSON.stringify(axis)} (only the channel axis, -1, is supported)`);
  const mean = weight(ctx, 'moving_mean').data;
  return {
    gamma: ctx.weights.get('gamma')?.data ?? new Float32Array(mean.length).fill(1),
    beta: ctx.weights.get('beta')?.data ?? new Float32Array(mean.length),
    mean,
    variance: weight(ctx, 'moving_variance').data,
    epsilon: Number(ctx.config.epsilon ?? 1e-3),
  };
}

export const convertBatchNormalization: LayerConverter = (ctx) => {
  const b = ctx.builder;
  const raw = singleInput(ctx);
  // Per-channel parameters follow the channel axis: NCHW for images; tfjs order for flat features.
  const input = raw.layout === 'nhwc' || raw.layout === 'nchw' ? b.nchw(raw) : b.tfjsOrder(raw);
  const p = batchNormParams(ctx);
  const name = ctx.layer.name;
  const channels = [p.mean.length];
  const inputs = [
    input.name,
    b.weight(`${name}/scale`, p.gamma, channels),
    b.weight(`${name}/B`, p.beta, channels),
    b.weight(`${name}/mean`, p.mean, channels),
    b.weight(`${name}/var`, p.variance, channels),
  ];
  return { ...input, name: b.node('BatchNormalization', inputs, name, { epsilon: attr.float(p.epsilon) }) };
};
