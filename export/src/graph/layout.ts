// Pure helpers for the graph translator's layouts. A run-time value keeps the tfjs (TensorFlow) shape it
// stands for plus a permutation: its ONNX tensor is the tfjs tensor transposed by `perm` (identity: same
// layout; [0, 3, 1, 2]: NCHW for an NHWC image). Ops that do not care about the layout keep it, so the
// Transposes an NHWC graph needs around ONNX's NCHW Conv and pooling are made only where layouts meet.

export const identity = (rank: number): number[] => Array.from({ length: rank }, (_, i) => i);

export const isIdentity = (perm: readonly number[]): boolean => perm.every((p, i) => p === i);

export function invert(perm: readonly number[]): number[] {
  const inverse = new Array<number>(perm.length);
  perm.forEach((p, i) => (inverse[p] = i));
  return inverse;
}

/** NHWC -> NCHW, the layout of ONNX Conv, pooling and BatchNormalization. */
export const NCHW = [0, 3, 1, 2];

/** `shape` transposed by `perm`. */
export const permute = <T>(shape: readonly T[], perm: readonly number[]): T[] => perm.map((p) => shape[p]);

/** Row-major strides of a shape. */
export function strides(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    out[i] = s;
    s *= shape[i];
  }
  return out;
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Transposes row-major `data` of `shape` by `perm` (output axis i is input axis perm[i]). */
export function transposeData<T extends Float32Array | Float64Array>(data: T, shape: readonly number[], perm: readonly number[]): T {
  if (isIdentity(perm)) return data;
  const inStrides = strides(shape);
  const outShape = permute(shape, perm);
  const out = new (data.constructor as new (n: number) => T)(data.length);
  const index = new Array<number>(outShape.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let offset = 0;
    for (let i = 0; i < index.length; i++) offset += index[i] * inStrides[perm[i]];
    out[o] = data[offset];
    for (let i = index.length - 1; i >= 0; i--) {
      if (++index[i] < outShape[i]) break;
      index[i] = 0;
    }
  }
  return out;
}

/** NumPy/TensorFlow broadcasting of two shapes (-1: unknown, the batch). */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x === 1) out.push(y);
    else if (y === 1 || x === y) out.push(x);
    else if (x === -1 || y === -1) out.push(-1);
    else throw new RangeError(`Shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast.`);
  }
  return out;
}

/**
 * Whether a value's ONNX elements are in tfjs order although its layout differs: true when the
 * permutation only moves axes of size 1 (an NCHW [N, C, 1, 1] is an NHWC [N, 1, 1, C] in memory).
 */
export function sameElementOrder(shape: readonly number[], perm: readonly number[]): boolean {
  const moved = perm.filter((p) => shape[p] !== 1);
  return moved.every((p, i) => i === 0 || moved[i - 1] < p);
}

/** The permutation left after the tfjs axes `removed` are dropped from a value of layout `perm`. */
export function dropAxes(perm: readonly number[], removed: readonly number[]): number[] {
  const kept = perm.filter((p) => !removed.includes(p));
  return kept.map((p) => p - removed.filter((r) => r < p).length);
}

/** Normalizes a possibly negative axis of a rank-`rank` tensor. */
export function axisOf(axis: number, rank: number, what: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new RangeError(`${what}: axis ${axis} is out of range for rank ${rank}.`);
  return a;
}
