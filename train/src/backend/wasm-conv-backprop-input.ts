// Conv2DBackpropInput for the wasm backend as XNNPACK convolutions (the built-in is a plain loop, about
// 10x slower at model3's shapes).
//
// dx[b,i,j,ci] = sum over kh,kw,co of dy[b,oh,ow,co] * W[kh,kw,ci,co] where i = oh*sh + kh - padTop. The
// rows i with (i + padTop) % sh == r only see the taps kh = r, r+sh, ..., so each of the sh*sw phases is
// a stride-1 convolution of dy by that sub-filter, flipped in space with in/out channels swapped,
// written to every sh-th row and sw-th column of dx. With stride 1 the one phase is dx itself. (Inserting
// zeros between dy's rows and columns and convolving once would do sh*sw times the work.)
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { Conv2DBackpropInputAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { tf } from './tf.js';
import { conv2DBackpropInputByColumns } from './wasm-conv-backprop-input-col2im.js';
import { conv2dExplicitWasm, disposeWasm, heapF32, heapWithOffsets } from './wasm-kernel-call.js';

/** From this many input channels dx is computed by convolutions, below by columns (col2im). */
const MIN_CHANNELS_FOR_CONVOLUTION = 8;

/** Below this many channels a pixel is copied element by element rather than by copyWithin. */
const MIN_CHANNELS_FOR_BLOCK_COPY = 32;

/**
 * One phase along one axis: the input positions q*s + r - pad for q in [first, first + count), which see
 * the `taps` kernel offsets r, r+s, .... As a stride-1 convolution of dy they need padBefore/padAfter
 * (negative: that many rows of its result are cropped).
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

/** Copies a phase's result (less its cropped rows and columns) into every s-th row and column of dx. */
function scatterPhase(
  backend: BackendWasm,
  part: TensorInfo,
  dx: TensorInfo,
  [rows, cols]: [Phase, Phase],
  [sh, sw]: [number, number],
  [padTop, padLeft]: [number, number],
): void {
  const [batch, height, width, c] = dx.shape;
  const [, partHeight, partWidth] = part.shape;
  const [skipTop, skipLeft] = [Math.max(0, -rows.padBefore), Math.max(0, -cols.padBefore)];
  const [heap, partAt, dxAt] = heapWithOffsets(backend, part, dx);
  for (let b = 0; b < batch; b++) {
    for (let n = 0; n < rows.count; n++) {
      const i = (rows.first + n) * sh + rows.r - padTop;
      let from = partAt + ((b * partHeight + n + skipTop) * partWidth + skipLeft) * c;
      for (let m = 0; m < cols.count; m++, from += c) {
        const to = dxAt + ((b * height + i) * width + (cols.first + m) * sw + cols.r - padLeft) * c;
        if (c >= MIN_CHANNELS_FOR_BLOCK_COPY) heap.copyWithin(to, from, from + c);
        else for (let k = 0; k < c; k++) heap[to + k] = heap[from + k];
      }
    }
  }
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
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow } = info;
  const expected = [info.batchSize, oh, ow, info.outChannels];
  if (dy.shape.some((d, i) => d !== expected[i])) {
    throw new RangeError(`Conv2DBackpropInput: dy has shape [${dy.shape.join(',')}], expected [${expected.join(',')}].`);
  }
  if (info.inChannels < MIN_CHANNELS_FOR_CONVOLUTION) return conv2DBackpropInputByColumns(backend, dy, filter, info);

  const [padTop, padLeft] = [info.padInfo.top, info.padInfo.left];
  const rowPhases = phasesAlong(info.inHeight, kh, sh, padTop, oh);
  const colPhases = phasesAlong(info.inWidth, kw, sw, padLeft, ow);
  const convolve = (rows: Phase, cols: Phase): TensorInfo => {
    const taps = phaseFilter(backend, filter, [rows, cols], [sh, sw]);
    const pads = [rows.padBefore, rows.padAfter, cols.padBefore, cols.padAfter].map((p) => Math.max(0, p));
    const part = conv2dExplicitWasm(backend, dy, taps, pads as [number, number, number, number]);
    disposeWasm(backend, taps);
    return part;
  };

  if (rowPhases.length === 1 && colPhases.length === 1) {
    // Stride 1: the phase is dx, unless part of it is cropped.
    const [rows, cols] = [rowPhases[0], colPhases[0]];
    if (Math.min(rows.padBefore, rows.padAfter, cols.padBefore, cols.padAfter) >= 0) return convolve(rows, cols);
  }
  const dx = backend.makeOutput(info.inShape, 'float32');
  const empty = (p: Phase): boolean => p.taps === 0 && p.count > 0;
  if (rowPhases.some(empty) || colPhases.some(empty)) backend.typedArrayFromHeap(dx).fill(0);
  for (const rows of rowPhases) {
    for (const cols of colPhases) {
      if (rows.taps === 0 || cols.taps === 0 || rows.count === 0 || cols.count === 0) continue;
      const part = convolve(rows, cols);
      scatterPhase(backend, part, dx, [rows, cols], [sh, sw], [padTop, padLeft]);
      disposeWasm(backend, part);
    }
  }
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
