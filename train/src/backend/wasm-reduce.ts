// Sum and Mean over leading axes for the wasm backend, as one pass over memory. The built-ins first
// transpose the reduced axes innermost, which makes them about 7x slower on an NHWC activation;
// BatchNormalization reduces over [0,1,2] (batch, height, width) in its forward pass and gradient.
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { KernelConfig, KernelFunc, SumAttrs, TensorInfo } from '@tensorflow/tfjs-core';
import { tf } from './tf.js';

/** The number k when `axis` names exactly the axes 0..k-1 of x; undefined otherwise. */
function leadingAxes(x: TensorInfo, axis: number | number[]): number | undefined {
  const axes = tf.util.parseAxisParam(axis, x.shape);
  if (axes.length === 0 || x.dtype !== 'float32') return undefined;
  const sorted = [...new Set(axes)].sort((a, b) => a - b);
  return sorted.every((a, i) => a === i) ? sorted.length : undefined;
}

function reduceLeading(backend: BackendWasm, x: TensorInfo, k: number, keepDims: boolean, divisor: number): TensorInfo {
  const kept = x.shape.slice(k);
  const columns = kept.reduce((a, b) => a * b, 1);
  const rows = x.shape.slice(0, k).reduce((a, b) => a * b, 1);
  const out = backend.makeOutput(keepDims ? [...x.shape.slice(0, k).map(() => 1), ...kept] : kept, 'float32');
  const src = backend.typedArrayFromHeap(x) as Float32Array;
  const acc = backend.typedArrayFromHeap(out) as Float32Array;
  acc.fill(0);
  let r = 0;
  // Four rows per pass over the accumulator: about twice as fast as one.
  for (; r + 3 < rows; r += 4) {
    const [b0, b1, b2, b3] = [r * columns, (r + 1) * columns, (r + 2) * columns, (r + 3) * columns];
    for (let c = 0; c < columns; c++) acc[c] += src[b0 + c] + src[b1 + c] + (src[b2 + c] + src[b3 + c]);
  }
  for (; r < rows; r++) {
    const base = r * columns;
    for (let c = 0; c < columns; c++) acc[c] += src[base + c];
  }
  if (divisor !== 1) for (let c = 0; c < columns; c++) acc[c] /= divisor;
  return out;
}

function makeReduceConfig(kernelName: 'Sum' | 'Mean', fallback: KernelConfig | undefined): KernelConfig {
  const reduce = (args: { inputs: { x?: TensorInfo }; backend: BackendWasm; attrs: SumAttrs }): TensorInfo | TensorInfo[] => {
    const { inputs, backend, attrs } = args;
    const { x } = inputs;
    if (x === undefined) throw new TypeError(`${kernelName} needs input "x".`);
    const k = leadingAxes(x, attrs.axis);
    const size = x.shape.reduce((a, b) => a * b, 1);
    if (k === undefined || size === 0) {
      if (fallback === undefined) throw new RangeError(`${kernelName} over axes ${String(attrs.axis)} is not supported on wasm.`);
      return fallback.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
    }
    const rows = x.shape.slice(0, k).reduce((a, b) => a * b, 1);
    return reduceLeading(backend, x, k, attrs.keepDims, kernelName === 'Mean' ? rows : 1);
  };
  return {
    kernelName,
    backendName: 'wasm',
    kernelFunc: reduce as unknown as KernelFunc,
    // The engine runs setup for the kernels registered when the backend starts: the fallback needs its own.
    setupFunc: fallback?.setupFunc,
  };
}

/** Sum on wasm; reductions other than over leading axes of a float32 tensor go to `fallback`, the built-in. */
export function makeSumConfig(fallback: KernelConfig | undefined): KernelConfig {
  return makeReduceConfig('Sum', fallback);
}

/** Mean on wasm; reductions other than over leading axes of a float32 tensor go to `fallback`, the built-in. */
export function makeMeanConfig(fallback: KernelConfig | undefined): KernelConfig {
  return makeReduceConfig('Mean', fallback);
}
