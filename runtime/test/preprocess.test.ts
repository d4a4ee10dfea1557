// Unit tests for the pure preprocessing (src/preprocess.ts): pixel checks, alpha and gray handling,
// the antialiased resize (against a direct 2D reference written here) and normalization.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createContract, type ModelContract } from '../src/contract.js';
import { checkDecodedPixels, normalize, preprocess, resizeToContract, type DecodedPixels } from '../src/preprocess.js';

const LABELS = ['cat', 'dog'];

function contract(width: number, height: number, extra: Partial<Parameters<typeof createContract>[0]> = {}): ModelContract {
  return createContract({ labels: LABELS, imageSize: { height, width }, ...extra });
}

/** An image whose every pixel is `pixel` (1 to 4 samples). */
function constant(width: number, height: number, pixel: number[]): DecodedPixels {
  const channels = pixel.length as DecodedPixels['channels'];
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = pixel[i % channels];
  return { data, width, height, channels };
}

/** Deterministic synthetic image with smooth ramps and hard edges, so indexing errors show. */
function synthetic(width: number, height: number, channels: DecodedPixels['channels']): DecodedPixels {
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * channels;
      const samples = [
        (x * 5 + y * 3) % 256,
        (x * y * 7) % 256,
        Math.max(0, 255 - 8 * y),
        (x * 37 + y * 11) % 256, // alpha when channels === 4
      ];
      if (channels === 1 || channels === 2) samples[1] = samples[3];
      for (let c = 0; c < channels; c++) data[i + c] = samples[c];
    }
  }
  return { data, width, height, channels };
}

/** Max |a - b| over two equal-length sample arrays. */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

/**
 * Straightforward reference: composite to float RGB, then for each output pixel weight every input
 * pixel by the product of 1D triangle filters (width max(scale, 1), centred at (o + 0.5) * scale),
 * normalize by the total weight, round. float64 throughout, no tap windows, no separable passes.
 */
function referenceResize(pixels: DecodedPixels, c: ModelContract): Float64Array {
  const { data, width: inW, height: inH, channels } = pixels;
  const { width: outW, height: outH } = c.imageSize;
  const rgb = new Float64Array(inW * inH * 3);
  for (let i = 0; i < inW * inH; i++) {
    const alpha = channels === 2 || channels === 4 ? data[i * channels + channels - 1] / 255 : 1;
    for (let ch = 0; ch < 3; ch++) {
      const v = channels >= 3 ? data[i * channels + ch] : data[i * channels];
      rgb[i * 3 + ch] = alpha * v + (1 - alpha) * c.alphaBackground[ch];
    }
  }
  const weight = (inSize: number, outSize: number, o: number, j: number): number => {
    const scale = inSize / outSize;
    const width = Math.max(scale, 1);
    return Math.max(0, 1 - Math.abs(j + 0.5 - (o + 0.5) * scale) / width);
  };
  const out = new Float64Array(outW * outH * 3);
  for (let oy = 0; oy < outH; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      let total = 0;
      const sum = [0, 0, 0];
      for (let iy = 0; iy < inH; iy++) {
        const wy = weight(inH, outH, oy, iy);
        if (wy === 0) continue;
        for (let ix = 0; ix < inW; ix++) {
          const w = wy * weight(inW, outW, ox, ix);
          total += w;
          for (let ch = 0; ch < 3; ch++) sum[ch] += w * rgb[(iy * inW + ix) * 3 + ch];
        }
      }
      for (let ch = 0; ch < 3; ch++) out[(oy * outW + ox) * 3 + ch] = sum[ch] / total;
    }
  }
  return out;
}

function assertBadCall(fn: () => unknown, type: typeof TypeError | typeof RangeError, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    assert.equal((error as Error).name, type.name);
    assert.match((error as Error).message, pattern);
    return true;
  });
}

