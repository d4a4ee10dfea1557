// Conv2DBackpropFilter for the wasm backend (tfjs 4.22 has none), as a sum of XNNPACK matrix products.
//
// dW[kh,kw,ci,co] = sum over oh of (sum over b,ow of xPadded[b, oh*sh + kh, ow*sw + kw, ci] * dy[b,oh,ow,co]).
// x is rearranged once into rows R[r, kw, ci, (b,ow)] = xPadded[b, r, ow*sw + kw, ci], r over the padded
// rows the windows touch. For output row oh, the KH rows from oh*sh are one contiguous [KH*KW*Cin, B*OW]
// matrix; its product with dy's row oh as [B*OW, Cout] is that row's share of dW. Products over a few
// output rows at a time keep XNNPACK's operands in cache: one convolution of x transposed to [Cin,H,W,B]
// by dy transposed to [OH,OW,B,Cout] (dilated by the stride), which reduces over all of B*OH*OW at once,
// measured about 1.3x slower at model3's shapes (train/scripts/bench-wasm-kernels.ts).
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { Conv2DBackpropFilterAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { tf } from './tf.js';
import { callWasmKernel, disposeWasm, heapWithOffsets, transposeWasm } from './wasm-kernel-call.js';

/**
 * Reduction length aimed at per XNNPACK product (output rows are grouped up to it): longer products
 * stream their operands from memory, shorter ones pay more per-call and summing overhead.
 */
const PRODUCT_DEPTH = 1024;

interface RowGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  filterWidth: number;
  outWidth: number;
  strideWidth: number;
  padTop: number;
  padLeft: number;
  rows: number;
}

/** R[r, kw, ci, b, ow] = x[b, r - padTop, ow*sw + kw - padLeft, ci], zero outside x. */
function gatherRows(backend: BackendWasm, x: TensorInfo, g: RowGeometry): TensorInfo {
  const { batch, inHeight, inWidth, inChannels: cin, filterWidth: kw, outWidth: ow, strideWidth: sw } = g;
  const xt = transposeWasm(backend, x, [1, 3, 0, 2]); // [H, Cin, B, W]: each (row, ci, b) is one run of W
  const rowSize = kw * cin * batch * ow;
  const rows = backend.makeOutput([g.rows, kw, cin, batch, ow], 'float32');
  const [heap, xtAt, rowsAt] = heapWithOffsets(backend, xt, rows);
  for (let r = 0; r < g.rows; r++) {
    const xr = r - g.padTop;
    const rowAt = rowsAt + r * rowSize;
    if (xr < 0 || xr >= inHeight) {
      heap.fill(0, rowAt, rowAt + rowSize);
      continue;
    }
    for (let k = 0; k < kw; k++) {
      const shift = k - g.padLeft; // x column = ow*sw + shift
      const first = Math.min(ow, Math.max(0, Math.ceil(-shift / sw)));
      const end = Math.max(first, Math.min(ow, Math.floor((inWidth - 1 - shift) / sw) + 1));
      for (let c = 0; c < cin; c++) {
        for (let b = 0; b < batch; b++) {
          const src = xtAt + ((xr * cin + c) * batch + b) * inWidth + shift;
          const dst = rowAt + ((k * cin + c) * batch + b) * ow;
          heap.fill(0, dst, dst + first);
          heap.fill(0, dst + end, dst + ow);
          if (sw === 1) {
            heap.copyWithin(dst + first, src + first, src + end);
          } else {
            for (let j = first; j < end; j++) heap[dst + j] = heap[src + j * sw];
          }
        }
      }
    }
  }
  disposeWasm(backend, xt);
  return rows;
}

function conv2DBackpropFilter(args: {
  inputs: { x?: TensorInfo; dy?: TensorInfo };
  backend: BackendWasm;
  attrs: Conv2DBackpropFilterAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs;
  if (x === undefined || dy === undefined) throw new TypeError('Conv2DBackpropFilter needs inputs "x" and "dy".');
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    tf.backend_util.convertConv2DDataFormat(dataFormat),
  );
  if (info.dataFormat !== 'channelsLast') {
    throw new RangeError(`Unsupported dataFormat "${dataFormat}" for Conv2DBackpropFilter on wasm. Expected one of: NHWC.`);
  }
  const { batchSize: batch, filterHeight: kh, filterWidth: kw, inChannels: cin, outChannels: cout } = info;
  const { strideHeight: sh, outHeight: oh, outWidth: ow } = info;
  const expected = [batch, oh, ow, cout];
  if (dy.shape.some((d, i) => d !== expected[i])) {
    throw new RangeError(`Conv2DBackpropFilter: dy has shape [${dy.shape.join(',')}], expected [${expected.join(',')}].`);
  }

  const rows = gatherRows(backend, x, {
    batch,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: cin,
    filterWidth: kw,
    outWidth: ow,
    strideWidth: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
    rows: (oh - 1) * sh + kh,
  });
  const m = kh * kw * cin;
  const k = batch * ow;
  const rowSize = kw * cin * k;
  const rowsPerProduct = Math.max(1, Math.min(oh, Math.floor(PRODUCT_DEPTH / k)));
  let sum: TensorInfo | undefined;
  for (let o = 0; o < oh; o += rowsPerProduct) {
    const g = Math.min(rowsPerProduct, oh - o);
    const a = backend.makeOutput([1, m, g * k], 'float32');
    // A fresh weights tensor per product: XNNPACK caches its packed weights by tensor id.
    const w = backend.makeOutput([1, g * k, cout], 'float32');
    const [heap, rowsAt, aAt, wAt, dyAt] = heapWithOffsets(backend, rows, a, w, dy);
    for (let j = 0; j < g; j++) {
      const bandAt = rowsAt + (o + j) * sh * rowSize;
      if (g === 1) heap.copyWithin(aAt, bandAt, bandAt + m * k);
      else for (let i = 0; i < m; i++) heap.copyWithin(aAt + (i * g + j) * k, bandAt + i * k, bandAt + (i + 1) * k);
      for (let b = 0; b < batch; b++) {
        const from = dyAt + (b * oh + o + j) * ow * cout;
        heap.copyWithin(wAt + (j * batch + b) * ow * cout, from, from + ow * cout);
      }
    }
    const product = callWasmKernel('BatchMatMul', backend, { a, b: w }, { transposeA: false, transposeB: false });
    disposeWasm(backend, a, w);
    if (sum === undefined) {
      sum = product;
    } else {
      const next = callWasmKernel('Add', backend, { a: sum, b: product });
      disposeWasm(backend, sum, product);
      sum = next;
    }
  }
  disposeWasm(backend, rows);
  if (sum === undefined) throw new RangeError('Conv2DBackpropFilter: dy has no rows.');
  return { ...sum, shape: [kh, kw, cin, cout] };
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as KernelFunc,
};
