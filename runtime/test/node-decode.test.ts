// Tests for Node image decoding (src/backend/node-decode.ts). Images are made with sharp at test time
// (in memory, or in a temporary folder for path inputs) rather than committed, as each is a few lines.
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { DEFAULT_MAX_PIXELS, decodeImage } from '../src/backend/node-decode.js';
import { ImageDecodeError } from '../src/errors.js';
import { createContract } from '../src/contract.js';
import { checkDecodedPixels, resizeToContract, type DecodedPixels } from '../src/preprocess.js';

type Format = 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'heif';

/** Skips the test when this sharp build cannot both write (to make the input) and read the format. */
function skipUnlessSupported(t: TestContext, format: Format): boolean {
  const info = sharp.format[format];
  if (info?.input.buffer && info.output.buffer) return false;
  t.skip(`this sharp build has no ${format} ${info?.input.buffer ? 'encoder' : 'decoder'}`);
  return true;
}

const ORANGE = { r: 200, g: 100, b: 50 };

function solid(width: number, height: number, colour: { r: number; g: number; b: number; alpha?: number } = ORANGE) {
  const channels = colour.alpha === undefined ? 3 : 4;
  return sharp({ create: { width, height, channels, background: colour } });
}

/** 64x48 RGB with ramps and a product pattern, so lossy encoders produce real scan data. */
function textured(): sharp.Sharp {
  const width = 64;
  const height = 48;
  const raw = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      raw[i] = x * 4;
      raw[i + 1] = y * 5;
      raw[i + 2] = (x * y) & 255;
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } });
}

/** One pixel as [r, g, b, a]; a is 255 for an RGB image (decodeImage gives 3 or 4 channels). */
function pixel(image: DecodedPixels, x: number, y: number): number[] {
  const i = (y * image.width + x) * image.channels;
  const samples = Array.from(image.data.subarray(i, i + image.channels));
  return image.channels === 3 ? [...samples, 255] : samples;
}

/**
 * Checks the invariants every decode must hold: 8-bit RGB (images without alpha) or RGBA (images
 * with alpha), the expected size, consistent data.
 */
function assertDecoded(image: DecodedPixels, width: number, height: number, channels: 3 | 4): void {
  assert.equal(image.channels, channels);
  assert.equal(image.width, width);
  assert.equal(image.height, height);
  assert.ok(image.data instanceof Uint8Array);
  assert.equal(image.data.length, width * height * channels);
  checkDecodedPixels(image);
}

/** Every pixel, as [r, g, b, a], is within `tolerance` of `rgba` on each channel. */
function assertAllNear(image: DecodedPixels, rgba: number[], tolerance: number): void {
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      const got = pixel(image, x, y);
      for (let c = 0; c < 4; c++) {
        if (Math.abs(got[c] - rgba[c]) > tolerance) {
          assert.fail(`pixel (${x}, ${y}) channel ${c} is ${got[c]}, expected ${rgba[c]} +- ${tolerance}`);
        }
      }
    }
  }
}

