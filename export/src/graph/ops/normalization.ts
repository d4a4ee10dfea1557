// FusedBatchNorm and FusedBatchNormV3 in inference mode: ONNX BatchNormalization on NCHW images, a
// per-channel multiply and add (computed here, in float64) on other ranks.
import { attr } from '../../onnx/graph-builder.js';
import type { GValue, OpContext } from '../context.js';
import { constant, foldBinary } from './fold.js';

export function fusedBatchNorm(ctx: OpContext): GValue {
  ctx.checkNhwc();
  if (ctx.attrs.bool('is_training', false)) ctx.unsupported('is_training is true (only inference is exported)');
  const x = ctx.input(0);
  const [scale, offset, mean, variance] = ['scale', 'offset', 'mean', 'variance'].map((what, i) => ctx.constant(i + 1, what));
  const epsilon = ctx.attrs.float('epsilon', 0.001);
  const g = ctx.graph;
  if (x.kind === 'tensor' && x.shape.length === 4) {
    const params = [scale, offset, mean, variance].map((p, i) => g.builder.weight(ctx.base(`/${['scale', 'B', 'mean', 'var'][i]}`), Float32Array.from(p.data), [p.data.length]));
    const name = g.node('BatchNormalization', [g.nchw(x).name, ...params], ctx.base(), { epsilon: attr.float(epsilon) });
    return ctx.tensorOf(name, x.shape, [0, 3, 1, 2]);
  }
  const multiplier = constant('float32', scale.shape, Array.from(scale.data, (s, i) => s / Math.sqrt(variance.data[i] + epsilon)));
  const shift = constant('float32', offset.shape, Array.from(offset.data, (o, i) => o - mean.data[i] * multiplier.data[i]));
  if (x.kind === 'const') return foldBinary(foldBinary(x, multiplier, (a, b) => a * b), shift, (a, b) => a + b);
  const scaled = g.node('Mul', [x.name, g.floatConstant(ctx.base('/mul'), multiplier, x.shape.length, x.perm)], ctx.base('/scaled'));
  return ctx.tensorOf(g.node('Add', [scaled, g.floatConstant(ctx.base('/add'), shift, x.shape.length, x.perm)], ctx.base()), x.shape, x.perm);
}
