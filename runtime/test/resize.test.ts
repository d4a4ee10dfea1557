// Tests for src/resize.ts: the WebAssembly SIMD kernel gives the same bytes as the JavaScript resize
// (and the same floats once normalized) on every shape and channel count it takes, and the committed
// WebAssembly is the compiled resize.wat. The JavaScript itself is checked against a direct 2D
// reference in preprocess.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createContract } from '../src/contract.js';
import { normalize, preprocess, resizeToContract } from '../src/preprocess.js';
import {
  resizeNormalizeRgbWasm,
  resizeRgbJs,
  resizeRgbWasm,
  wasmResizeAvailable,
  wasmResizeMemoryBytes,
  type RgbPixels,
} from '../src/resize.js';

/** Seeded xorshift32, so a failure names an image that can be made again. */
function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/** Noise with runs of 0 and 255, so clamping and rounding at both ends are exercised. */
function noise(width: number, height: number, channels: 3 | 4, seed: number): RgbPixels {
  const next = random(seed);
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < data.length; i++) {
    const r = next();
    data[i] = r < 0.15 ? 0 : r < 0.3 ? 255 : Math.floor(next() * 256);
  }
  if (channels === 4) for (let i = 3; i < data.length; i += 4) data[i] = 255;
  return { data, width, height, channels };
}

function jsResize(pixels: RgbPixels, outW: number, outH: number): Uint8Array {
  return resizeRgbJs({ src: pixels.data, width: pixels.width, height: pixels.height, stride: pixels.channels, offsets: [0, 1, 2] }, outW, outH);
}

function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): string | null {
  if (a.length !== b.length) return `lengths ${a.length} and ${b.length}`;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return `sample ${i}: ${a[i]} vs ${b[i]}`;
  return null;
}

// [inW, inH, outW, outH]: shrinking by integer and fractional factors, enlarging, 1-pixel sides,
// extreme aspect ratios, odd output widths (a row that is not a multiple of 8 samples).
const SHAPES: [number, number, number, number][] = [
  [500, 375, 224, 224],
  [375, 500, 224, 224],
  [64, 48, 64, 48],
  [17, 9, 224, 224],
  [1, 1, 7, 5],
  [3, 500, 224, 224],
  [500, 3, 224, 224],
  [1000, 700, 37, 23],
  [224, 224, 225, 223],
  [9, 11, 1, 1],
  [640, 480, 7, 3],
];