async function assertDecodeError(promise: Promise<unknown>, input: string, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ImageDecodeError, `expected ImageDecodeError, got ${String(error)}`);
    assert.equal(error.name, 'ImageDecodeError');
    assert.equal(error.input, input);
    assert.ok(error.message.startsWith(`Cannot decode image ${input}: `), error.message);
    assert.match(error.message, pattern);
    assert.doesNotMatch(error.message, /\n/);
    return true;
  });
}

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pets-decode-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('decodeImage: formats', () => {
  it('RGB JPEG from a buffer and from a path', async (t) => {
    if (skipUnlessSupported(t, 'jpeg')) return;
    const bytes = await solid(40, 20).jpeg({ quality: 95 }).toBuffer();
    const fromBuffer = await decodeImage(bytes);
    assertDecoded(fromBuffer, 40, 20, 3);
    // JPEG is lossy; a flat colour comes back within a few levels.
    assertAllNear(fromBuffer, [200, 100, 50, 255], 4);
    const path = join(dir, 'orange.jpg');
    await writeFile(path, bytes);
    assert.deepEqual(await decodeImage(path), fromBuffer);
  });

  it('grayscale PNG expands to equal RGB, opaque', async (t) => {
    if (skipUnlessSupported(t, 'png')) return;
    const bytes = await solid(5, 3, { r: 90, g: 90, b: 90 }).toColourspace('b-w').png().toBuffer();
    assert.equal((await sharp(bytes).metadata()).channels, 1);
    const image = await decodeImage(bytes);
    assertDecoded(image, 5, 3, 3);
    assertAllNear(image, [90, 90, 90, 255], 0);
  });

  it('gray+alpha PNG keeps its alpha', async (t) => {
    if (skipUnlessSupported(t, 'png')) return;
    const bytes = await solid(3, 2, { r: 77, g: 77, b: 77, alpha: 0.25 }).toColourspace('b-w').png().toBuffer();
    const meta = await sharp(bytes).metadata();
    assert.equal(meta.channels, 2);
    const image = await decodeImage(bytes);
    assertDecoded(image, 3, 2, 4);
    assertAllNear(image, [77, 77, 77, Math.round(0.25 * 255)], 1);
  });

  it('RGBA PNG keeps colour and alpha exactly, transparent pixels included', async (t) => {
    if (skipUnlessSupported(t, 'png')) return;
    const raw = new Uint8Array([10, 20, 30, 0, 40, 50, 60, 77, 70, 80, 90, 200, 100, 110, 120, 255]);
    const bytes = await sharp(raw, { raw: { width: 2, height: 2, channels: 4 } }).png().toBuffer();
    const image = await decodeImage(bytes);
    assertDecoded(image, 2, 2, 4);
    assert.deepEqual(Array.from(image.data), Array.from(raw));
  });

  it('palette PNG', async (t) => {
    if (skipUnlessSupported(t, 'png')) return;
    const image = await decodeImage(await solid(6, 6).png({ palette: true }).toBuffer());
    assertDecoded(image, 6, 6, 3);
    assertAllNear(image, [200, 100, 50, 255], 2);
  });

  it('16-bit RGB PNG scales to 8 bits', async (t) => {
    if (skipUnlessSupported(t, 'png')) return;
    const samples = [65535, 32768, 0, 1000, 20000, 40000];
    const bytes = await sharp(new Uint16Array(samples), { raw: { width: 2, height: 1, channels: 3 } })
      .toColourspace('rgb16')
      .png()
      .toBuffer();
    const meta = await sharp(bytes).metadata();
    assert.equal(meta.depth, 'ushort', 'the fixture must really be 16-bit');
    const image = await decodeImage(bytes);
    assertDecoded(image, 2, 1, 3);
    // 8-bit value = 16-bit value / 257, within 1 (libvips shifts by 8 bits rather than rounding).
    const got = [...pixel(image, 0, 0).slice(0, 3), ...pixel(image, 1, 0).slice(0, 3)];
    for (let i = 0; i < samples.length; i++) {
      assert.ok(Math.abs(got[i] - samples[i] / 257) <= 1, `sample ${i}: ${got[i]} vs ${samples[i] / 257}`);
    }
    assert.equal(pixel(image, 0, 0)[3], 255);
  });

  it('16-bit grayscale PNG scales to 8 bits', async (t) => {
    if (skipUnlessSupported(t, 'png')) return;
    const samples = [65535, 32768, 0, 1000];
    const bytes = await sharp(new Uint16Array(samples), { raw: { width: 4, height: 1, channels: 1 } })
      .toColourspace('grey16')
      .png()
      .toBuffer();
    assert.equal((await sharp(bytes).metadata()).depth, 'ushort');
    const image = await decodeImage(bytes);
    assertDecoded(image, 4, 1, 3);
    for (let x = 0; x < 4; x++) {
      const [r, g, b, a] = pixel(image, x, 0);
      assert.ok(r === g && g === b && a === 255, `pixel ${x}: ${[r, g, b, a]}`);
      assert.ok(Math.abs(r - samples[x] / 257) <= 1, `pixel ${x}: ${r} vs ${samples[x] / 257}`);
    }
  });

  it('CMYK JPEG converts the browsers\' way: each channel (255 - X) * (255 - K) / 255, truncated, no profile', async (t) => {
    if (skipUnlessSupported(t, 'jpeg')) return;
    // Any CMYK JPEG, its samples then set to C, M, Y, K = 0, 155, 205, 55 (stored Adobe-inverted).
    const cmyk = await solid(16, 16).toColourspace('cmyk').jpeg().toBuffer();
    const bytes = await sharp(cmyk, { ignoreIcc: true }).pipelineColourspace('cmyk').linear([0, 0, 0, 0], [0, 155, 205, 55]).toColourspace('cmyk').jpeg({ quality: 100 }).toBuffer();
    assert.equal((await sharp(bytes).metadata()).space, 'cmyk', 'the fixture must really be CMYK');
    const image = await decodeImage(bytes);
    assertDecoded(image, 16, 16, 3);
    // 255 * 200 / 255, 100 * 200 / 255 = 78.4, 50 * 200 / 255 = 39.2: what Chromium gives, exactly.
    assertAllNear(image, [200, 78, 39, 255], 0);
  });

  it('EXIF orientation 6 is applied: width and height swap, content turns 90 degrees clockwise', async (t) => {
    if (skipUnlessSupported(t, 'jpeg')) return;
    // 40x20: left half red, right half blue. Shown upright (rotated 90 clockwise) it is 20x40,
    // red on top, blue below.
    const raw = new Uint8Array(40 * 20 * 3);
    for (let y = 0; y < 20; y++) for (let x = 0; x < 40; x++) raw[(y * 40 + x) * 3 + (x < 20 ? 0 : 2)] = 255;
    const bytes = await sharp(raw, { raw: { width: 40, height: 20, channels: 3 } })
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const meta = await sharp(bytes).metadata();
    assert.deepEqual([meta.width, meta.height, meta.orientation], [40, 20, 6]);
    const image = await decodeImage(bytes);
    assertDecoded(image, 20, 40, 3);
    const near = (got: number[], want: number[]) => got.every((v, i) => Math.abs(v - want[i]) <= 8);
    assert.ok(near(pixel(image, 10, 5), [255, 0, 0, 255]), `top ${pixel(image, 10, 5)}`);
    assert.ok(near(pixel(image, 10, 35), [0, 0, 255, 255]), `bottom ${pixel(image, 10, 35)}`);
  });

  it('GIF', async (t) => {
    if (skipUnlessSupported(t, 'gif')) return;
    const image = await decodeImage(await solid(7, 9).gif().toBuffer());
    assertDecoded(image, 7, 9, 4);
    assertAllNear(image, [200, 100, 50, 255], 4);
  });

  it('animated GIF gives its first frame', async (t) => {
    if (skipUnlessSupported(t, 'gif')) return;
    const red = await solid(8, 6, { r: 255, g: 0, b: 0 }).png().toBuffer();
    const blue = await solid(8, 6, { r: 0, g: 0, b: 255 }).png().toBuffer();
    const bytes = await sharp([red, blue], { join: { animated: true } }).gif().toBuffer();
    assert.equal((await sharp(bytes).metadata()).pages, 2, 'the fixture must really have 2 frames');
    const image = await decodeImage(bytes);
    assertDecoded(image, 8, 6, 4);
    assertAllNear(image, [255, 0, 0, 255], 4);
  });

  it('WebP', async (t) => {
    if (skipUnlessSupported(t, 'webp')) return;
    const image = await decodeImage(await solid(7, 9).webp({ quality: 95 }).toBuffer());
    assertDecoded(image, 7, 9, 3);
    assertAllNear(image, [200, 100, 50, 255], 6);
  });

  it('TIFF', async (t) => {
    if (skipUnlessSupported(t, 'tiff')) return;
    const image = await decodeImage(await solid(7, 9).tiff().toBuffer());
    assertDecoded(image, 7, 9, 3);
    assertAllNear(image, [200, 100, 50, 255], 0);
  });

  it('AVIF', async (t) => {
    if (skipUnlessSupported(t, 'heif')) return;
    const image = await decodeImage(await solid(16, 16).avif({ quality: 90 }).toBuffer());
    assertDecoded(image, 16, 16, 3);
    assertAllNear(image, [200, 100, 50, 255], 8);
  });

  it('1x1 and 3x500 images', async (t) => {
    if (skipUnlessSupported(t, 'png')) return;
    for (const [w, h] of [[1, 1], [3, 500], [500, 3]]) {
      const image = await decodeImage(await solid(w, h).png().toBuffer());
      assertDecoded(image, w, h, 3);
      assertAllNear(image, [200, 100, 50, 255], 0);
    }
  });

  it('a Uint8Array view at an offset into a larger buffer', async (t) => {
    if (skipUnlessSupported(t, 'png')) return;
    const png = await textured().png().toBuffer();
    const backing = new Uint8Array(png.length + 100).fill(0xab);
    backing.set(png, 50);
    const view = backing.subarray(50, 50 + png.length);
    assert.deepEqual(await decodeImage(view), await decodeImage(png));
  });

  it('accepts an image of exactly maxPixels', async (t) => {
    if (skipUnlessSupported(t, 'png')) return;
    const image = await decodeImage(await solid(100, 100).png().toBuffer(), { maxPixels: 100 * 100 });
    assertDecoded(image, 100, 100, 3);
  });

  it('ensureAlpha gives RGBA for an image without alpha, with the same colours and alpha 255', async (t) => {
    if (skipUnlessSupported(t, 'png')) return;
    const bytes = await textured().png().toBuffer();
    const rgb = await decodeImage(bytes);
    const rgba = await decodeImage(bytes, { ensureAlpha: true });
    assertDecoded(rgb, 64, 48, 3);
    assertDecoded(rgba, 64, 48, 4);
    for (let y = 0; y < 48; y += 7) for (let x = 0; x < 64; x += 5) assert.deepEqual(pixel(rgba, x, y), pixel(rgb, x, y));
  });

  it('feeds preprocess: decoded RGBA resizes to the contract', async (t) => {
    if (skipUnlessSupported(t, 'png')) return;
    const image = await decodeImage(await solid(30, 20, { r: 200, g: 100, b: 50, alpha: 1 }).png().toBuffer());
    const contract = createContract({ labels: ['cat', 'dog'], imageSize: 8 });
    const out = resizeToContract(image, contract);
    assert.equal(out.data.length, 8 * 8 * 3);
    for (let i = 0; i < out.data.length; i++) assert.equal(out.data[i], [200, 100, 50][i % 3]);
  });
});

