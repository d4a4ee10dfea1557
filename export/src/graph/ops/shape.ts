// Ops that move elements without computing: Reshape, Squeeze, ExpandDims, Transpose, ConcatV2, Pad, PadV2,
// MirrorPad, Identity. Transpose costs no ONNX node (the value's layout absorbs it); Squeeze, ConcatV2 and
// Pad work on the value's layout; Reshape needs elements in tfjs order.
import { attr } from '../../onnx/graph-builder.js';
import type { Constant, GValue, OpContext, Tensor } from '../context.js';
import { axisOf, dropAxes, identity, invert, NCHW, permute, sameElementOrder, sizeOf, transposeData } from '../layout.js';
import { foldConcat } from './fold.js';
import { flattenChw } from './flatten.js';

export function identityOp(ctx: OpContext): GValue {
  return ctx.raw(0);
}

/** The output shape of a Reshape: -1 (or NaN, a batch-dependent entry) resolved where the sizes allow. */
function reshapeTarget(ctx: OpContext, x: GValue, target: number[]): { onnx: number[]; shape: number[] } {
  const inner = x.shape.filter((d) => d !== -1);
  const batched = x.shape.some((d) => d === -1);
  const unknown = target.filter((d) => d === -1 || Number.isNaN(d)).length;
  if (unknown > 2 || (unknown === 2 && !Number.isNaN(target[0]))) ctx.unsupported(`its target shape [${target.join(', ')}] has more than one unknown entry`);
  const known = sizeOf(target.filter((d) => d >= 0));
  const shape = target.map((d) => {
    if (Number.isNaN(d)) return -1; // the batch
    if (d !== -1) return d;
    // -1 next to the batch: the rest of the elements; -1 alone: it absorbs the batch.
    return unknown === 2 || !batched ? sizeOf(inner) / known : -1;
  });
  if (shape.some((d) => d !== -1 && !Number.isInteger(d))) ctx.unsupported(`[${x.shape.join(', ')}] does not reshape to [${target.join(', ')}]`);
  // ONNX: 0 copies the input's first dimension (the batch), -1 is inferred.
  const onnx = target.map((d, i) => (Number.isNaN(d) ? (unknown === 2 && i === 0 ? 0 : -1) : d));
  return { onnx, shape };
}

export function reshape(ctx: OpContext): GValue {
  const x = ctx.input(0);
  const target = Array.from(ctx.constant(1, 'shape').data);
  const { onnx, shape } = reshapeTarget(ctx, x, target);
  if (x.kind === 'const') return { ...x, shape };
  if (shape.length === 2 && shape[0] === -1 && x.shape.length === 4 && !sameElementOrder(x.shape, x.perm) && x.perm.join() === NCHW.join()) {
    return flattenChw(ctx, x);
  }
  // Reshape reads elements in order: a layout that only moved size-1 axes can be reshaped as it is.
  const input = sameElementOrder(x.shape, x.perm) ? (x.perm[0] === 0 ? x : ctx.graph.tfjsOrder(x)) : ctx.graph.tfjsOrder(x);
  const name = ctx.graph.node('Reshape', [input.name, ctx.graph.int64(ctx.base('/shape'), onnx)], ctx.base());
  return ctx.tensorOf(name, shape, identity(shape.length));
}

export function squeeze(ctx: OpContext): GValue {
  const x = ctx.input(0);
  const rank = x.shape.length;
  const listed = ctx.attrs.has('squeeze_dims') ? ctx.attrs.ints('squeeze_dims', []) : ctx.attrs.ints('axis', []);
  const axes = listed.length > 0 ? listed.map((a) => axisOf(a, rank, ctx.node.name)) : x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
  for (const a of axes) if (x.shape[a] !== 1) ctx.unsupported(`axis ${a} has size ${x.shape[a]}, not 1`);
  const shape = x.shape.filter((_, i) => !axes.includes(i));
  if (x.kind === 'const') return { ...x, shape };
  const onnxAxes = axes.map((a) => x.perm.indexOf(a)).sort((p, q) => p - q);
  const name = ctx.graph.node('Squeeze', [x.name, ctx.graph.int64(ctx.base('/axes'), onnxAxes)], ctx.base());
  return ctx.tensorOf(name, shape, dropAxes(x.perm, axes));
}

