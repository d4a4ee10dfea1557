// DepthwiseConv2dNativeBackpropInput for the wasm backend (tfjs 4.22 has none), as XNNPACK depthwise
// convolutions of dy.
//
// dx[b,i,j,c] = sum over kh,kw,m of dy[b,oh,ow,c*M+m] * W[kh,kw,c,m] where i = oh*sh + kh - padTop and
// j = ow*sw + kw - padLeft. As in wasm-conv-backprop-input.ts, the rows i with (i + padTop) % sh == r only
// see the taps kh = r, r+sh, ...: each of the sh*sw phases is a stride-1 convolution of dy by that
// sub-filter, flipped in space, written to every sh-th row and sw-th column of dx; with stride 1 the one
// phase is dx itself. The convolution has C*M channels (W read as [KH,KW,C*M,1], so filter channel c*M+m
// meets dy's channel c*M+m); the M results of a channel are summed as they are written to dx. XNNPACK's
// depthwise microkernels run these convolutions at 3-4x the speed of the JavaScript loops that
// wasm-depthwise-backprop-filter.ts needs; with stride 2, writing the phases into dx costs about as much
// again as convolving (train/scripts/bench-wasm-kernels.ts).
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { DepthwiseConv2dNativeBackpropInputAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { depthwiseGradInfo } from './wasm-depthwise-info.js';
import { callWasmKernel, disposeWasm, heapWithOffsets } from './wasm-kernel-call.js';

/**
 * Tap counts for which tfjs 4.22's XNNPACK has depthwise microkernels. It runs other sizes as a grouped
 * GEMM with one output column, about 8x slower per tap (4x28x28x48: 1.1 ms per tap with two taps, 0.14
 * with three, 0.05 with nine), so a sub-filter gets leading zero taps up to one of these sizes when that
 * at most triples its taps (a 3x3 filter with stride 2 has phases of 2x2, 2x1, 1x2 and 1x1 taps).
 */
const FAST_TAP_COUNTS = [1, 3, 4, 9, 25];
const MAX_TAP_PADDING = 3;

/** Below this many channels a pixel is copied element by element rather than by copyWithin. */
const MIN_CHANNELS_FOR_BLOCK_COPY = 32;

/** One phase along one axis: input positions q*s + r - pad for q in [first, first + count), seeing `taps` filter offsets r, r+s, .... */
interface Phase {
  r: number;
  taps: number;
  first: number;
  count: number;
}

function phasesAlong(inSize: number, kernel: number, stride: number, pad: number): Phase[] {
  const phases: Phase[] = [];
  for (let r = 0; r < stride; r++) {
    const first = Math.ceil((pad - r) / stride);
    const count = Math.max(0, Math.floor((inSize - 1 + pad - r) / stride) - first + 1);
    phases.push({ r, taps: r < kernel ? Math.ceil((kernel - r) / stride) : 0, first, count });
  }
  return phases;
}

/** The sub-filter's size in taps, [rows, columns], after padding to a size XNNPACK runs fast (when worth it). */
function paddedTaps(rows: number, cols: number): [number, number] {
  for (const n of FAST_TAP_COUNTS) {
    if (n < rows * cols || n > MAX_TAP_PADDING * rows * cols) continue;
    for (let a = rows; a <= n; a++) {
      if (n % a === 0 && n / a >= cols) return [a, n / a];
    }
  }
  return [rows, cols];
}

/**
 * F[u,v,ch] = W[rh + sh*(Th-1-u), rw + sw*(Tw-1-v), ch], zero past the filter's edge: one phase's taps,
 * flipped, as a [Th, Tw, C*M, 1] depthwise filter.
 */
function phaseFilter(backend: BackendWasm, filter: TensorInfo, [rows, cols]: [Phase, Phase], [th, tw]: [number, number], [sh, sw]: [number, number]): TensorInfo {
  const [kh, kw, c, m] = filter.shape;
  const k = c * m;
  const out = backend.makeOutput([th, tw, k, 1], 'float32');
  const [heap, wAt, fAt] = heapWithOffsets(backend, filter, out);
  for (let u = 0; u < th; u++) {
    for (let v = 0; v < tw; v++) {
      const to = fAt + (u * tw + v) * k;
      const [i, j] = [rows.r + sh * (th - 1 - u), cols.r + sw * (tw - 1 - v)];
      if (i < kh && j < kw) heap.copyWithin(to, wAt + (i * kw + j) * k, wAt + (i * kw + j + 1) * k);
      else heap.fill(0, to, to + k);
    }
  }
  return out;
}

/**
 * Writes a phase's result (less `skip` leading rows and columns) into every s-th row and column of dx,
 * summing each channel's M results.
 */
function scatterPhase(
  backend: BackendWasm,
  part: TensorInfo,
  dx: TensorInfo,
  [rows, cols]: [Phase, Phase],
  [skipTop, skipLeft]: [number, number],
  [sh, sw]: [number, number],
  [padTop, padLeft]: [number, number],
): void {
  const [batch, height, width, c] = dx.shape;
  const [, partHeight, partWidth, k] = part.shape;
  const m = k / c;
  const [heap, partAt, dxAt] = heapWithOffsets(backend, part, dx);
  for (let b = 0; b < batch; b++) {
    for (let n = 0; n < rows.count; n++) {
      const i = (rows.first + n) * sh + rows.r - padTop;
      let from = partAt + ((b * partHeight + n + skipTop) * partWidth + skipLeft) * k;
      for (let q = 0; q < cols.count; q++, from += k) {
        const to = dxAt + ((b * height + i) * width + (cols.first + q) * sw + cols.r - padLeft) * c;
        if (m === 1 && c >= MIN_CHANNELS_FOR_BLOCK_COPY) {
          heap.copyWithin(to, from, from + c);
        } else if (m === 1) {
          for (let ch = 0; ch < c; ch++) heap[to + ch] = heap[from + ch];
        } else {
          for (let ch = 0; ch < c; ch++) {
            let s = 0;
            for (let j = from + ch * m; j < from + (ch + 1) * m; j++) s += heap[j];
            heap[to + ch] = s;
          }
        }
      }
    }
  }
}

function depthwiseConv2dNativeBackpropInput(args: {
  inputs: { dy?: TensorInfo; filter?: TensorInfo };
  backend: BackendWasm;
  attrs: DepthwiseConv2dNativeBackpropInputAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { dy, filter } = inputs;
  const name = 'DepthwiseConv2dNativeBackpropInput';
  if (dy === undefined || filter === undefined) throw new TypeError(`${name} needs inputs "dy" and "filter".`);
  if (filter.dtype !== 'float32') throw new TypeError(`${name} on wasm: filter must be float32, got ${filter.dtype}.`);
  const info = depthwiseGradInfo(name, attrs.inputShape, filter.shape as [number, number, number, number], dy, attrs);
  const { strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow } = info;
  const [padTop, padLeft] = [info.padInfo.top, info.padInfo.left];
  const rowPhases = phasesAlong(info.inHeight, info.filterHeight, sh, padTop);
  const colPhases = phasesAlong(info.inWidth, info.filterWidth, sw, padLeft);

  /** One phase's stride-1 convolution, and how many leading rows and columns of it lie outside dx. */
  const convolve = (rows: Phase, cols: Phase): { part: TensorInfo; skip: [number, number]; exact: boolean } => {
    const taps = paddedTaps(rows.taps, cols.taps);
    const subFilter = phaseFilter(backend, filter, [rows, cols], taps, [sh, sw]);
    // dy's padding for output row n to be the phase's row first + n; negative: that many rows of the
    // result before (or after) the phase's rows.
    const pads = [taps[0] - 1 - rows.first, rows.count + rows.first - oh, taps[1] - 1 - cols.first, cols.count + cols.first - ow];
    const [top, bottom, left, right] = pads.map((p) => Math.max(0, p));
    const part = callWasmKernel('DepthwiseConv2dNative', backend, { x: dy, filter: subFilter }, {
      strides: [1, 1],
      pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
      dilations: [1, 1],
    });
    disposeWasm(backend, subFilter);
    return { part, skip: [Math.max(0, -pads[0]), Math.max(0, -pads[2])], exact: Math.min(...pads) >= 0 };
  };

  const multiplier = info.outChannels / info.inChannels;
  const empty = dy.shape.includes(0);
  if (sh === 1 && sw === 1 && multiplier === 1 && !empty && rowPhases[0].count > 0 && colPhases[0].count > 0) {
    // Stride 1: the one phase is dx, unless part of the result lies outside it.
    const { part, skip, exact } = convolve(rowPhases[0], colPhases[0]);
    if (exact) return part;
    const dx = backend.makeOutput(info.inShape, 'float32');
    scatterPhase(backend, part, dx, [rowPhases[0], colPhases[0]], skip, [sh, sw], [padTop, padLeft]);
    disposeWasm(backend, part);
    return dx;
  }
  const dx = backend.makeOutput(info.inShape, 'float32');
  const uncovered = (p: Phase): boolean => p.taps === 0 && p.count > 0;
  if (empty || rowPhases.some(uncovered) || colPhases.some(uncovered)) {
    backend.typedArrayFromHeap(dx).fill(0);
    if (empty) return dx;
  }
  for (const rows of rowPhases) {
    for (const cols of colPhases) {
      if (rows.taps === 0 || cols.taps === 0 || rows.count === 0 || cols.count === 0) continue;
      const { part, skip } = convolve(rows, cols);
      scatterPhase(backend, part, dx, [rows, cols], skip, [sh, sw], [padTop, padLeft]);
      disposeWasm(backend, part);
    }
  }
  return dx;
}

export const depthwiseConv2dNativeBackpropInputConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropInput',
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropInput as unknown as KernelFunc,
};