describe('decodeImage: broken inputs', () => {
  it('BAD CALL - decodeImage of a truncated JPEG', async (t) => {
    if (skipUnlessSupported(t, 'jpeg')) return;
    const jpeg = await textured().jpeg({ quality: 90 }).toBuffer();
    const half = jpeg.subarray(0, jpeg.length >> 1);
    await assertDecodeError(decodeImage(half), `buffer (${half.length} bytes)`, /premature end of JPEG|corrupt/i);
    // Missing only the end-of-image marker is still rejected (failOn: 'warning').
    const noEoi = jpeg.subarray(0, jpeg.length - 2);
    await assertDecodeError(decodeImage(noEoi, { name: 'photo.jpg' }), 'photo.jpg', /premature end of JPEG|corrupt/i);
  });

  it('BAD CALL - decodeImage of a truncated PNG', async (t) => {
    if (skipUnlessSupported(t, 'png')) return;
    const png = await textured().png().toBuffer();
    const half = png.subarray(0, png.length >> 1);
    await assertDecodeError(decodeImage(half), `buffer (${half.length} bytes)`, /end of stream|truncated|corrupt/i);
  });

  it('BAD CALL - decodeImage of an empty buffer', async () => {
    await assertDecodeError(decodeImage(new Uint8Array(0)), 'buffer (0 bytes)', /the input is empty/);
    await assertDecodeError(decodeImage(Buffer.alloc(0), { name: 'upload #3' }), 'upload #3', /the input is empty/);
  });

  it('BAD CALL - decodeImage of an empty file', async () => {
    const path = join(dir, 'empty.jpg');
    await writeFile(path, new Uint8Array(0));
    await assertDecodeError(decodeImage(path), path, /unsupported image format|empty/i);
  });

  it('BAD CALL - decodeImage of text bytes', async () => {
    const text = new TextEncoder().encode('this is not an image, just some text\n');
    await assertDecodeError(decodeImage(text), `buffer (${text.length} bytes)`, /unsupported image format/);
  });

  it('BAD CALL - decodeImage of random bytes', async () => {
    // Deterministic (LCG) so a failure reproduces.
    const bytes = new Uint8Array(4096);
    let state = 12345;
    for (let i = 0; i < bytes.length; i++) {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      bytes[i] = state >>> 24;
    }
    await assertDecodeError(decodeImage(bytes, { name: 'noise.bin' }), 'noise.bin', /unsupported image format|corrupt/i);
  });

  it('BAD CALL - decodeImage of an HTML file named .png', async () => {
    const path = join(dir, 'page.png');
    await writeFile(path, '<!DOCTYPE html>\n<html><head><title>404</title></head><body>Not found</body></html>\n');
    await assertDecodeError(decodeImage(path), path, /unsupported image format/);
  });

  it('BAD CALL - decodeImage of a path that does not exist', async () => {
    const path = join(dir, 'no-such-image.jpg');
    await assertDecodeError(decodeImage(path), path, /missing|no such file/i);
  });

  it('BAD CALL - decodeImage of a directory', async () => {
    await assertDecodeError(decodeImage(dir), dir, /unsupported image format|directory/i);
  });

  it('BAD CALL - decodeImage of a PNG whose header claims 100000x100000', async (t) => {
    if (skipUnlessSupported(t, 'png')) return;
    // Patch IHDR (width at byte 16, height at 20) and its CRC (over type + data, bytes 12..28), so the
    // file is well-formed up to the pixel data and only the size limit can stop it.
    const png = Buffer.from(await solid(4, 4).png().toBuffer());
    assert.equal(png.toString('latin1', 12, 16), 'IHDR');
    png.writeUInt32BE(100_000, 16);
    png.writeUInt32BE(100_000, 20);
    png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
    assert.ok(100_000 * 100_000 > DEFAULT_MAX_PIXELS);
    await assertDecodeError(decodeImage(png, { name: 'bomb.png' }), 'bomb.png', /exceeds pixel limit/);
  });

  it('BAD CALL - decodeImage of an image larger than maxPixels', async (t) => {
    if (skipUnlessSupported(t, 'png')) return;
    const png = await solid(100, 100).png().toBuffer();
    await assertDecodeError(decodeImage(png, { maxPixels: 100 * 100 - 1 }), `buffer (${png.length} bytes)`, /exceeds pixel limit/);
  });
});
