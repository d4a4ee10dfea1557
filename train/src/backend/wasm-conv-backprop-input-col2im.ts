// Conv2DBackpropInput on wasm for few input channels (model3's RGB stem), where a convolution producing
// dx would have that few output channels and XNNPACK runs at a fraction of its speed.
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { backend_util, TensorInfo } from '@tensorflow/tfjs-core';
import { callWasmKernel, disposeWasm, heapF32, heapWithOffsets } from './wasm-kernel-call.js';

/**
 * dx by columns: per image, cols[(oh,ow), (kh,kw,ci)] = dy[oh,ow,:] . W[kh,kw,ci,:] (one XNNPACK product
 * with KH*KW*Cin outputs, its packed weights shared by all images), each column then added into the
 * input pixel it came from.
 */
export function conv2DBackpropInputByColumns(
  backend: BackendWasm,
  dy: TensorInfo,
  filter: TensorInfo,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const { batchSize: batch, inHeight: height, inWidth: width, inChannels: cin, outHeight: oh, outWidth: ow } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, outChannels: cout } = info;
  const { top, left } = info.padInfo;
  const n = kh * kw * cin;
  const weights = backend.makeOutput([1, cout, n], 'float32');
  {
    const src = heapF32(backend, filter);
    const dst = heapF32(backend, weights);
    for (let i = 0; i < n; i++) for (let o = 0; o < cout; o++) dst[o * n + i] = src[i * cout + o];
  }
  const dx = backend.makeOutput(info.inShape, 'float32');
  backend.typedArrayFromHeap(dx).fill(0);
  for (let b = 0; b < batch; b++) {
    const image = backend.makeOutput([1, oh * ow, cout], 'float32');
    {
      const [heap, imageAt, dyAt] = heapWithOffsets(backend, image, dy);
      heap.copyWithin(imageAt, dyAt + b * oh * ow * cout, dyAt + (b + 1) * oh * ow * cout);
    }
    const cols = callWasmKernel('BatchMatMul', backend, { a: image, b: weights }, { transposeA: false, transposeB: false });
    disposeWasm(backend, image);
    const [heap, colsAt, dxAt] = heapWithOffsets(backend, cols, dx);
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        const from = colsAt + (y * ow + x) * n;
        for (let i = 0; i < kh; i++) {
          const row = y * sh + i - top;
          if (row < 0 || row >= height) continue;
          for (let j = 0; j < kw; j++) {
            const col = x * sw + j - left;
            if (col < 0 || col >= width) continue;
            const to = dxAt + ((b * height + row) * width + col) * cin;
            const tap = from + (i * kw + j) * cin;
            for (let c = 0; c < cin; c++) heap[to + c] += heap[tap + c];
          }
        }
      }
    }
    disposeWasm(backend, cols);
  }
  disposeWasm(backend, weights);
  return dx;
}
