// Pure preprocessing shared by training, Node and the browser: decoded 8-bit pixels -> the model input.
// Resizing is done here rather than by sharp or the browser's canvas so that every platform computes the
// same pixels from the same decoded image; only decoding differs between platforms.
import { resizeGeometry, type ModelContract } from './contract.js';
import { resizeNormalizeRgbWasm, resizeRgbJs, resizeRgbWasm, type ResizeCrop, type RgbPixels, type RgbSource } from './resize.js';

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
function rgbSource(pixels: DecodedPixels, opaque: boolean, background: readonly number[]): RgbSource {
  const { width, height } = pixels;
  if (!opaque) return { src: compositeRgb(pixels, background), width, height, stride: 3, offsets: [0, 1, 2] };
  const gray = pixels.channels < 3;
  return { src: pixels.data, width, height, stride: pixels.channels, offsets: gray ? [0, 0, 0] : [0, 1, 2] };
}

/**
 * Resizes decoded pixels to the contract's size as 8-bit RGB (composite, resize, round). Opaque RGB and
 * RGBA images (photos) go through the WebAssembly kernel where it runs, everything else through the
 * JavaScript; both give the same bytes (see resize.ts).
 */
export function resizeToContract(pixels: DecodedPixels, contract: ModelContract): ModelPixels {
  checkDecodedPixels(pixels);
  return resizeChecked(pixels, isOpaque(pixels), contract);
}

/** The contract's crop of this image for resize.ts (undefined for crop 'none': the whole image). */
function cropOf(pixels: DecodedPixels, contract: ModelContract): ResizeCrop | undefined {
  return (contract.crop ?? 'none') === 'none' ? undefined : resizeGeometry(contract, pixels.width, pixels.height);
}

/** resizeToContract() for checked pixels whose opacity is known (the alpha scan is done once). */
function resizeChecked(pixels: DecodedPixels, opaque: boolean, contract: ModelContract): ModelPixels {
  const { width: outW, height: outH } = contract.imageSize;
  const rgb = kernelPixels(pixels, opaque);
  const crop = cropOf(pixels, contract);
  const data = (rgb && resizeRgbWasm(rgb, outW, outH, crop)) ?? resizeRgbJs(rgbSource(pixels, opaque, contract.alphaBackground), outW, outH, crop);
  return { data, width: outW, height: outH };
}

/** The pixels as the WebAssembly kernel takes them (opaque 8-bit RGB or RGBA), or null. */
function kernelPixels(pixels: DecodedPixels, opaque: boolean): RgbPixels | null {
  const { channels } = pixels;
  return opaque && (channels === 3 || channels === 4) ? { ...pixels, channels } : null;
}

/** The contract's normalization of each 8-bit value, per channel: float32 [3 * 256]. */
function normalizationTable(contract: ModelContract): Float32Array {
  const { scale, mean, std } = contract.normalization;
  const table = new Float32Array(768);
  for (let c = 0; c < 3; c++) for (let p = 0; p < 256; p++) table[c * 256 + p] = (p * scale - mean[c]) / std[c];
  return table;
}

/** out[offset + i] = table[(i % 3) * 256 + rgb[i]]: normalize() for 8-bit samples. */
function normalizeBytes(rgb: Uint8Array | Uint8ClampedArray, table: Float32Array, out: Float32Array, offset: number): void {
  for (let i = 0, o = offset; i < rgb.length; i += 3, o += 3) {
    out[o] = table[rgb[i]];
    out[o + 1] = table[256 | rgb[i + 1]];
    out[o + 2] = table[512 | rgb[i + 2]];
  }
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
  if (rgb instanceof Uint8Array || rgb instanceof Uint8ClampedArray) {
    // 8-bit samples: the same formula, computed once per value and channel.
    normalizeBytes(rgb, normalizationTable(contract), out, offset);
    return out;
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
  checkDecodedPixels(pixels);
  const opaque = isOpaque(pixels);
  const rgb = kernelPixels(pixels, opaque);
  const { width, height } = contract.imageSize;
  return (rgb && resizeNormalizeRgbWasm(rgb, width, height, normalizationTable(contract), cropOf(pixels, contract))) ?? normalize(resizeChecked(pixels, opaque, contract).data, contract);
}