describe('resizeToContract', () => {
  it('keeps a constant colour exactly when shrinking and enlarging', () => {
    for (const [w, h, ow, oh] of [
      [37, 23, 16, 16],
      [5, 7, 16, 16],
      [300, 2, 16, 16],
      [1, 1, 16, 16],
      [16, 16, 3, 1],
    ]) {
      const out = resizeToContract(constant(w, h, [200, 17, 93]), contract(ow, oh));
      assert.equal(out.width, ow);
      assert.equal(out.height, oh);
      assert.deepEqual(out.data, constant(ow, oh, [200, 17, 93]).data, `${w}x${h} -> ${ow}x${oh}`);
    }
  });

  it('returns identical pixels at the same size', () => {
    const image = synthetic(23, 17, 3);
    const out = resizeToContract(image, contract(23, 17));
    assert.ok(out.data instanceof Uint8Array);
    assert.deepEqual(out.data, image.data);
  });

  it('matches hand-computed antialiased values for [0, 255, 0, 255] -> 2 pixels', () => {
    // Scale 2, filter half-width 2. Output 0 (centre 1.0) sees inputs 0, 1, 2 with weights .75, .75, .25:
    // 255 * .75 / 1.75 = 109.29. Output 1 (centre 3.0) sees inputs 1, 2, 3 with .25, .75, .75:
    // 255 * 1 / 1.75 = 145.71. (PIL's BILINEAR reduce computes the same taps.)
    const row: DecodedPixels = { data: new Uint8Array([0, 255, 0, 255]), width: 4, height: 1, channels: 1 };
    const out = resizeToContract(row, contract(2, 1));
    assert.deepEqual(Array.from(out.data), [109, 109, 109, 146, 146, 146]);
  });

  it('averages a 1-pixel checkerboard toward mid-gray when shrinking (antialiasing)', () => {
    // A point sampler would return only 0 or 255 here.
    const size = 64;
    const data = new Uint8Array(size * size);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) data[y * size + x] = (x + y) % 2 ? 255 : 0;
    const board: DecodedPixels = { data, width: size, height: size, channels: 1 };
    for (const factor of [2, 4]) {
      const out = resizeToContract(board, contract(size / factor, size / factor));
      for (const v of out.data) assert.ok(v >= 96 && v <= 160, `${factor}x shrink gave ${v}`);
    }
  });

  it('matches a direct 2D triangle-filter reference within 1 (rounding)', () => {
    const cases: Array<[DecodedPixels, number, number]> = [
      [synthetic(50, 30, 3), 16, 16], // shrink both
      [synthetic(50, 30, 3), 64, 40], // enlarge both
      [synthetic(50, 30, 3), 20, 48], // shrink x, enlarge y
      [synthetic(50, 30, 3), 7, 3], // non-integer scales
      [synthetic(50, 30, 4), 16, 16], // alpha composite before filtering
      [synthetic(50, 30, 2), 24, 24],
      [synthetic(13, 9, 1), 13, 9],
    ];
    for (const [image, ow, oh] of cases) {
      const c = contract(ow, oh, { alphaBackground: [30, 140, 250] });
      const got = resizeToContract(image, c).data;
      const want = referenceResize(image, c);
      const diff = maxDiff(got, want);
      assert.ok(diff <= 0.5 + 1e-9, `${image.width}x${image.height}x${image.channels} -> ${ow}x${oh}: max diff ${diff}`);
    }
  });

  it('expands gray to equal RGB samples', () => {
    const gray = synthetic(31, 19, 1);
    const rgbData = new Uint8Array(31 * 19 * 3);
    for (let i = 0; i < gray.data.length; i++) rgbData.fill(gray.data[i], i * 3, i * 3 + 3);
    const rgb: DecodedPixels = { data: rgbData, width: 31, height: 19, channels: 3 };
    for (const [ow, oh] of [[31, 19], [10, 10], [40, 25]]) {
      assert.deepEqual(resizeToContract(gray, contract(ow, oh)).data, resizeToContract(rgb, contract(ow, oh)).data);
    }
  });

  it('composites RGBA over the contract background', () => {
    const c = contract(2, 2, { alphaBackground: [0, 255, 100] });
    // Fully transparent: the background, whatever the colour samples say.
    assert.deepEqual(Array.from(resizeToContract(constant(2, 2, [200, 0, 50, 0]), c).data), [0, 255, 100, 0, 255, 100, 0, 255, 100, 0, 255, 100]);
    // Opaque: the colour itself.
    assert.deepEqual(Array.from(resizeToContract(constant(2, 2, [200, 0, 50, 255]), c).data.subarray(0, 3)), [200, 0, 50]);
    // Alpha 128: 128/255 of the colour plus 127/255 of the background, within 1 (rounding).
    const half = resizeToContract(constant(2, 2, [200, 0, 50, 128]), c).data;
    const a = 128 / 255;
    const want = [200 * a + 0 * (1 - a), 0 * a + 255 * (1 - a), 50 * a + 100 * (1 - a)];
    for (let i = 0; i < half.length; i++) assert.ok(Math.abs(half[i] - want[i % 3]) <= 1, `sample ${i}: ${half[i]} vs ${want[i % 3]}`);
  });

  it('composites gray+alpha like the equivalent RGBA image', () => {
    const ga = synthetic(21, 14, 2);
    const rgbaData = new Uint8Array(21 * 14 * 4);
    for (let i = 0; i < 21 * 14; i++) {
      rgbaData.fill(ga.data[i * 2], i * 4, i * 4 + 3);
      rgbaData[i * 4 + 3] = ga.data[i * 2 + 1];
    }
    const rgba: DecodedPixels = { data: rgbaData, width: 21, height: 14, channels: 4 };
    const c = contract(9, 9, { alphaBackground: [10, 128, 240] });
    assert.deepEqual(resizeToContract(ga, c).data, resizeToContract(rgba, c).data);
    const transparent = resizeToContract(constant(3, 3, [77, 0]), c).data;
    assert.deepEqual(Array.from(transparent.subarray(0, 3)), [10, 128, 240]);
  });

  it('accepts Uint8ClampedArray data (canvas ImageData)', () => {
    const image = synthetic(12, 8, 4);
    const clamped: DecodedPixels = { ...image, data: new Uint8ClampedArray(image.data) };
    const c = contract(5, 5);
    assert.deepEqual(resizeToContract(clamped, c).data, resizeToContract(image, c).data);
  });

  it('BAD CALL - resizeToContract with the wrong data length', () => {
    const image = { ...constant(4, 4, [1, 2, 3]), data: new Uint8Array(47) };
    assertBadCall(() => resizeToContract(image, contract(8, 8)), RangeError, /"data" has 47 bytes; 4x4x3 needs 48/);
  });

  it('BAD CALL - resizeToContract with 5 channels', () => {
    const image = { data: new Uint8Array(4 * 4 * 5), width: 4, height: 4, channels: 5 } as unknown as DecodedPixels;
    assertBadCall(() => resizeToContract(image, contract(8, 8)), RangeError, /"channels" must be one of: 1, 2, 3, 4; got 5/);
  });

  it('BAD CALL - resizeToContract with width 0', () => {
    const image: DecodedPixels = { data: new Uint8Array(0), width: 0, height: 4, channels: 3 };
    assertBadCall(() => resizeToContract(image, contract(8, 8)), RangeError, /"width" and "height" must be positive integers; got 0x4/);
  });

  it('BAD CALL - checkDecodedPixels with a fractional height', () => {
    const image: DecodedPixels = { data: new Uint8Array(6), width: 2, height: 1.5, channels: 2 };
    assertBadCall(() => checkDecodedPixels(image), RangeError, /got 2x1\.5/);
  });

  it('BAD CALL - resizeToContract with non-Uint8Array data', () => {
    for (const data of [new Float32Array(48), Array.from({ length: 48 }, () => 0), new Uint16Array(48)]) {
      const image = { data, width: 4, height: 4, channels: 3 } as unknown as DecodedPixels;
      assertBadCall(() => resizeToContract(image, contract(8, 8)), TypeError, /"data" must be a Uint8Array or Uint8ClampedArray/);
    }
  });
});

