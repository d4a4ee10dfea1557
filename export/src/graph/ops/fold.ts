// Constant folding: ops whose inputs are all known at export time are computed here, in float64 for
// integer tensors (NaN stands for a batch-dependent value) and rounded to float32 for float tensors, as
// tfjs computes them. This is how the shape arithmetic in front of a Reshape (Shape -> StridedSlice ->
// Pack) becomes the constant target shape ONNX needs.
import { broadcastShapes, sizeOf, strides } from '../layout.js';
import type { Constant } from '../context.js';

export const isFloat = (dtype: string): boolean => dtype.startsWith('float');

export function constant(dtype: string, shape: number[], values: ArrayLike<number>): Constant {
  return { kind: 'const', dtype, shape, data: isFloat(dtype) ? Float32Array.from(values) : Float64Array.from(values) };
}

export function foldUnary(c: Constant, fn: (x: number) => number): Constant {
  return constant(c.dtype, c.shape, Array.from(c.data, fn));
}

/** Elementwise with NumPy broadcasting. */
export function foldBinary(a: Constant, b: Constant, fn: (x: number, y: number) => number): Constant {
  const shape = broadcastShapes(a.shape, b.shape);
  const rank = shape.length;
  const stridesFor = (s: number[]): number[] => {
    const padded = [...new Array<number>(rank - s.length).fill(1), ...s];
    const st = strides(padded);
    return padded.map((d, i) => (d === 1 ? 0 : st[i]));
  };
  const sa = stridesFor(a.shape);
  const sb = stridesFor(b.shape);
  const out = new Array<number>(sizeOf(shape));
  const index = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let ia = 0;
    let ib = 0;
    for (let i = 0; i < rank; i++) {
      ia += index[i] * sa[i];
      ib += index[i] * sb[i];
    }
    out[o] = fn(a.data[ia], b.data[ib]);
    for (let i = rank - 1; i >= 0; i--) {
      if (++index[i] < shape[i]) break;
      index[i] = 0;
    }
  }
  return constant(isFloat(a.dtype) || isFloat(b.dtype) ? 'float32' : a.dtype, shape, out);
}

/** Concatenation along `axis` (all parts of the same rank). */
export function foldConcat(parts: Constant[], axis: number): Constant {
  const shape = [...parts[0].shape];
  shape[axis] = parts.reduce((n, p) => n + p.shape[axis], 0);
  const outer = sizeOf(shape.slice(0, axis));
  const out: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (const p of parts) {
      const inner = sizeOf(p.shape.slice(axis));
      for (let i = 0; i < inner; i++) out.push(p.data[o * inner + i]);
    }
  }
  return constant(parts[0].dtype, shape, out);
}
