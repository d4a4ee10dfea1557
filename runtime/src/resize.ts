// The resampling behind preprocess.ts's resizeToContract(): an antialiased triangle filter, separable,
// computed in float64 and rounded to 8 bits. Two implementations give bit-identical bytes: the
// JavaScript below (any source) and a WebAssembly SIMD kernel (wasm/resize.wat) for 8-bit RGB and RGBA
// sources, several times faster, used wherever WebAssembly SIMD is available (Node, current browsers).
// Written here rather than taken from a library: training, Node and browsers must compute the same
// pixels, which rules out sharp's and the canvas' resizers, and no resize library promises
// bit-identical results across its JavaScript and WebAssembly paths.
import { RESIZE_WASM_BASE64 } from './wasm/resize-bytes.js';

/** Filter taps for one axis: output i reads count[i] inputs from start[i] with weights[i * stride + k]. */
export interface Taps {
  start: Int32Array;
  count: Int32Array;
  weights: Float64Array;
  stride: number;
}

/**
 * Triangle-filter taps for resampling inSize -> outSize. When shrinking, the filter widens with the
 * scale (antialiasing, like PIL's BILINEAR and TensorFlow's resize with antialias=true), so a
 * large photo is averaged rather than point-sampled. With drawSize and offset: the taps of outputs
 * [offset, offset + outSize) of the resampling inSize -> drawSize (a crop of a larger resize, computed
 * without the rest of it).
 */
export function taps(inSize: number, outSize: number, drawSize = outSize, offset = 0): Taps {
  if (!isSide(drawSize) || !Number.isInteger(offset) || offset < 0 || offset + outSize > drawSize) {
    throw new RangeError(`Outputs [${offset}, ${offset + outSize}) are not inside a resize to ${drawSize}.`);
  }
  const scale = inSize / drawSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale;
  const stride = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * stride);
  for (let i = 0; i < outSize; i++) {
    const center = (i + offset + 0.5) * scale;
    const lo = Math.max(0, Math.floor(center - support));
    const hi = Math.min(inSize, Math.ceil(center + support));
    let total = 0;
    let k = 0;
    for (let j = lo; j < hi; j++, k++) {
      const w = Math.max(0, 1 - Math.abs((j + 0.5 - center) / filterScale));
      weights[i * stride + k] = w;
      total += w;
    }
    for (let m = 0; m < k; m++) weights[i * stride + m] /= total;
    start[i] = lo;
    count[i] = k;
  }
  return { start, count, weights, stride };
}

/** RGB samples to resize: pixel i's channel c is src[i * stride + offsets[c]]. */
export interface RgbSource {
  src: ArrayLike<number>;
  width: number;
  height: number;
  stride: number;
  offsets: readonly [number, number, number];
}

/**
 * The resize as a crop of a larger one: the source is resampled to drawWidth x drawHeight and columns
 * [left, left + outW), rows [top, top + outH) are kept (contract.ts's resizeGeometry()). Default: none.
 */
export interface ResizeCrop {
  drawWidth: number;
  drawHeight: number;
  left: number;
  top: number;
}

function isSide(n: number): boolean {
  return Number.isInteger(n) && n >= 1;
}

function axisTaps(inW: number, inH: number, outW: number, outH: number, crop: ResizeCrop | undefined): [Taps, Taps] {
  if (!crop) return [taps(inW, outW), taps(inH, outH)];
  return [taps(inW, outW, crop.drawWidth, crop.left), taps(inH, outH, crop.drawHeight, crop.top)];
}

function checkSizes(width: number, height: number, outW: number, outH: number): void {
  if (!isSide(width) || !isSide(height)) throw new RangeError(`Image width and height must be positive integers; got ${width}x${height}.`);
  if (!isSide(outW) || !isSide(outH)) throw new RangeError(`Output width and height must be positive integers; got ${outW}x${outH}.`);
}