describe('resize: WebAssembly kernel', () => {
  it('runs in Node (a kernel that failed to load would silently leave only the JavaScript)', () => {
    assert.equal(wasmResizeAvailable(), true);
  });

  for (const [inW, inH, outW, outH] of SHAPES) {
    for (const channels of [3, 4] as const) {
      it(`gives the JavaScript's bytes: ${inW}x${inH}x${channels} -> ${outW}x${outH}`, () => {
        const pixels = noise(inW, inH, channels, inW * 7919 + inH * 31 + channels);
        const wasm = resizeRgbWasm(pixels, outW, outH);
        assert.ok(wasm, 'the kernel returned null');
        assert.equal(firstDifference(wasm, jsResize(pixels, outW, outH)), null);
      });
    }
  }

  it('gives the JavaScript bytes on a smooth photo-like image (values between integers)', () => {
    const width = 333;
    const height = 250;
    const data = new Uint8Array(width * height * 3);
    for (let i = 0; i < width * height; i++) {
      const x = i % width;
      const y = Math.floor(i / width);
      data[i * 3] = Math.round(127.5 + 127.5 * Math.sin(x / 9));
      data[i * 3 + 1] = Math.round(127.5 + 127.5 * Math.cos(y / 13));
      data[i * 3 + 2] = (x + y) & 255;
    }
    const pixels: RgbPixels = { data, width, height, channels: 3 };
    assert.equal(firstDifference(resizeRgbWasm(pixels, 224, 224) ?? [], jsResize(pixels, 224, 224)), null);
  });

  it('normalizes to the same floats as normalize() on the JavaScript bytes', () => {
    const contract = createContract({
      labels: ['cat', 'dog'],
      imageSize: { height: 31, width: 45 },
      normalization: { scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    });
    const pixels = noise(120, 90, 3, 5);
    const table = new Float32Array(768);
    const { scale, mean, std } = contract.normalization;
    for (let c = 0; c < 3; c++) for (let p = 0; p < 256; p++) table[c * 256 + p] = (p * scale - mean[c]) / std[c];
    const wasm = resizeNormalizeRgbWasm(pixels, 45, 31, table);
    assert.ok(wasm);
    assert.equal(firstDifference(wasm, normalize(Array.from(jsResize(pixels, 45, 31)), contract)), null);
    // preprocess() takes that path for opaque RGB.
    assert.equal(firstDifference(preprocess(pixels, contract), wasm), null);
  });

  it('preprocess() and resizeToContract() agree with the JavaScript for opaque RGBA, and transparent RGBA still composites', () => {
    const contract = createContract({ labels: ['cat', 'dog'], imageSize: 16 });
    const opaque = noise(50, 40, 4, 9);
    assert.equal(firstDifference(resizeToContract(opaque, contract).data, jsResize(opaque, 16, 16)), null);
    const transparent = { ...opaque, data: opaque.data.slice() };
    transparent.data[3] = 0; // one transparent pixel: composited over white, not read as is
    const out = resizeToContract(transparent, contract).data;
    assert.notEqual(firstDifference(out, jsResize(opaque, 16, 16)), null);
  });

  it('releases the memory of a very large image after its call, and keeps a small one', () => {
    resizeRgbWasm(noise(64, 64, 3, 1), 8, 8);
    const small = wasmResizeMemoryBytes();
    assert.ok(small > 0 && small <= 64 * 1024 * 1024, `memory after a small image: ${small}`);
    const big = noise(4200, 4200, 4, 2); // 70.6 MB of pixels
    const wasm = resizeRgbWasm(big, 224, 224);
    assert.ok(wasm);
    assert.equal(wasmResizeMemoryBytes(), 0);
    assert.equal(firstDifference(wasm, jsResize(big, 224, 224)), null);
    resizeRgbWasm(noise(64, 64, 3, 1), 8, 8);
    assert.ok(wasmResizeMemoryBytes() <= 64 * 1024 * 1024);
  });
});

describe('resize: bad calls', () => {
  it('BAD CALL - data shorter than its size, 1 channel, zero output, a short table', () => {
    const good = noise(8, 8, 3, 3);
    // Too short: without the check the kernel would read the previous image left in its memory.
    assert.throws(() => resizeRgbWasm({ ...good, data: new Uint8Array(10) }, 4, 4), { name: 'RangeError', message: /8x8x3 = 192 bytes.*got 10/ });
    assert.throws(() => resizeRgbWasm({ ...good, channels: 1 as 3 }, 4, 4), { name: 'RangeError', message: /3 or 4 channels; got 1/ });
    assert.throws(() => resizeRgbWasm(good, 0, 4), { name: 'RangeError', message: /Output width and height .* got 0x4/ });
    assert.throws(() => resizeRgbWasm({ ...good, width: 2.5 }, 4, 4), { name: 'RangeError', message: /got 2.5x8/ });
    assert.throws(() => resizeNormalizeRgbWasm(good, 4, 4, new Float32Array(10)), { name: 'RangeError', message: /768 floats/ });
    assert.throws(() => resizeRgbJs({ src: new Uint8Array(10), width: 8, height: 8, stride: 3, offsets: [0, 1, 2] }, 4, 4), { name: 'RangeError', message: /needs 192/ });
    assert.throws(() => resizeRgbJs({ src: good.data, width: 8, height: 8, stride: 3, offsets: [0, 1, 3] }, 4, 4), { name: 'RangeError', message: /stride 3 and offsets 0, 1, 3/ });
  });
});

describe('resize: committed WebAssembly', () => {
  it('src/wasm/resize-bytes.ts is resize.wat compiled by scripts/build-wasm.mjs', () => {
    const script = fileURLToPath(new URL('../../scripts/build-wasm.mjs', import.meta.url));
    const run = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /is up to date/);
  });
});
