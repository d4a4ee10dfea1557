// DepthwiseConv2dNativeBackpropFilter for the wasm backend (tfjs 4.22 has none), as passes over the heap.
//
// dW[kh,kw,c,m] = sum over b,oh,ow of xPadded[b, oh*sh + kh, ow*sw + kw, c] * dy[b, oh, ow, c*M + m].
// Plain JavaScript, because every channel has a sum of its own, which tfjs' XNNPACK kernels cannot compute
// without waste: as a depthwise convolution of x by dy (dy as an OHxOW filter), XNNPACK has microkernels
// for 1, 3, 4, 9 and 25 taps only and runs a larger filter as a grouped GEMM with one output column
// (measured 0.3-0.7 GMAC/s at MobileNet's shapes, against about 1.3 for the loops below); as a Conv2D or
// BatchMatMul it would compute all C x C channel pairs. Here the sums of one channel over a row of outputs
// stay in registers (nine of them for a 3x3 filter, sharing each dy load between nine products), about 4x
// faster than a loop adding every product to memory; sums are float64, like the cpu backend's.
// Timed by train/scripts/bench-wasm-kernels.ts.
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { DepthwiseConv2dNativeBackpropFilterAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { depthwiseGradInfo } from './wasm-depthwise-info.js';
import { disposeWasm, heapF32, heapWithOffsets } from './wasm-kernel-call.js';

/** Sizes of the padded input and the output, and the filter: what the passes below read. */
interface Geometry {
  batch: number;
  /** Padded x: rows, columns and channels C. */
  rows: number;
  cols: number;
  channels: number;
  /** Channel multiplier M: dy has C*M channels. */
  multiplier: number;
  outHeight: number;
  outWidth: number;
  strideHeight: number;
  strideWidth: number;
  filterHeight: number;
  filterWidth: number;
}

/**
 * x with its padding written out as zeros, [B, rows, cols, C], large enough for every window, so the passes
 * need no bounds checks; x itself (not to be disposed) when every window already lies inside it.
 */
function padInput(backend: BackendWasm, x: TensorInfo, info: ReturnType<typeof depthwiseGradInfo>): { xp: TensorInfo; rows: number; cols: number } {
  const [batch, height, width, c] = x.shape;
  const { top, left } = info.padInfo;
  const rows = Math.max(top + height, (info.outHeight - 1) * info.strideHeight + info.filterHeight);
  const cols = Math.max(left + width, (info.outWidth - 1) * info.strideWidth + info.filterWidth);
  if (top === 0 && left === 0 && rows === height && cols === width) return { xp: x, rows, cols };
  const xp = backend.makeOutput([batch, rows, cols, c], 'float32');
  const [heap, xAt, xpAt] = heapWithOffsets(backend, x, xp);
  const rowSize = cols * c;
  for (let b = 0; b < batch; b++) {
    for (let r = 0; r < rows; r++) {
      const to = xpAt + (b * rows + r) * rowSize;
      const xr = r - top;
      if (xr < 0 || xr >= height) {
        heap.fill(0, to, to + rowSize);
        continue;
      }
      const from = xAt + (b * height + xr) * width * c;
      heap.fill(0, to, to + left * c);
      heap.copyWithin(to + left * c, from, from + width * c);
      heap.fill(0, to + (left + width) * c, to + rowSize);
    }
  }
  return { xp, rows, cols };
}

/** acc[kh,kw,c*M+m] += the products for a 3x3 filter: per (image, output row, channel), nine sums in registers. */
function accumulate3x3(heap: Float32Array, xAt: number, dyAt: number, acc: Float64Array, g: Geometry): void {
  const { batch, rows, cols, channels: c, multiplier: m, outHeight, outWidth, strideHeight, strideWidth } = g;
  const k = c * m;
  const rowSize = cols * c;
  const xStep = strideWidth * c;
  const [c2, k2, k3, k4, k5, k6, k7, k8] = [2 * c, 2 * k, 3 * k, 4 * k, 5 * k, 6 * k, 7 * k, 8 * k];
  for (let b = 0; b < batch; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const row0 = xAt + (b * rows + oh * strideHeight) * rowSize;
      const dyRow = dyAt + (b * outHeight + oh) * outWidth * k;
      for (let ch = 0; ch < k; ch++) {
        let i0 = row0 + ((ch / m) | 0);
        let i1 = i0 + rowSize;
        let i2 = i1 + rowSize;
        let s00 = 0, s01 = 0, s02 = 0, s10 = 0, s11 = 0, s12 = 0, s20 = 0, s21 = 0, s22 = 0;
        for (let ow = 0, d = dyRow + ch; ow < outWidth; ow++, d += k, i0 += xStep, i1 += xStep, i2 += xStep) {
          const v = heap[d];
          s00 += heap[i0] * v;
          s01 += heap[i0 + c] * v;
          s02 += heap[i0 + c2] * v;
          s10 += heap[i1] * v;
          s11 += heap[i1 + c] * v;
          s12 += heap[i1 + c2] * v;
          s20 += heap[i2] * v;
          s21 += heap[i2 + c] * v;
          s22 += heap[i2 + c2] * v;
        }
        acc[ch] += s00;
        acc[k + ch] += s01;
        acc[k2 + ch] += s02;
        acc[k3 + ch] += s10;
        acc[k4 + ch] += s11;
        acc[k5 + ch] += s12;
        acc[k6 + ch] += s20;
        acc[k7 + ch] += s21;
        acc[k8 + ch] += s22;
      }
    }
  }
}

