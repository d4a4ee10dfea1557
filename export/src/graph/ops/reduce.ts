// Mean, Max and Sum over constant axes (keep_dims or not), as ONNX ReduceMean/ReduceMax/ReduceSum on the
// layout the value has: a global average over H, W of an NCHW value reduces ONNX axes 2, 3.
import { attr } from '../../onnx/graph-builder.js';
import type { GValue, OpContext } from '../context.js';
import { axisOf, dropAxes } from '../layout.js';

const ONNX: Record<string, string> = { Mean: 'ReduceMean', Max: 'ReduceMax', Sum: 'ReduceSum' };

/** Opset from which the op takes its axes as an input instead of an attribute. */
const AXES_INPUT_FROM: Record<string, number> = { ReduceSum: 13, ReduceMean: 18, ReduceMax: 18 };

export function reduce(ctx: OpContext): GValue {
  const x = ctx.tensor(0);
  const rank = x.shape.length;
  const axes = [...new Set(ctx.ints(1, 'axes').map((a) => axisOf(a, rank, ctx.node.name)))].sort((p, q) => p - q);
  // TF reduces nothing over an empty axis list; ONNX would reduce everything.
  if (axes.length === 0) return x;
  const keepDims = ctx.attrs.bool('keep_dims', false);
  const op = ONNX[ctx.op];
  const onnxAxes = axes.map((a) => x.perm.indexOf(a));
  const g = ctx.graph;
  const byInput = g.opset >= AXES_INPUT_FROM[op];
  const inputs = byInput ? [x.name, g.int64(ctx.base('/axes'), onnxAxes)] : [x.name];
  const attributes = { keepdims: attr.int(keepDims ? 1 : 0), ...(byInput ? {} : { axes: attr.ints(onnxAxes) }) };
  const name = g.node(op, inputs, ctx.base(), attributes);
  if (keepDims) return ctx.tensorOf(name, x.shape.map((d, i) => (axes.includes(i) ? 1 : d)), x.perm);
  return ctx.tensorOf(name, x.shape.filter((_, i) => !axes.includes(i)), dropAxes(x.perm, axes));
}
