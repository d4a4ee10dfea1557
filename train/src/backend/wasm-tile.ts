// Tile for the wasm backend by block copies on the heap. The built-in walks every output element
// (about 20M elements/s); FusedBatchNorm's gradient tiles [1,1,1,C] to the whole activation each step.
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { KernelConfig, KernelFunc, TensorInfo, TileAttrs } from '@tensorflow/tfjs-core';
import { tf } from './tf.js';

/** Above this many contiguous rows of x to place, the built-in's element loop is no slower than ours. */
const MAX_SOURCE_ROWS = 1 << 16;

type HeapArray = Float32Array | Int32Array | Uint8Array;

function canTile(x: TensorInfo, reps: number[]): boolean {
  if (x.dtype === 'string' || x.dtype === 'complex64' || x.shape.length === 0 || reps.length !== x.shape.length) return false;
  const rows = x.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  return rows <= MAX_SOURCE_ROWS && x.shape.every((d) => d > 0) && reps.every((r) => r > 0);
}

/**
 * Writes x into the corner of the output, then, from the innermost axis out, repeats each filled block
 * along that axis by doubling copies (copyWithin), so every output element is written once.
 */
function tileInto(src: HeapArray, dst: HeapArray, shape: number[], reps: number[]): void {
  const rank = shape.length;
  const outShape = shape.map((d, i) => d * reps[i]);
  const outStrides = tf.util.computeStrides(outShape).concat(1);
  const last = shape[rank - 1];

  // Visits the offsets of blocks whose indices on axes < `axis` are all inside x.
  const forEachBase = (axis: number, visit: (offset: number) => void): void => {
    const walk = (d: number, offset: number): void => {
      if (d === axis) {
        visit(offset);
        return;
      }
      for (let i = 0; i < shape[d]; i++) walk(d + 1, offset + i * outStrides[d]);
    };
    walk(0, 0);
  };

  let row = 0;
  forEachBase(rank - 1, (offset) => {
    dst.set(src.subarray(row * last, (row + 1) * last), offset);
    row++;
  });
  for (let axis = rank - 1; axis >= 0; axis--) {
    if (reps[axis] === 1) continue;
    const block = shape[axis] * outStrides[axis];
    const total = block * reps[axis];
    forEachBase(axis, (offset) => {
      for (let filled = block; filled < total; filled *= 2) {
        dst.copyWithin(offset + filled, offset, offset + Math.min(filled, total - filled));
      }
    });
  }
}

/** Tile on wasm; shapes outside the fast path go to `fallback`, the built-in kernel. */
export function makeTileConfig(fallback: KernelConfig | undefined): KernelConfig {
  const tile = (args: { inputs: { x?: TensorInfo }; backend: BackendWasm; attrs: TileAttrs }): TensorInfo | TensorInfo[] => {
    const { inputs, backend, attrs } = args;
    const { x } = inputs;
    if (x === undefined) throw new TypeError('Tile needs input "x".');
    const reps = attrs.reps;
    if (!canTile(x, reps)) {
      if (fallback === undefined) throw new RangeError(`Tile of a ${x.dtype} tensor of shape [${x.shape.join(',')}] is not supported on wasm.`);
      return fallback.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
    }
    const out = backend.makeOutput(x.shape.map((d, i) => d * reps[i]), x.dtype);
    tileInto(backend.typedArrayFromHeap(x) as HeapArray, backend.typedArrayFromHeap(out) as HeapArray, x.shape, reps);
    return out;
  };
  return {
    kernelName: 'Tile',
    backendName: 'wasm',
    kernelFunc: tile as unknown as KernelFunc,
    // The engine runs setup for the kernels registered when the backend starts: the fallback needs its own.
    setupFunc: fallback?.setupFunc,
  };
}