/** The same for any filter size: per filter row, three columns' sums at a time in registers, then one. */
function accumulateAnySize(heap: Float32Array, xAt: number, dyAt: number, acc: Float64Array, g: Geometry): void {
  const { batch, rows, cols, channels: c, multiplier: m, outHeight, outWidth, strideHeight, strideWidth } = g;
  const { filterHeight, filterWidth } = g;
  const k = c * m;
  const rowSize = cols * c;
  const xStep = strideWidth * c;
  for (let b = 0; b < batch; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const dyRow = dyAt + (b * outHeight + oh) * outWidth * k;
      for (let kh = 0; kh < filterHeight; kh++) {
        const row = xAt + (b * rows + oh * strideHeight + kh) * rowSize;
        let kw = 0;
        for (; kw + 3 <= filterWidth; kw += 3) {
          const tap = (kh * filterWidth + kw) * k;
          for (let ch = 0; ch < k; ch++) {
            let s0 = 0, s1 = 0, s2 = 0;
            for (let ow = 0, i = row + kw * c + ((ch / m) | 0), d = dyRow + ch; ow < outWidth; ow++, d += k, i += xStep) {
              const v = heap[d];
              s0 += heap[i] * v;
              s1 += heap[i + c] * v;
              s2 += heap[i + 2 * c] * v;
            }
            acc[tap + ch] += s0;
            acc[tap + k + ch] += s1;
            acc[tap + 2 * k + ch] += s2;
          }
        }
        for (; kw < filterWidth; kw++) {
          const tap = (kh * filterWidth + kw) * k;
          for (let ch = 0; ch < k; ch++) {
            let s = 0;
            for (let ow = 0, i = row + kw * c + ((ch / m) | 0), d = dyRow + ch; ow < outWidth; ow++, d += k, i += xStep) {
              s += heap[i] * heap[d];
            }
            acc[tap + ch] += s;
          }
        }
      }
    }
  }
}

function depthwiseConv2dNativeBackpropFilter(args: {
  inputs: { x?: TensorInfo; dy?: TensorInfo };
  backend: BackendWasm;
  attrs: DepthwiseConv2dNativeBackpropFilterAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs;
  const name = 'DepthwiseConv2dNativeBackpropFilter';
  if (x === undefined || dy === undefined) throw new TypeError(`${name} needs inputs "x" and "dy".`);
  if (x.dtype !== 'float32') throw new TypeError(`${name} on wasm: x must be float32, got ${x.dtype}.`);
  const info = depthwiseGradInfo(name, x.shape as [number, number, number, number], attrs.filterShape, dy, attrs);
  const { xp, rows, cols } = padInput(backend, x, info);
  const g: Geometry = {
    batch: info.batchSize,
    rows,
    cols,
    channels: info.inChannels,
    multiplier: info.outChannels / info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
  };
  // Sums over a large batch and image are long: float64 keeps them as exact as the cpu backend's.
  const acc = new Float64Array(g.filterHeight * g.filterWidth * info.outChannels);
  const [heap, xpAt, dyAt] = heapWithOffsets(backend, xp, dy);
  if (g.filterHeight === 3 && g.filterWidth === 3) accumulate3x3(heap, xpAt, dyAt, acc, g);
  else accumulateAnySize(heap, xpAt, dyAt, acc, g);
  if (xp !== x) disposeWasm(backend, xp);
  const dw = backend.makeOutput(attrs.filterShape, 'float32');
  heapF32(backend, dw).set(acc);
  return dw;
}

export const depthwiseConv2dNativeBackpropFilterConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropFilter',
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropFilter as unknown as KernelFunc,
};
