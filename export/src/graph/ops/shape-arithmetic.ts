// Shape arithmetic that tfjs-converter leaves in graphs (Keras' Flatten: Shape -> StridedSlice -> Pack ->
// Reshape): computed at export time. The batch size is unknown then, so it is carried as NaN, and a Reshape
// turns it into ONNX's "copy this dimension" or "infer this dimension".
import type { Constant, GValue, OpContext } from '../context.js';
import { axisOf } from '../layout.js';
import { constant, foldConcat, isFloat } from './fold.js';

function folded(ctx: OpContext, i: number, what: string): Constant {
  const value = ctx.input(i);
  if (value.kind !== 'const') ctx.unsupported(`its ${what} is computed at run time; this op is supported on constants only (shape arithmetic)`);
  return value;
}

export function shapeOf(ctx: OpContext): GValue {
  const x = ctx.input(0);
  return constant('int32', [x.shape.length], x.shape.map((d) => (d === -1 ? NaN : d)));
}

export function stridedSlice(ctx: OpContext): GValue {
  const x = folded(ctx, 0, 'input');
  const [begin, end, strides] = [1, 2, 3].map((i) => Array.from(folded(ctx, i, 'slice bounds').data));
  const mask = (name: string): number => ctx.attrs.int(name, 0);
  if (x.shape.length !== 1 || begin.length !== 1 || mask('ellipsis_mask') || mask('new_axis_mask')) {
    ctx.unsupported('only a 1-D StridedSlice without ellipsis or new axes is supported (shape arithmetic)');
  }
  const n = x.shape[0];
  const stride = strides[0];
  if (!stride) ctx.unsupported('stride 0');
  const resolve = (v: number): number => (v < 0 ? v + n : v);
  if (mask('shrink_axis_mask') & 1) {
    const i = resolve(begin[0]);
    if (i < 0 || i >= n) ctx.unsupported(`index ${begin[0]} out of range for ${n} values`);
    return constant(x.dtype, [], [x.data[i]]);
  }
  const values: number[] = [];
  const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi);
  if (stride > 0) {
    const from = mask('begin_mask') & 1 ? 0 : clamp(resolve(begin[0]), 0, n);
    const to = mask('end_mask') & 1 ? n : clamp(resolve(end[0]), 0, n);
    for (let i = from; i < to; i += stride) values.push(x.data[i]);
  } else {
    const from = mask('begin_mask') & 1 ? n - 1 : clamp(resolve(begin[0]), -1, n - 1);
    const to = mask('end_mask') & 1 ? -1 : clamp(resolve(end[0]), -1, n - 1);
    for (let i = from; i > to; i += stride) values.push(x.data[i]);
  }
  return constant(x.dtype, [values.length], values);
}

export function pack(ctx: OpContext): GValue {
  const parts = ctx.inputs.map((_, i) => folded(ctx, i, `input ${i}`));
  const axis = axisOf(ctx.attrs.int('axis', 0), parts[0].shape.length + 1, ctx.node.name);
  const expanded = parts.map((p) => ({ ...p, shape: [...p.shape.slice(0, axis), 1, ...p.shape.slice(axis)] }));
  return foldConcat(expanded, axis);
}

export function prod(ctx: OpContext): GValue {
  const x = folded(ctx, 0, 'input');
  if (x.shape.length > 1) ctx.unsupported('only a Prod over a vector is supported (shape arithmetic)');
  const product = Array.from(x.data).reduce((a, b) => a * b, 1);
  return constant(x.dtype, ctx.attrs.bool('keep_dims', false) ? [1] : [], [product]);
}

export function cast(ctx: OpContext): GValue {
  const x = ctx.input(0);
  const to = ctx.attrs.type('DstT', 'DT_FLOAT');
  const toFloat = to === 'DT_FLOAT' || to === 'DT_HALF';
  if (x.kind === 'tensor') return toFloat ? x : ctx.unsupported(`a cast of a run-time tensor to ${to}`);
  const dtype = toFloat ? 'float32' : to === 'DT_BOOL' ? 'bool' : 'int32';
  const values = Array.from(x.data, (v) => (toFloat ? v : dtype === 'bool' ? Number(v !== 0) : isFloat(x.dtype) ? Math.trunc(v) : v));
  return constant(dtype, x.shape, values);
}

/** Slice of a constant vector (begin, size; size -1 to the end). */
export function slice(ctx: OpContext): GValue {
  const x = folded(ctx, 0, 'input');
  const [begin] = Array.from(folded(ctx, 1, 'begin').data);
  const [size] = Array.from(folded(ctx, 2, 'size').data);
  if (x.shape.length !== 1) ctx.unsupported('only a 1-D Slice is supported (shape arithmetic)');
  const values = Array.from(x.data).slice(begin, size === -1 ? undefined : begin + size);
  return constant(x.dtype, [values.length], values);
}

/** GatherV2 from a constant vector along axis 0. */
export function gather(ctx: OpContext): GValue {
  const x = folded(ctx, 0, 'params');
  const indices = folded(ctx, 1, 'indices');
  const [axis] = Array.from(folded(ctx, 2, 'axis').data);
  if (x.shape.length !== 1 || axis !== 0 || ctx.attrs.int('batch_dims', 0) !== 0) ctx.unsupported('only a GatherV2 from a vector is supported (shape arithmetic)');
  const values = Array.from(indices.data, (i) => {
    const at = i < 0 ? i + x.shape[0] : i;
    if (at < 0 || at >= x.shape[0]) ctx.unsupported(`index ${i} out of range for ${x.shape[0]} values`);
    return x.data[at];
  });
  return constant(x.dtype, indices.shape, values);
}

/** Size (element count, NaN when it depends on the batch) and Rank. */
export function sizeOrRank(ctx: OpContext): GValue {
  const x = ctx.input(0);
  const size = x.shape.reduce((n, d) => n * (d === -1 ? NaN : d), 1);
  return constant('int32', [], [ctx.op === 'Rank' ? x.shape.length : size]);
}
