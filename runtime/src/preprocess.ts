// Pure preprocessing shared by training, Node and the browser: decoded 8-bit pixels -> the model input.
// Resizing is done here rather than by sharp or the browser's canvas so that every platform computes the
// same pixels from the same decoded image; only decoding differs between platforms.
import type { ModelContract } from './contract.js';

/** Decoded 8-bit pixels, interleaved, row-major: 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA) channels. */
export interface DecodedPixels {
  /** width * height * channels bytes. */
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

/** The model's view of one image: 8-bit RGB at the contract's size, before normalization. */
export interface ModelPixels {
  data: Uint8Array;
  width: number;
  height: number;
}

export function checkDecodedPixels(pixels: DecodedPixels): void {
  const { data, width, height, channels } = pixels;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`Image "width" and "height" must be positive integers; got ${width}x${height}.`);
  }
  if (![1, 2, 3, 4].includes(channels)) {
    throw new RangeError(`Image "channels" must be one of: 1, 2, 3, 4; got ${channels}.`);
  }
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) {
    throw new TypeError('Image "data" must be a Uint8Array or Uint8ClampedArray of 8-bit samples.');
  }
  if (data.length !== width * height * channels) {
    throw new RangeError(
      `Image "data" has ${data.length} bytes; ${width}x${height}x${channels} needs ${width * height * channels}.`,
    );
  }
}

/** True when the image has no alpha channel or every alpha sample is 255. */
function isOpaque(pixels: DecodedPixels): boolean {
  const { data, channels } = pixels;
  if (channels === 1 || channels === 3) return true;
  for (let i = channels - 1; i < data.length; i += channels) if (data[i] !== 255) return false;
  return true;
}

/** Composites alpha over the background and expands gray, giving float RGB samples in [0, 255]. */
function compositeRgb(pixels: DecodedPixels, background: readonly number[]): Float32Array {
  const { data, width, height, channels } = pixels;
  const n = width * height;
  const rgb = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    const src = i * channels;
    const hasColour = channels >= 3;
    const alpha = channels === 2 || channels === 4 ? data[src + channels - 1] / 255 : 1;
    for (let c = 0; c < 3; c++) {
      const value = data[src + (hasColour ? c : 0)];
      rgb[i * 3 + c] = value * alpha + background[c] * (1 - alpha);
    }
  }
  return rgb;
}

/**
 * The samples the resize reads: opaque images are read in place (alpha skipped, gray repeated),
 * which gives the same values as compositing them, without a copy.
 */
function rgbSource(pixels: DecodedPixels, background: readonly number[]): { src: ArrayLike<number>; stride: number; offsets: [number, number, number] } {
  if (!isOpaque(pixels)) return { src: compositeRgb(pixels, background), stride: 3, offsets: [0, 1, 2] };
  const gray = pixels.channels < 3;
  return { src: pixels.data, stride: pixels.channels, offsets: gray ? [0, 0, 0] : [0, 1, 2] };
}

interface Taps {
  start: Int32Array;
  count: Int32Array;
  weights: Float64Array;
  stride: number;
}

/**
 * Triangle-filter taps for resampling inSize -> outSize. When shrinking, the filter widens with the
 * scale (antialiasing, like PIL's BILINEAR and TensorFlow's resize with antialias=true), so a
 * large photo is averaged rather than point-sampled.
 */
function taps(inSize: number, outSize: number): Taps {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale;
  const stride = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * stride);
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
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

/** Resizes decoded pixels to the contract's size as 8-bit RGB (composite, resize, round). */
export function resizeToContract(pixels: DecodedPixels, contract: ModelContract): ModelPixels {
  checkDecodedPixels(pixels);
  const { width: inW, height: inH } = pixels;
  const { width: outW, height: outH } = contract.imageSize;
  const { src, stride, offsets } = rgbSource(pixels, contract.alphaBackground);
  const [o0, o1, o2] = offsets;
  const tx = taps(inW, outW);
  const ty = taps(inH, outH);
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
  return { data: out, width: outW, height: outH };
}

/**
 * Normalizes 8-bit RGB samples (model-sized, or any float RGB in [0, 255]) into `out` at `offset`
 * following the contract: x = (p * scale - mean[c]) / std[c].
 */
export function normalize(
  rgb: ArrayLike<number>,
  contract: ModelContract,
  out: Float32Array = new Float32Array(rgb.length),
  offset = 0,
): Float32Array {
  const { scale, mean, std } = contract.normalization;
  if (rgb.length % 3 !== 0) throw new RangeError(`RGB sample count must be a multiple of 3; got ${rgb.length}.`);
  if (offset + rgb.length > out.length) {
    throw new RangeError(`Output of ${out.length} floats cannot hold ${rgb.length} samples at offset ${offset}.`);
  }
  for (let i = 0; i < rgb.length; i += 3) {
    out[offset + i] = (rgb[i] * scale - mean[0]) / std[0];
    out[offset + i + 1] = (rgb[i + 1] * scale - mean[1]) / std[1];
    out[offset + i + 2] = (rgb[i + 2] * scale - mean[2]) / std[2];
  }
  return out;
}

/** Decoded pixels -> the Float32Array fed to the model for one image ([H, W, 3], NHWC). */
export function preprocess(pixels: DecodedPixels, contract: ModelContract): Float32Array {
  return normalize(resizeToContract(pixels, contract).data, contract);
}
