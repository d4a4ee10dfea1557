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
import { callWasmKernel, disposeWasm, disposeWasmView, heapWithOffsets, transposeWasm, wasmView } from './wasm-kernel-call.js';

/**
 * Reduction length aimed at per XNNPACK product (output rows are grouped up to it): longer products
 * stream their operands from memory, shorter ones pay more per-call and summing overhead.
 */
const PRODUCT_DEPTH = 1024;

/** byTaps: stride-1 gradients by backpropFilterByTaps (default); false for the row-gathering path only (bench-train-ab.ts). */
export const conv2DBackpropFilterOptions = { byTaps: true };

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

/**
 * Stride 1, without JavaScript touching the activations: x padded (one spare row below) and transposed
 * to X[r, ci, b, w] over the padded width Wp = OW + KW - 1, dy padded to that width with zeros and
 * transposed to D[oh, b, w, co]. For output row oh and tap (kh, kw), the [Cin, B*Wp] block of X from
 * (oh + kh, 0, 0, kw) read with row stride B*Wp is x's window at every (b, w); the positions w >= OW it
 * also covers (which run into the next image or channel, or the spare row) meet D's zero columns. So each
 * tap's share of row oh is one XNNPACK product of views, no copies, and the 9 taps of a 3x3 kernel share
 * row oh's packed weights. The price is Wp/OW more multiply-adds (3.6% at 56 columns, 7.1% at 28).
 */
function backpropFilterByTaps(backend: BackendWasm, x: TensorInfo, dy: TensorInfo, info: ReturnType<typeof tf.backend_util.computeConv2DInfo>): TensorInfo {
  const { batchSize: batch, filterHeight: kh, filterWidth: kw, inChannels: cin, outChannels: cout, outHeight: oh, outWidth: ow } = info;
  const [wp, hp] = [ow + kw - 1, oh + kh - 1];
  const { top, left } = info.padInfo;
  const xp = callWasmKernel('PadV2', backend, { x }, { paddings: [[0, 0], [top, hp + 1 - info.inHeight - top], [left, wp - info.inWidth - left], [0, 0]], constantValue: 0 });
  const xt = transposeWasm(backend, xp, [1, 3, 0, 2]); // [Hp + 1, Cin, B, Wp]
  disposeWasm(backend, xp);
  const dyp = callWasmKernel('PadV2', backend, { x: dy }, { paddings: [[0, 0], [0, 0], [0, wp - ow], [0, 0]], constantValue: 0 });
  const dyt = transposeWasm(backend, dyp, [1, 0, 2, 3]); // [OH, B, Wp, Cout]
  disposeWasm(backend, dyp);
  const k = batch * wp;
  const sums: (TensorInfo | undefined)[] = new Array(kh * kw).fill(undefined);
  for (let o = 0; o < oh; o++) {
    const weights = wasmView(backend, dyt, o * k * cout, [1, k, cout]);
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const window = wasmView(backend, xt, (o + i) * cin * k + j, [1, cin, k]);
        const product = callWasmKernel('BatchMatMul', backend, { a: window, b: weights }, { transposeA: false, transposeB: false });
        disposeWasmView(backend, window);
        const sum = sums[i * kw + j];
        if (sum === undefined) {
          sums[i * kw + j] = product;
        } else {
          sums[i * kw + j] = callWasmKernel('Add', backend, { a: sum, b: product });
          disposeWasm(backend, sum, product);
        }
      }
    }
    disposeWasmView(backend, weights);
  }
  disposeWasm(backend, xt, dyt);
  const dw = backend.makeOutput([kh, kw, cin, cout], 'float32');
  const parts = sums as TensorInfo[];
  const [heap, dwAt, ...partAt] = heapWithOffsets(backend, dw, ...parts);
  for (const [t, at] of partAt.entries()) heap.copyWithin(dwAt + t * cin * cout, at, at + cin * cout);
  disposeWasm(backend, ...parts);
  return dw;
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

  if (conv2DBackpropFilterOptions.byTaps && info.strideHeight === 1 && info.strideWidth === 1 && oh > 0 && ow > 0 && info.inHeight - info.padInfo.top <= oh + kh - 1 && info.inWidth - info.padInfo.left <= ow + kw - 1) {
    return backpropFilterByTaps(backend, x, dy, info);
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