/** The JavaScript resize: any source, 8-bit RGB out ([outH][outW][3]). */
export function resizeRgbJs(source: RgbSource, outW: number, outH: number, crop?: ResizeCrop): Uint8Array {
  const { src, width: inW, height: inH, stride } = source;
  checkSizes(inW, inH, outW, outH);
  const [o0, o1, o2] = source.offsets;
  if (!isSide(stride) || ![o0, o1, o2].every((o) => Number.isInteger(o) && o >= 0 && o < stride)) {
    throw new RangeError(`Source stride ${stride} and offsets ${source.offsets.join(', ')} do not describe a pixel.`);
  }
  if (src.length < inW * inH * stride) throw new RangeError(`Source has ${src.length} samples; ${inW}x${inH} with stride ${stride} needs ${inW * inH * stride}.`);
  const [tx, ty] = axisTaps(inW, inH, outW, outH, crop);
  // Horizontal pass: inH x outW x 3.
  const mid = new Float64Array(inH * outW * 3);
  for (let y = 0; y < inH; y++) {
    const row = y * inW * stride;
    for (let x = 0; x < outW; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      const base = x * tx.stride;
      const count = tx.count[x];
      let p = row + tx.start[x] * stride;
      for (let k = 0; k < count; k++, p += stride) {
        const w = tx.weights[base + k];
        r += src[p + o0] * w;
        g += src[p + o1] * w;
        b += src[p + o2] * w;
      }
      const o = (y * outW + x) * 3;
      mid[o] = r;
      mid[o + 1] = g;
      mid[o + 2] = b;
    }
  }
  // Vertical pass, row by row (contiguous reads), rounding to 8 bits as the training cache stores them.
  const out = new Uint8Array(outH * outW * 3);
  const rowLen = outW * 3;
  const acc = new Float64Array(rowLen);
  for (let y = 0; y < outH; y++) {
    const base = y * ty.stride;
    const first = ty.start[y];
    acc.fill(0);
    for (let k = 0; k < ty.count[y]; k++) {
      const w = ty.weights[base + k];
      const from = (first + k) * rowLen;
      for (let i = 0; i < rowLen; i++) acc[i] += mid[from + i] * w;
    }
    const o = y * rowLen;
    for (let i = 0; i < rowLen; i++) {
      const v = acc[i];
      out[o + i] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
    }
  }
  return out;
}

type ResizeFn = (
  src: number, inW: number, stride: number,
  xStart: number, xCount: number, xWeights: number, xStride: number,
  yStart: number, yCount: number, yWeights: number, yStride: number,
  outW: number, outH: number, ring: number, rowPtrs: number, out: number,
) => void;
type NormalizeFn = (src: number, n: number, table: number, out: number) => void;

interface Kernel {
  memory: WebAssembly.Memory;
  resize: ResizeFn;
  normalize: NormalizeFn;
}

/** Memory kept between calls; a larger image's memory is released after its call. */
const KEEP_BYTES = 64 * 1024 * 1024;
const PAGE = 65536;

/** The instantiated kernel; undefined until first tried, null where WebAssembly SIMD is unavailable. */
let kernel: Kernel | null | undefined;

function loadKernel(): Kernel | null {
  if (kernel !== undefined) return kernel;
  try {
    const bytes = Uint8Array.from(atob(RESIZE_WASM_BASE64), (c) => c.charCodeAt(0));
    // About 1 KiB: small enough for synchronous compilation on a browser's main thread.
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
    const exports = instance.exports as unknown as Kernel;
    kernel = { memory: exports.memory, resize: exports.resize, normalize: exports.normalize };
  } catch {
    // No WebAssembly, or no SIMD (e.g. Safari before 16.4): the JavaScript computes the same bytes.
    kernel = null;
  }
  return kernel;
}

/** True when the WebAssembly SIMD kernel runs here (8-bit RGB/RGBA sources then use it). */
export function wasmResizeAvailable(): boolean {
  return loadKernel() !== null;
}

/** Bytes of WebAssembly memory the kernel holds now (0 when not instantiated); for tests. */
export function wasmResizeMemoryBytes(): number {
  return kernel ? kernel.memory.buffer.byteLength : 0;
}

const align8 = (n: number) => (n + 7) & ~7;

function copyTaps(memory: ArrayBuffer, t: Taps, at: number): { start: number; count: number; weights: number; end: number } {
  const n = t.start.length;
  const start = at;
  const count = start + n * 4;
  const weights = align8(count + n * 4);
  new Int32Array(memory, start, n).set(t.start);
  new Int32Array(memory, count, n).set(t.count);
  new Float64Array(memory, weights, t.weights.length).set(t.weights);
  return { start, count, weights, end: weights + t.weights.length * 8 };
}

