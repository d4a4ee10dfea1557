// Helpers for wasm kernels built from the wasm backend's own kernels: calling a registered kernel
// directly (no engine, no tape), convolving with explicit padding, and reading the wasm heap.
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { tf } from './tf.js';

/** Runs the kernel registered as `name` for wasm; the caller owns (and must dispose) the result. */
export function callWasmKernel(
  name: string,
  backend: BackendWasm,
  inputs: Record<string, TensorInfo>,
  attrs: NamedAttrMap = {},
): TensorInfo {
  const kernel = tf.getKernel(name, 'wasm');
  if (kernel === undefined) throw new Error(`Kernel '${name}' is not registered for backend 'wasm'.`);
  const out = kernel.kernelFunc({ inputs, backend, attrs });
  if (Array.isArray(out)) throw new TypeError(`Kernel '${name}' returned ${out.length} tensors; expected one.`);
  return out;
}

export function transposeWasm(backend: BackendWasm, x: TensorInfo, perm: number[]): TensorInfo {
  return callWasmKernel('Transpose', backend, { x }, { perm });
}

/**
 * Stride-1 NHWC convolution with explicit, non-negative padding (top, bottom, left, right), run by the
 * wasm backend's XNNPACK Conv2D kernel.
 */
export function conv2dExplicitWasm(
  backend: BackendWasm,
  x: TensorInfo,
  filter: TensorInfo,
  [top, bottom, left, right]: [number, number, number, number],
): TensorInfo {
  return callWasmKernel('Conv2D', backend, { x, filter }, {
    strides: [1, 1],
    pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
    dataFormat: 'NHWC',
    dilations: [1, 1],
  });
}

/** A float32 view of a tensor's data on the wasm heap; take it after the last allocation (the heap may grow). */
export function heapF32(backend: BackendWasm, t: TensorInfo): Float32Array {
  if (t.dtype !== 'float32') throw new TypeError(`Expected a float32 tensor, got ${t.dtype}.`);
  return backend.typedArrayFromHeap(t) as Float32Array;
}

/**
 * The whole wasm heap as float32 and where tensors start in it (in elements), for copyWithin between
 * tensors without a view object per copy. Take it after the last allocation (the heap may grow).
 */
export function heapWithOffsets(backend: BackendWasm, ...tensors: TensorInfo[]): [Float32Array, ...number[]] {
  const heap = new Float32Array(backend.typedArrayFromHeap(tensors[0]).buffer);
  return [heap, ...tensors.map((t) => backend.getMemoryOffset(t.dataId) / Float32Array.BYTES_PER_ELEMENT)];
}

export function disposeWasm(backend: BackendWasm, ...tensors: TensorInfo[]): void {
  for (const t of tensors) backend.disposeData(t.dataId);
}