describe('normalize / preprocess', () => {
  const imagenet = { scale: 1 / 255, mean: [0.485, 0.456, 0.406] as [number, number, number], std: [0.229, 0.224, 0.225] as [number, number, number] };

  it('applies x = (p * scale - mean[c]) / std[c] within 1e-6', () => {
    const c = contract(2, 1, { normalization: imagenet });
    const rgb = [0, 128, 255, 17, 200, 99];
    const out = normalize(rgb, c);
    assert.ok(out instanceof Float32Array);
    assert.equal(out.length, 6);
    for (let i = 0; i < rgb.length; i++) {
      const want = (rgb[i] / 255 - imagenet.mean[i % 3]) / imagenet.std[i % 3];
      assert.ok(Math.abs(out[i] - want) <= 1e-6, `sample ${i}: ${out[i]} vs ${want}`);
    }
  });

  it('writes into a given output at an offset and leaves the rest alone', () => {
    const c = contract(1, 1, { normalization: { scale: 2, mean: [1, 2, 3], std: [2, 4, 8] } });
    const out = new Float32Array(9).fill(-99);
    const same = normalize(new Uint8Array([3, 5, 7]), c, out, 3);
    assert.equal(same, out);
    // (3*2-1)/2 = 2.5, (5*2-2)/4 = 2, (7*2-3)/8 = 1.375: exact in float32.
    assert.deepEqual(Array.from(out), [-99, -99, -99, 2.5, 2, 1.375, -99, -99, -99]);
  });

  it('preprocess gives H*W*3 normalized floats', () => {
    const c = contract(20, 12, { normalization: imagenet });
    const out = preprocess(constant(33, 9, [255, 0, 128]), c);
    assert.ok(out instanceof Float32Array);
    assert.equal(out.length, 12 * 20 * 3);
    const want = [255, 0, 128].map((p, ch) => (p / 255 - imagenet.mean[ch]) / imagenet.std[ch]);
    for (let i = 0; i < out.length; i++) assert.ok(Math.abs(out[i] - want[i % 3]) <= 1e-6, `sample ${i}`);
  });

  it('preprocess with the default contract scales to [0, 1]', () => {
    const out = preprocess(synthetic(40, 40, 3), contract(8, 8));
    for (const v of out) assert.ok(v >= 0 && v <= 1, `value ${v}`);
  });

  it('BAD CALL - normalize into a too-small output', () => {
    const c = contract(2, 2);
    assertBadCall(() => normalize(new Uint8Array(12), c, new Float32Array(11)), RangeError, /Output of 11 floats cannot hold 12 samples at offset 0/);
    assertBadCall(() => normalize(new Uint8Array(12), c, new Float32Array(12), 3), RangeError, /cannot hold 12 samples at offset 3/);
  });

  it('BAD CALL - normalize a sample count that is not a multiple of 3', () => {
    assertBadCall(() => normalize(new Uint8Array(7), contract(2, 2)), RangeError, /multiple of 3; got 7/);
  });
});
