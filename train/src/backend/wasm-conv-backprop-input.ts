// Conv2DBackpropInput for the wasm backend as XNNPACK convolutions (the built-in is a plain loop, about
// 10x slower at model3's shapes).
//
// dx[b,i,j,ci] = sum over kh,kw,co of dy[b,oh,ow,co] * W[kh,kw,ci,co] where i = oh*sh + kh - padTop. With
// stride 1 that is one convolution of dy by W flipped in space with in/out channels swapped
// ([KH,KW,Cout,Cin]), padded by KH-1-padTop on top. With stride s, the rows i with (i + padTop) % s == r
// only see the taps kh = r, r+s, ...: each of the s*s phases is a stride-1 convolution of dy by that
// sub-filter, scattered back into every s-th row and column of dx. (Inserting s-1 zeros between dy's
// rows and columns and convolving once does s*s times the work; that remains for explicit paddings the
// phases cannot express.)
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { Conv2DBackpropInputAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { tf } from './tf.js';
import { conv2dExplicitWasm, disposeWasm, heapF32, heapWithOffsets } from './wasm-kernel-call.js';

/** Below this many channels a scattered pixel is copied element by element rather than by copyWithin. */
const MIN_CHANNELS_FOR_BLOCK_COPY = 32;

/**
 * One phase along one axis: input positions q*s + r - pad, q in [first, first + count), which see the
 * `taps` kernel offsets r, r+s, ...; as a stride-1 convolution of dy that needs padBefore/padAfter.
 */
interface Phase {
  r: number;
  taps: number;
  first: number;
  count: number;
  padBefore: number;
  padAfter: number;
}

function phasesAlong(inSize: number, kernel: number, stride: number, pad: number, outSize: number): Phase[] {
  const phases: Phase[] = [];
  for (let r = 0; r < stride; r++) {
    const taps = r < kernel ? Math.ceil((kernel - r) / stride) : 0;
    const first = Math.ceil((pad - r) / stride);
    const count = Math.max(0, Math.floor((inSize - 1 + pad - r) / stride) - first + 1);
    phases.push({ r, taps, first, count, padBefore: taps - 1 - first, padAfter: count - outSize + first });
  }
  return phases;
}

/** F[t,u,co,ci] = W[rh + sh*(Th-1-t), rw + sw*(Tw-1-u), ci, co]: one phase's taps, flipped, channels swapped. */
function phaseFilter(backend: BackendWasm, filter: TensorInfo, [ph, pw]: [Phase, Phase], [sh, sw]: [number, number]): TensorInfo {
  const [, kw, cin, cout] = filter.shape;
  const out = backend.makeOutput([ph.taps, pw.taps, cout, cin], 'float32');
  const src = heapF32(backend, filter);
  const dst = heapF32(backend, out);
  for (let t = 0; t < ph.taps; t++) {
    for (let u = 0; u < pw.taps; u++) {
      const from = ((ph.r + sh * (ph.taps - 1 - t)) * kw + (pw.r + sw * (pw.taps - 1 - u))) * cin * cout;
      const to = (t * pw.taps + u) * cout * cin;
      for (let c = 0; c < cin; c++) {
        for (let o = 0; o < cout; o++) dst[to + o * cin + c] = src[from + c * cout + o];
      }
    }
  }
  return out;
}

/** Copies a phase's result [B, rows.count, cols.count, C] into every s-th row and column of dx. */
function scatterPhase(
  backend: BackendWasm,
  part: TensorInfo,
  dx: TensorInfo,
  [rows, cols]: [Phase, Phase],
  [sh, sw]: [number, number],
  [padTop, padLeft]: [number, number],
): void {
  const [batch, height, width, c] = dx.shape;
  const [heap, partAt, dxAt] = heapWithOffsets(backend, part, dx);
  let from = partAt;
  for (let b = 0; b < batch; b++) {
    for (let n = 0; n < rows.count; n++) {
      const i = (rows.first + n) * sh + rows.r - padTop;
      for (let m = 0; m < cols.count; m++, from += c) {
        const j = (cols.first + m) * sw + cols.r - padLeft;
        const to = dxAt + ((b * height + i) * width + j) * c;
        if (c >= MIN_CHANNELS_FOR_BLOCK_COPY) heap.copyWithin(to, from, from + c);
        else for (let k = 0; k < c; k++) heap[to + k] = heap[from + k];
      }
    }
  }
}

/**
 * dy [B,OH,OW,C] spread into zeros [B,height,width,C] at rows top + oh*sh and columns left + ow*sw
 * (positions outside are dropped: they reach no input pixel).
 */
function spreadWithZeros(
  backend: BackendWasm,
  dy: TensorInfo,
  [sh, sw]: [number, number],
  [top, left]: [number, number],
  [height, width]: [number, number],
): TensorInfo {
  const [batch, oh, ow, c] = dy.shape;
  const out = backend.makeOutput([batch, height, width, c], 'float32');
  const src = heapF32(backend, dy);
  const dst = heapF32(backend, out);
  dst.fill(0);
  for (let b = 0; b < batch; b++) {
    for (let y = 0; y < oh; y++) {
      const row = top + y * sh;
      if (row < 0 || row >= height) continue;
      for (let x = 0; x < ow; x++) {
        const col = left + x * sw;
        if (col < 0 || col >= width) continue;
        const from = ((b * oh + y) * ow + x) * c;
        dst.set(src.subarray(from, from + c), ((b * height + row) * width + col) * c);
      }
    }
  }
  return out;
}

function conv2DBackpropInput(args: {
  inputs: { dy?: TensorInfo; filter?: TensorInfo };
  backend: BackendWasm;
  attrs: Conv2DBackpropInputAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { dy, filter } = inputs;
  if (dy === undefined || filter === undefined) throw new TypeError('Conv2DBackpropInput needs inputs "dy" and "filter".');
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs;
  const info = tf.backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    tf.backend_util.convertConv2DDataFormat(dataFormat),
  );
  if (info.dataFormat !== 'channelsLast') {
    throw new RangeError(`Unsupported dataFormat "${dataFormat}" for Conv2DBackpropInput on wasm. Expected one of: NHWC.`);
  }
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { inHeight, inWidth, outHeight: oh, outWidth: ow } = info;
  const expected = [info.batchSize, oh, ow, info.outChannels];
  if (dy.shape.some((d, i) => d !== expected[i])) {
    throw new RangeError(`Conv2DBackpropInput: dy has shape [${dy.shape.join(',')}], expected [${expected.join(',')}].`);
  }

  const [padTop, padLeft] = [info.padInfo.top, info.padInfo.left];
  const rowPhases = phasesAlong(inHeight, kh, sh, padTop, oh);
  const colPhases = phasesAlong(inWidth, kw, sw, padLeft, ow);
  const fits = (p: Phase): boolean => p.taps === 0 || p.count === 0 || (p.padBefore >= 0 && p.padAfter >= 0);
  if (!rowPhases.every(fits) || !colPhases.every(fits)) return convolveSpread(backend, dy, filter, info);

  if (sh === 1 && sw === 1) {
    const [rows, cols] = [rowPhases[0], colPhases[0]];
    const flipped = phaseFilter(backend, filter, [rows, cols], [1, 1]);
    const dx = conv2dExplicitWasm(backend, dy, flipped, [rows.padBefore, rows.padAfter, cols.padBefore, cols.padAfter]);
    disposeWasm(backend, flipped);
    return dx;
  }
  const dx = backend.makeOutput(info.inShape, 'float32');
  const empty = (p: Phase): boolean => p.taps === 0 && p.count > 0;
  if (rowPhases.some(empty) || colPhases.some(empty)) backend.typedArrayFromHeap(dx).fill(0);
  for (const rows of rowPhases) {
    for (const cols of colPhases) {
      if (rows.taps === 0 || cols.taps === 0 || rows.count === 0 || cols.count === 0) continue;
      const taps = phaseFilter(backend, filter, [rows, cols], [sh, sw]);
      const part = conv2dExplicitWasm(backend, dy, taps, [rows.padBefore, rows.padAfter, cols.padBefore, cols.padAfter]);
      disposeWasm(backend, taps);
      scatterPhase(backend, part, dx, [rows, cols], [sh, sw], [padTop, padLeft]);
      disposeWasm(backend, part);
    }
  }
  return dx;
}

/** dx as one convolution of dy with zeros inserted (and cropped where the padding is negative). */
function convolveSpread(
  backend: BackendWasm,
  dy: TensorInfo,
  filter: TensorInfo,
  info: ReturnType<typeof tf.backend_util.computeConv2DInfo>,
): TensorInfo {
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, inHeight, inWidth } = info;
  const whole: [Phase, Phase] = [
    { r: 0, taps: kh, first: 0, count: 0, padBefore: 0, padAfter: 0 },
    { r: 0, taps: kw, first: 0, count: 0, padBefore: 0, padAfter: 0 },
  ];
  const flipped = phaseFilter(backend, filter, whole, [1, 1]);
  const origin: [number, number] = [kh - 1 - info.padInfo.top, kw - 1 - info.padInfo.left];
  const spread = spreadWithZeros(backend, dy, [sh, sw], origin, [inHeight + kh - 1, inWidth + kw - 1]);
  const dx = conv2dExplicitWasm(backend, spread, flipped, [0, 0, 0, 0]);
  disposeWasm(backend, spread, flipped);
  return dx;
}

/** Conv2DBackpropInput on wasm; NCHW goes to `fallback`, the built-in kernel (which supports it). */
export function makeConv2DBackpropInputConfig(fallback: KernelConfig | undefined): KernelConfig {
  const kernelFunc = (args: Parameters<typeof conv2DBackpropInput>[0]): TensorInfo | TensorInfo[] =>
    args.attrs.dataFormat === 'NCHW' && fallback !== undefined
      ? fallback.kernelFunc(args as unknown as Parameters<KernelFunc>[0])
      : conv2DBackpropInput(args);
  return {
    kernelName: 'Conv2DBackpropInput',
    backendName: 'wasm',
    kernelFunc: kernelFunc as unknown as KernelFunc,
    // The engine runs setup for the kernels registered when the backend starts: the fallback needs its own.
    setupFunc: fallback?.setupFunc,
  };
}
