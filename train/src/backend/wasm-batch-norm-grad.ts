// BatchNormalization's whole training-mode gradient as one wasm kernel. tfjs differentiates the layer op
// by op (the batch mean, the variance's subtract-square-mean, FusedBatchNorm), and on wasm each op is a
// separate memory-bound pass over the activation, single-threaded: about 700 ms per model3 step at 224.
// With the batch statistics folded in, per channel (N values each, x̂ = (x - mean) * invStd):
//   dβ = Σ dy,  dγ = Σ dy·x̂,  dx = γ·invStd·(dy − dβ/N − x̂·dγ/N)
// which takes two passes: one summing (float64, like the cpu backend's reductions), one writing dx.
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { heapWithOffsets } from './wasm-kernel-call.js';

/** The kernel's name; registered for wasm only (train/src/backend/batch-norm-training.ts calls it). */
export const BATCH_NORM_GRAD = 'PetsBatchNormTrainingGrad';

export interface BatchNormGradAttrs {
  /** Added to the variance, as in the forward pass. */
  epsilon: number;
}

interface BatchNormGradInputs {
  x?: TensorInfo;
  dy?: TensorInfo;
  mean?: TensorInfo;
  variance?: TensorInfo;
  gamma?: TensorInfo;
}

function batchNormGrad(args: { inputs: BatchNormGradInputs; backend: BackendWasm; attrs: BatchNormGradAttrs }): TensorInfo[] {
  const { inputs, backend, attrs } = args;
  const { x, dy, mean, variance, gamma } = inputs;
  if (!x || !dy || !mean || !variance || !gamma) throw new TypeError(`${BATCH_NORM_GRAD} needs inputs "x", "dy", "mean", "variance" and "gamma".`);
  const channels = x.shape[x.shape.length - 1];
  const size = x.shape.reduce((a, b) => a * b, 1);
  for (const [name, t] of [['dy', dy], ['mean', mean], ['variance', variance], ['gamma', gamma]] as const) {
    const expected = name === 'dy' ? x.shape : [channels];
    if (t.dtype !== 'float32' || t.shape.length !== expected.length || t.shape.some((d, i) => d !== expected[i])) {
      throw new RangeError(`${BATCH_NORM_GRAD}: "${name}" is ${t.dtype} [${t.shape.join(',')}], expected float32 [${expected.join(',')}].`);
    }
  }
  const dx = backend.makeOutput(x.shape, 'float32');
  const dGamma = backend.makeOutput([channels], 'float32');
  const dBeta = backend.makeOutput([channels], 'float32');
  const [heap, xAt, dyAt, meanAt, varAt, gammaAt, dxAt, dGammaAt, dBetaAt] = heapWithOffsets(backend, x, dy, mean, variance, gamma, dx, dGamma, dBeta);
  const rows = size / channels;
  const m = Float64Array.from(heap.subarray(meanAt, meanAt + channels));
  const invStd = Float64Array.from(heap.subarray(varAt, varAt + channels), (v) => 1 / Math.sqrt(v + attrs.epsilon));
  const sumDy = new Float64Array(channels);
  const sumDyXc = new Float64Array(channels); // Σ dy·(x − mean)
  for (let r = 0, i = 0; r < rows; r++) {
    for (let c = 0; c < channels; c++, i++) {
      const g = heap[dyAt + i];
      sumDy[c] += g;
      sumDyXc[c] += g * (heap[xAt + i] - m[c]);
    }
  }
  const scale = new Float64Array(channels); // γ·invStd
  const shift = new Float64Array(channels); // dβ/N
  const slope = new Float64Array(channels); // invStd²·Σ dy·(x − mean)/N, the factor of (x − mean)
  for (let c = 0; c < channels; c++) {
    scale[c] = heap[gammaAt + c] * invStd[c];
    shift[c] = sumDy[c] / rows;
    slope[c] = (invStd[c] * invStd[c] * sumDyXc[c]) / rows;
    heap[dGammaAt + c] = sumDyXc[c] * invStd[c];
    heap[dBetaAt + c] = sumDy[c];
  }
  for (let r = 0, i = 0; r < rows; r++) {
    for (let c = 0; c < channels; c++, i++) {
      heap[dxAt + i] = scale[c] * (heap[dyAt + i] - shift[c] - (heap[xAt + i] - m[c]) * slope[c]);
    }
  }
  return [dx, dGamma, dBeta];
}

export const batchNormGradConfig: KernelConfig = {
  kernelName: BATCH_NORM_GRAD,
  backendName: 'wasm',
  kernelFunc: batchNormGrad as unknown as KernelFunc,
};
