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
 * RGB (RGBA when the samples have alpha, or `ensureAlpha`) from CMYK samples where 0 means no ink
 * (libvips' reading, which undoes the Adobe inversion), or, with `inverted`, where 255 means no ink (the
 * samples as stored in a JPEG with the Adobe marker, as libjpeg and browsers read them).
 */
export function cmykToRgb(pixels: CmykPixels, options: { inverted?: boolean; ensureAlpha?: boolean } = {}): DecodedPixels {
  const { data, width, height, channels } = pixels;
  const n = width * height;
  if (data.length !== n * channels) throw new RangeError(`CMYK pixels of ${width}x${height}x${channels} need ${n * channels} bytes; got ${data.length}.`);
  const outChannels = channels === 5 || options.ensureAlpha ? 4 : 3;
  const out = new Uint8Array(n * outChannels);
  const flip = options.inverted ? 0 : 255;
  for (let i = 0; i < n; i++) {
    const s = i * channels;
    const o = i * outChannels;
    const k = flip ^ data[s + 3]; // 255 - x for bytes
    out[o] = ((flip ^ data[s]) * k / 255) | 0;
    out[o + 1] = ((flip ^ data[s + 1]) * k / 255) | 0;
    out[o + 2] = ((flip ^ data[s + 2]) * k / 255) | 0;
    if (outChannels === 4) out[o + 3] = channels === 5 ? data[s + 4] : 255;
  }
  return { data: out, width, height, channels: outChannels };
}

/**
 * Whether a JPEG carries Adobe's APP14 marker, which tells libjpeg-based readers (libvips among them)
 * that its CMYK samples are inverted. Browsers assume inverted CMYK either way, so a reader that undid
 * the inversion only for marked files must be told which files were not marked. Scans the markers
 * before the first scan; false for anything that is not a JPEG.
 */
export function jpegHasAdobeMarker(bytes: Uint8Array): boolean {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) return false;
  let at = 2;
  while (at + 4 <= bytes.length && bytes[at] === 0xff) {
    const marker = bytes[at + 1];
    if (marker === 0xda || marker === 0xd9) return false; // start of scan, end of image
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    const adobe = [0x41, 0x64, 0x6f, 0x62, 0x65]; // "Adobe"
    if (marker === 0xee && length >= 7 && adobe.every((c, j) => bytes[at + 4 + j] === c)) return true;
    at += 2 + length;
  }
  return false;
}