export function expandDims(ctx: OpContext): GValue {
  const x = ctx.input(0);
  const [dim] = ctx.ints(1, 'axis');
  const axis = axisOf(dim, x.shape.length + 1, ctx.node.name);
  const shape = [...x.shape.slice(0, axis), 1, ...x.shape.slice(axis)];
  if (x.kind === 'const') return { ...x, shape };
  const input = ctx.graph.tfjsOrder(x);
  const name = ctx.graph.node('Unsqueeze', [input.name, ctx.graph.int64(ctx.base('/axes'), [axis])], ctx.base());
  return ctx.tensorOf(name, shape, identity(shape.length));
}

/** The same ONNX tensor seen through a tfjs Transpose by `p` (output axis j is input axis p[j]). */
function transposed(x: Tensor, p: number[]): Tensor {
  const inverse = invert(p);
  return { kind: 'tensor', name: x.name, shape: permute(x.shape, p), perm: x.perm.map((a) => inverse[a]), source: x.source && transposed(x.source, p) };
}

export function transpose(ctx: OpContext): GValue {
  const x = ctx.input(0);
  const p = ctx.ints(1, 'perm');
  if (p.length !== x.shape.length || [...p].sort().some((v, i) => v !== i)) ctx.unsupported(`perm [${p.join(', ')}] for rank ${x.shape.length}`);
  if (x.kind === 'const') return { ...x, shape: permute(x.shape, p), data: transposeData(x.data, x.shape, p) };
  return transposed(x, p);
}

export function concat(ctx: OpContext): GValue {
  const parts = ctx.inputs.slice(0, -1);
  const rank = parts[0].shape.length;
  const axis = axisOf(ctx.ints(ctx.inputs.length - 1, 'axis')[0], rank, ctx.node.name);
  if (parts.some((p) => p.shape.length !== rank)) ctx.unsupported('its inputs have different ranks');
  if (parts.every((p): p is Constant => p.kind === 'const')) return foldConcat(parts, axis);
  const shape = [...parts[0].shape];
  shape[axis] = parts.some((p) => p.shape[axis] === -1) ? -1 : parts.reduce((n, p) => n + p.shape[axis], 0);
  const g = ctx.graph;
  const first = parts.find((p): p is Tensor => p.kind === 'tensor') as Tensor;
  const tensors = parts.map((_, i) => g.inPerm(ctx.tensor(i), first.perm));
  const name = g.node('Concat', tensors.map((t) => t.name), ctx.base(), { axis: attr.int(first.perm.indexOf(axis)) });
  return ctx.tensorOf(name, shape, first.perm);
}

/** Pad, PadV2 (constant value) and MirrorPad (REFLECT). */
export function pad(ctx: OpContext): GValue {
  const x = ctx.tensor(0);
  const rank = x.shape.length;
  const paddings = ctx.ints(1, 'paddings');
  if (paddings.length !== rank * 2) ctx.unsupported(`paddings of ${paddings.length} values for rank ${rank}`);
  let mode = 'constant';
  if (ctx.op === 'MirrorPad') {
    mode = ctx.attrs.string('mode', 'REFLECT').toLowerCase();
    if (mode !== 'reflect') ctx.unsupported(`mode ${mode.toUpperCase()} (only REFLECT has an ONNX equivalent)`);
  }
  const g = ctx.graph;
  const pads = [...x.perm.map((a) => paddings[a * 2]), ...x.perm.map((a) => paddings[a * 2 + 1])];
  const inputs = [x.name, g.int64(ctx.base('/pads'), pads)];
  if (ctx.op === 'PadV2') {
    const value = ctx.constant(2, 'constant value');
    inputs.push(g.builder.weight(ctx.base('/value'), Float32Array.of(value.data[0]), []));
  }
  const shape = x.shape.map((d, i) => (d === -1 ? -1 : d + paddings[i * 2] + paddings[i * 2 + 1]));
  return ctx.tensorOf(g.node('Pad', inputs, ctx.base(), { mode: { s: mode } }), shape, x.perm);
}
