// CMYK to RGB as browsers decode CMYK and YCCK JPEGs, without colour management (the contract's
// colorProfile 'ignore'): Blink's JPEGImageDecoder reads libjpeg's samples as Adobe-inverted CMYK and
// sets each channel to iX * iK / 255, truncated (iX = 255 - X: 255 means no ink). Pure, no platform code.
import type { DecodedPixels } from './preprocess.js';

/** Interleaved 8-bit CMYK samples, optionally with alpha: 4 or 5 channels. */
export interface CmykPixels {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 4 | 5;
}

/**
 * RGB (RGBA when the samples have alpha, or `ensureAlpha`) from CMYK samples where 0 means no ink, as
 * libvips reads a JPEG: it inverts every CMYK JPEG's samples, with or without Adobe's marker, just as
 * browsers read every one as inverted (measured with libvips 8.17 and Chromium 156).
 */
export function cmykToRgb(pixels: CmykPixels, options: { ensureAlpha?: boolean } = {}): DecodedPixels {
  const { data, width, height, channels } = pixels;
  const n = width * height;
  if (data.length !== n * channels) throw new RangeError(`CMYK pixels of ${width}x${height}x${channels} need ${n * channels} bytes; got ${data.length}.`);
  const outChannels = channels === 5 || options.ensureAlpha ? 4 : 3;
  const out = new Uint8Array(n * outChannels);
  for (let i = 0; i < n; i++) {
    const s = i * channels;
    const o = i * outChannels;
    const k = 255 - data[s + 3];
    out[o] = ((255 - data[s]) * k / 255) | 0;
    out[o + 1] = ((255 - data[s + 1]) * k / 255) | 0;
    out[o + 2] = ((255 - data[s + 2]) * k / 255) | 0;
    if (outChannels === 4) out[o + 3] = channels === 5 ? data[s + 4] : 255;
  }
  return { data: out, width, height, channels: outChannels };
}