function tapsBytes(t: Taps): number {
  return align8(t.start.length * 8) + t.weights.length * 8;
}

/** Decoded 8-bit RGB or RGBA pixels, as the kernel reads them. */
export interface RgbPixels {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels: 3 | 4;
}

/**
 * The WebAssembly resize of 8-bit RGB (channels 3) or RGBA (channels 4, alpha ignored: the caller has
 * checked it is opaque) pixels; bit-identical to resizeRgbJs(). Null when the kernel is unavailable or
 * cannot get the memory, so that the caller falls back to the JavaScript. RangeError for pixels that do
 * not match their size.
 */
export function resizeRgbWasm(pixels: RgbPixels, outW: number, outH: number, crop?: ResizeCrop): Uint8Array | null {
  return runKernel(pixels, outW, outH, null, crop) as Uint8Array | null;
}

/**
 * resizeRgbWasm() followed by normalization through `table` (float32 [3 * 256]: channel c's value for
 * sample p at c * 256 + p), giving the model input directly; null as for resizeRgbWasm().
 */
export function resizeNormalizeRgbWasm(pixels: RgbPixels, outW: number, outH: number, table: Float32Array, crop?: ResizeCrop): Float32Array | null {
  return runKernel(pixels, outW, outH, table, crop) as Float32Array | null;
}

function runKernel(pixels: RgbPixels, outW: number, outH: number, table: Float32Array | null, crop?: ResizeCrop): Uint8Array | Float32Array | null {
  const { data, width: inW, height: inH, channels } = pixels;
  checkSizes(inW, inH, outW, outH);
  if (channels !== 3 && channels !== 4) throw new RangeError(`The WebAssembly resize takes 3 or 4 channels; got ${String(channels)}.`);
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray) || data.length !== inW * inH * channels) {
    throw new RangeError(`Image data must be ${inW}x${inH}x${channels} = ${inW * inH * channels} bytes in a Uint8Array; got ${data?.length ?? 'none'}.`);
  }
  if (table && table.length !== 768) throw new RangeError(`A normalization table has 768 floats (3 x 256); got ${table.length}.`);
  const k = loadKernel();
  if (k === null) return null;
  const [tx, ty] = axisTaps(inW, inH, outW, outH, crop);
  const ringBytes = ty.stride * outW * 3 * 8;
  const outBytes = outH * outW * 3;
  const normalizedBytes = table ? table.length * 4 + outBytes * 4 : 0;
  // Tap tables, the ring of float64 rows and its row addresses, the 8-bit output, the normalization
  // table and its output, then the source and one byte the kernel may read past its last pixel.
  const needed = tapsBytes(tx) + tapsBytes(ty) + ringBytes + align8(ty.stride * 4) + align8(outBytes) + normalizedBytes + data.length + 1;
  try {
    const have = k.memory.buffer.byteLength;
    if (needed > have) k.memory.grow(Math.ceil((needed - have) / PAGE));
  } catch {
    return null; // the engine refused the memory: the JavaScript needs about as much, but outside it
  }
  const memory = k.memory.buffer;
  const x = copyTaps(memory, tx, 0);
  const y = copyTaps(memory, ty, x.end);
  const ring = y.end;
  const rowPtrs = ring + ringBytes;
  const out = align8(rowPtrs + ty.stride * 4);
  const tableAt = align8(out + outBytes);
  const normalized = tableAt + (table ? table.length * 4 : 0);
  const src = normalized + (table ? outBytes * 4 : 0);
  new Uint8Array(memory, src, data.length).set(data);
  new Uint8Array(memory, src + data.length, 1)[0] = 0;
  k.resize(src, inW, channels, x.start, x.count, x.weights, tx.stride, y.start, y.count, y.weights, ty.stride, outW, outH, ring, rowPtrs, out);
  let result: Uint8Array | Float32Array;
  if (table) {
    new Float32Array(memory, tableAt, table.length).set(table);
    k.normalize(out, outBytes, tableAt, normalized);
    result = new Float32Array(memory, normalized, outBytes).slice();
  } else {
    result = new Uint8Array(memory, out, outBytes).slice();
  }
  if (memory.byteLength > KEEP_BYTES) kernel = undefined; // let a huge image's memory go
  return result;
}
