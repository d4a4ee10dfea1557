// Node image decoding with sharp: file or encoded bytes -> 8-bit RGB or RGBA pixels for preprocess.ts.
// Training and the Node runtime both decode through here, so a dataset image reaches the model as the
// same pixels in both.
import sharp from 'sharp';
import { cmykToRgb } from '../cmyk.js';
import { ImageDecodeError } from '../errors.js';
import type { DecodedPixels } from '../preprocess.js';

/** Default limit against decompression bombs: 100 megapixels. */
export const DEFAULT_MAX_PIXELS = 100_000_000;

/** Options for decodeImage(). */
export interface DecodeOptions {
  /** Largest width * height accepted, checked from the header before decoding. Default 100 MP. */
  maxPixels?: number;
  /** Name used in error messages for byte inputs. Default "buffer (N bytes)". */
  name?: string;
  /**
   * Always return RGBA (opaque alpha added to images without one), e.g. for an ImageData. Default
   * false: RGB for images without alpha, which preprocess.ts reads as it would the opaque RGBA, faster.
   */
  ensureAlpha?: boolean;
}

/**
 * CMYK (and YCCK) images: the raw samples, converted the browsers' way (cmyk.ts) rather than through
 * libvips' generic CMYK profile, which differs from browsers by up to 27 levels (5e-3 in probability).
 */
async function decodeCmyk(image: sharp.Sharp, ensureAlpha: boolean): Promise<DecodedPixels> {
  const { data, info } = await image.pipelineColourspace('cmyk').toColourspace('cmyk').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  const channels: number = info.channels; // sharp's type says 1-4; CMYK with alpha has 5
  if (channels !== 4 && channels !== 5) throw new Error(`expected 4 or 5 CMYK channels, got ${channels}`);
  const samples = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return cmykToRgb({ data: samples, width: info.width, height: info.height, channels }, { ensureAlpha });
}

/**
 * Decodes a JPEG, PNG, WebP, GIF (first frame), TIFF or AVIF file or buffer. EXIF orientation is applied,
 * embedded ICC profiles are ignored (the contract's colorProfile); grayscale and 16-bit images are
 * converted to 8-bit sRGB, CMYK as browsers convert it (cmyk.ts). The result is RGB (3 channels) when the
 * image has no alpha channel and RGBA (4) when it has one, which preprocess.ts composites over the
 * contract's background. preprocess.ts gives the same model input for RGB and for opaque RGBA, so
 * leaving out an alpha channel that would be all 255 only saves work (about 20% of a JPEG decode).
 */
export async function decodeImage(input: string | Uint8Array, options: DecodeOptions = {}): Promise<DecodedPixels> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  // sharp reads 0 as "no limit"; a limit must be a positive integer.
  if (!Number.isInteger(maxPixels) || maxPixels < 1) {
    throw new RangeError(`"maxPixels" must be a positive integer; got ${String(options.maxPixels)}.`);
  }
  const name = typeof input === 'string' ? input : (options.name ?? `buffer (${input.byteLength} bytes)`);
  if (typeof input !== 'string' && input.byteLength === 0) throw new ImageDecodeError(name, 'the input is empty');
  try {
    // ignoreIcc: the contract's colorProfile 'ignore' (samples as stored, as browsers give them).
    const open = () => sharp(input, { limitInputPixels: maxPixels, failOn: 'warning', ignoreIcc: true }).rotate();
    if ((await open().metadata()).space === 'cmyk') return await decodeCmyk(open(), options.ensureAlpha ?? false);
    let image = open().toColourspace('srgb');
    if (options.ensureAlpha) image = image.ensureAlpha();
    const { data, info } = await image
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    const channels = info.channels;
    if (channels !== 3 && channels !== 4) throw new Error(`expected 3 or 4 channels after conversion, got ${channels}`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels };
  } catch (error) {
    if (error instanceof ImageDecodeError) throw error;
    const message = (error as Error).message.replace(/\s+/g, ' ').trim();
    throw new ImageDecodeError(name, message, { cause: error });
  }
}
