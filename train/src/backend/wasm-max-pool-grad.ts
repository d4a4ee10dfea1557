// MaxPoolGrad for the wasm backend's common case, 2x2 windows with stride 2 and no padding (every pool in
// the presets), as one pass over the heap. The built-in recomputes each window's maximum for every dx
// element it touches: about 440 ms against 100 ms per model3 step at 224, batch 16
// (train/scripts/bench-train.ts --profile).
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { KernelConfig, KernelFunc, MaxPoolGradAttrs, TensorInfo } from '@tensorflow/tfjs-core';
import { tf } from './tf.js';
import { heapWithOffsets } from './wasm-kernel-call.js';

function isPlain2x2(x: TensorInfo, dy: TensorInfo, attrs: MaxPoolGradAttrs): boolean {
  if (x.dtype !== 'float32' || x.shape.length !== 4 || dy.shape.length !== 4) return false;
  const info = tf.backend_util.computePool2DInfo(x.shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const { top, bottom, left, right } = info.padInfo;
  return (
    info.filterHeight === 2 && info.filterWidth === 2 && info.strideHeight === 2 && info.strideWidth === 2 &&
    info.dilationHeight === 1 && info.dilationWidth === 1 && top + bottom + left + right === 0 &&
    dy.shape.every((d, i) => d === info.outShape[i])
  );
}

/**
 * dy of each window goes to the window's first maximum in row-major order (as in the cpu backend and
 * TensorFlow), every other element gets 0; rows and columns no window covers (odd sizes) get 0.
 */
function maxPoolGrad2x2(backend: BackendWasm, x: TensorInfo, dy: TensorInfo): TensorInfo {
  const [batch, height, width, channels] = x.shape;
  const [, outHeight, outWidth] = dy.shape;
  const dx = backend.makeOutput(x.shape, 'float32');
  const [heap, xAt, dyAt, dxAt] = heapWithOffsets(backend, x, dy, dx);
  if (height !== 2 * outHeight || width !== 2 * outWidth) heap.fill(0, dxAt, dxAt + batch * height * width * channels);
  const down = width * channels;
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < outHeight; i++) {
      for (let j = 0; j < outWidth; j++) {
        const corner = ((b * height + 2 * i) * width + 2 * j) * channels;
        const g = dyAt + ((b * outHeight + i) * outWidth + j) * channels;
        const [x00, x01, x10, x11] = [xAt + corner, xAt + corner + channels, xAt + corner + down, xAt + corner + down + channels];
        const [d00, d01, d10, d11] = [dxAt + corner, dxAt + corner + channels, dxAt + corner + down, dxAt + corner + down + channels];
        for (let c = 0; c < channels; c++) {
          let max = heap[x00 + c];
          let at = 0;
          if (heap[x01 + c] > max) [max, at] = [heap[x01 + c], 1];
          if (heap[x10 + c] > max) [max, at] = [heap[x10 + c], 2];
          if (heap[x11 + c] > max) at = 3;
          const v = heap[g + c];
          heap[d00 + c] = at === 0 ? v : 0;
          heap[d01 + c] = at === 1 ? v : 0;
          heap[d10 + c] = at === 2 ? v : 0;
          heap[d11 + c] = at === 3 ? v : 0;
        }
      }
    }
  }
  return dx;
}

/** MaxPoolGrad on wasm; windows other than 2x2/2 without padding go to `fallback`, the built-in. */
export function makeMaxPoolGradConfig(fallback: KernelConfig | undefined): KernelConfig {
  const kernel = (args: { inputs: { dy?: TensorInfo; input?: TensorInfo }; backend: BackendWasm; attrs: MaxPoolGradAttrs }): TensorInfo | TensorInfo[] => {
    const { inputs, backend, attrs } = args;
    const { dy, input } = inputs;
    if (dy === undefined || input === undefined) throw new TypeError('MaxPoolGrad needs inputs "dy" and "input".');
    if (isPlain2x2(input, dy, attrs)) return maxPoolGrad2x2(backend, input, dy);
    if (fallback === undefined) throw new RangeError(`MaxPoolGrad with filter ${String(attrs.filterSize)} and strides ${String(attrs.strides)} is not supported on wasm.`);
    return fallback.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
  };
  return {
    kernelName: 'MaxPoolGrad',
    backendName: 'wasm',
    kernelFunc: kernel as unknown as KernelFunc,
    // The engine runs setup for the kernels registered when the backend starts: the fallback needs its own.
    setupFunc: fallback?.setupFunc,
  };
}
