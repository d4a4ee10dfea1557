// Tests for the contract's crop (contract.ts resizeGeometry(), resize.ts's cropped taps): the geometry
// of Teachable Machine's cropTo(), a cropped resize equal to the same columns and rows of the full resize
// to the drawn size, the WebAssembly kernel equal to the JavaScript, and old contracts unchanged.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createContract, parseContract, resizeGeometry, serializeContract, type ModelContract } from '../src/contract.js';
import { preprocess, resizeToContract } from '../src/preprocess.js';
import { resizeRgbJs, resizeRgbWasm, wasmResizeAvailable } from '../src/resize.js';

const labels = ['a', 'b'];

function noise(width: number, height: number, channels: 3 | 4, seed: number): Uint8Array {
  let s = seed;
  return new Uint8Array(width * height * channels).map((_, i) => {
    s = (s * 1103515245 + 12345) >>> 0;
    return channels === 4 && i % 4 === 3 ? 255 : s >>> 24;
  });
}

/** Rows [top, top + h) and columns [left, left + w) of an RGB picture `fullW` wide. */
function slice(rgb: Uint8Array, fullW: number, left: number, top: number, w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) out.set(rgb.subarray(((top + y) * fullW + left) * 3, ((top + y) * fullW + left + w) * 3), y * w * 3);
  return out;
}

describe('resizeGeometry()', () => {
  it("is cropTo()'s arithmetic: short side to the size (rounded up), the center kept, an odd excess on the right", () => {
    const center = createContract({ labels, imageSize: 224, crop: 'center' });
    // 500x375: scale 224/375, 500 * scale = 298.67 -> 299, excess 75 -> left floor(37.5) = 37; and
    // 375 * (224/375) is 224.00000000000003 in float64, so cropTo() draws 225 rows and keeps the top 224.
    assert.deepEqual(resizeGeometry(center, 500, 375), { drawWidth: 299, drawHeight: 225, left: 37, top: 0 });
    assert.deepEqual(resizeGeometry(center, 375, 500), { drawWidth: 225, drawHeight: 299, left: 0, top: 37 });
    assert.deepEqual(resizeGeometry(center, 112, 112), { drawWidth: 224, drawHeight: 224, left: 0, top: 0 });
    assert.deepEqual(resizeGeometry(center, 100, 100), { drawWidth: 225, drawHeight: 225, left: 0, top: 0 }); // 100 * 2.24 > 224 in float64
    assert.deepEqual(resizeGeometry(center, 6, 4), { drawWidth: 336, drawHeight: 224, left: 56, top: 0 });
    // The same expressions as cropTo(), float for float.
    for (const [w, h] of [[500, 375], [333, 500], [1023, 767], [640, 427], [7, 3]]) {
      const scale = 224 / Math.min(w, h);
      const dw = Math.ceil(w * scale);
      const dh = Math.ceil(h * scale);
      assert.deepEqual(resizeGeometry(center, w, h), { drawWidth: dw, drawHeight: dh, left: ~~((dw - 224) / 2), top: ~~((dh - 224) / 2) }, `${w}x${h}`);
    }
    assert.deepEqual(resizeGeometry(createContract({ labels, imageSize: 224 }), 500, 375), { drawWidth: 224, drawHeight: 224, left: 0, top: 0 });
  });
});

describe('center crop in preprocessing', () => {
  const contract = createContract({ labels, imageSize: { height: 40, width: 40 }, crop: 'center' });

  it('gives the columns and rows of the full resize to the drawn size, byte for byte (JavaScript and WebAssembly)', () => {
    for (const [w, h, channels] of [[101, 57, 3], [57, 101, 4], [33, 20, 3]] as const) {
      const data = noise(w, h, channels, w * h);
      const g = resizeGeometry(contract, w, h);
      const full = resizeRgbJs({ src: data, width: w, height: h, stride: channels, offsets: [0, 1, 2] }, g.drawWidth, g.drawHeight);
      const expected = slice(full, g.drawWidth, g.left, g.top, 40, 40);
      const js = resizeRgbJs({ src: data, width: w, height: h, stride: channels, offsets: [0, 1, 2] }, 40, 40, g);
      assert.deepEqual(js, expected, `${w}x${h}x${channels} JavaScript`);
      if (wasmResizeAvailable()) assert.deepEqual(resizeRgbWasm({ data, width: w, height: h, channels }, 40, 40, g), expected, `${w}x${h}x${channels} WebAssembly`);
      assert.deepEqual(resizeToContract({ data, width: w, height: h, channels }, contract).data, expected);
    }
  });

  it('preprocess() normalizes the cropped pixels; gray with alpha (the JavaScript path) crops the same way', () => {
    const w = 90;
    const h = 50;
    const gray = noise(w, h, 3, 7).subarray(0, w * h * 2).map((v, i) => (i % 2 === 1 ? 255 : v));
    const asRgb = new Uint8Array(w * h * 3);
    for (let i = 0; i < w * h; i++) asRgb.fill(gray[i * 2], i * 3, i * 3 + 3);
    const x = preprocess({ data: gray, width: w, height: h, channels: 2 }, contract);
    const bytes = resizeToContract({ data: asRgb, width: w, height: h, channels: 3 }, contract).data;
    assert.equal(x.length, 40 * 40 * 3);
    for (let i = 0; i < x.length; i++) assert.ok(Math.abs(x[i] - bytes[i] / 255) < 1e-6, `sample ${i}`);
    // And it is not the uncropped input.
    const whole = resizeToContract({ data: asRgb, width: w, height: h, channels: 3 }, { ...contract, crop: 'none' }).data;
    assert.notDeepEqual(bytes, whole);
  });
});

describe('the crop field of the contract', () => {
  it('is optional: a contract without it parses and serializes as before, and means none', () => {
    const old = createContract({ labels });
    assert.equal('crop' in old, false);
    const text = serializeContract(old);
    assert.doesNotMatch(text, /crop/);
    assert.deepEqual(parseContract(text), old);
    const centered = parseContract(JSON.stringify({ ...old, crop: 'center' }));
    assert.equal(centered.crop, 'center');
    assert.equal(parseContract(serializeContract(centered)).crop, 'center');
  });

  it('BAD INPUT - an unknown crop is a ModelContractError naming the choices', () => {
    const bad = { ...createContract({ labels }), crop: 'diagonal' } as unknown as ModelContract;
    assert.throws(() => parseContract(JSON.stringify(bad)), { name: 'ModelContractError', message: 'Unsupported crop "diagonal". Expected one of: none, center.' });
  });
});
