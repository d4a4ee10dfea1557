// The runtime's WebAssembly resize kernel in headless Chromium: it loads there (so browsers do not fall
// back to the JavaScript unnoticed) and gives the bytes Node's JavaScript resize gives, on a real photo
// and on noise, whole or center-cropped (contract crop 'center'); and that crop against Teachable
// Machine's own cropTo() on Chromium's canvas. Decoding differences between browsers and Node are
// covered by the end-to-end parity.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createContract, resizeGeometry } from '@pets/runtime/contract';
import { decodeImage } from '@pets/runtime/node-decode';
import { resizeToContract } from '@pets/runtime/preprocess';
import { resizeRgbJs, type ResizeCrop } from '@pets/runtime/resize';
import { openBrowserRuntime, type BrowserRuntime } from './src/parity/browser.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const photo = join(repo, 'data', 'pets-mini', 'images', 'Abyssinian_158.jpg');

let browser: BrowserRuntime;
before(async () => {
  // The page only fetches its model when asked to classify, which this test never does.
  browser = await openBrowserRuntime(new Uint8Array(0));
});
after(async () => {
  await browser?.close();
});

function jsResize(p: { data: Uint8Array; width: number; height: number; channels: 3 | 4 }, outW: number, outH: number, crop?: ResizeCrop): Uint8Array {
  return resizeRgbJs({ src: p.data, width: p.width, height: p.height, stride: p.channels, offsets: [0, 1, 2] }, outW, outH, crop);
}

describe('WebAssembly resize in Chromium', () => {
  test('the kernel runs and resizes a decoded photo to the bytes of Node\'s JavaScript resize', async () => {
    const decoded = await decodeImage(new Uint8Array(await readFile(photo)));
    assert.equal(decoded.channels, 3);
    const pixels = { data: Uint8Array.from(decoded.data), width: decoded.width, height: decoded.height, channels: 3 as const };
    const out = await browser.resize(pixels, 224, 224);
    assert.equal(out.kernel, true, 'WebAssembly SIMD kernel unavailable in Chromium');
    assert.ok(out.bytes);
    assert.deepEqual(out.bytes, jsResize(pixels, 224, 224));
  });

  test('RGBA noise to an odd size gives the same bytes', async () => {
    const width = 97;
    const height = 61;
    const data = new Uint8Array(width * height * 4).map((_, i) => (i % 4 === 3 ? 255 : (i * 2654435761) >>> 24));
    const pixels = { data, width, height, channels: 4 as const };
    const out = await browser.resize(pixels, 45, 33);
    assert.deepEqual(out.bytes, jsResize(pixels, 45, 33));
  });
});

describe("center crop (contract crop 'center') in Chromium", () => {
  const center = createContract({ labels: ['a', 'b'], imageSize: 224, crop: 'center' });

  test('the kernel crops a 500x375 photo and RGBA noise to the bytes of Node\'s JavaScript', async () => {
    const decoded = await decodeImage(new Uint8Array(await readFile(photo)));
    const pixels = { data: Uint8Array.from(decoded.data), width: decoded.width, height: decoded.height, channels: 3 as const };
    const crop = resizeGeometry(center, pixels.width, pixels.height);
    assert.deepEqual(crop, { drawWidth: 299, drawHeight: 225, left: 37, top: 0 });
    const out = await browser.resize(pixels, 224, 224, crop);
    assert.equal(out.kernel, true);
    assert.deepEqual(out.bytes, jsResize(pixels, 224, 224, crop));
    const width = 61;
    const height = 97;
    const data = new Uint8Array(width * height * 4).map((_, i) => (i % 4 === 3 ? 255 : (i * 2654435761) >>> 24));
    const noise = { data, width, height, channels: 4 as const };
    const small = resizeGeometry({ imageSize: { height: 33, width: 45 }, crop: 'center' }, width, height);
    assert.deepEqual((await browser.resize(noise, 45, 33, small)).bytes, jsResize(noise, 45, 33, small));
  });

  // Teachable Machine's cropTo() on Chromium's canvas (drawImage, default smoothing) vs the contract's
  // center crop of the same decoded pixels: the crop geometry is the same (tested exactly in
  // export/test/foreign-teachable.test.ts); the resampling differs when shrinking.
  const photos: Array<[string, number, number]> = [
    // name, limit on mean |Δ| and on max |Δ| in 8-bit levels (measured: see docs/byo-model.md)
    ['Abyssinian_158.jpg', 1.5, 24], // shrunk 0.6x: measured mean 0.97, max 14
    ['Bengal_135.jpg', 1, 8], // enlarged 1.55x: measured mean 0.55, max 5
  ];
  for (const [name, meanLimit, maxLimit] of photos) {
    test(`Teachable Machine's cropTo() on the canvas and the center crop agree on ${name}: mean |Δ| <= ${meanLimit} levels, max <= ${maxLimit}`, async () => {
      const decoded = await decodeImage(new Uint8Array(await readFile(join(repo, 'data', 'pets-mini', 'images', name))), { ensureAlpha: true });
      assert.equal(decoded.channels, 4);
      const source = await readFile(join(repo, 'export', 'test', 'teachable-machine', 'canvas.cjs'), 'utf8');
      const theirs = await browser.cropTo(source, Uint8Array.from(decoded.data), decoded.width, decoded.height, 224);
      const ours = resizeToContract(decoded, center).data;
      const whole = resizeToContract(decoded, { ...center, crop: 'none' }).data;
      assert.equal(theirs.length, ours.length);
      let sum = 0;
      let sumWhole = 0;
      let max = 0;
      for (let i = 0; i < ours.length; i++) {
        max = Math.max(max, Math.abs(ours[i] - theirs[i]));
        sum += Math.abs(ours[i] - theirs[i]);
        sumWhole += Math.abs(whole[i] - theirs[i]);
      }
      const mean = sum / ours.length;
      console.log(`${name} ${decoded.width}x${decoded.height}: mean |Δ| ${mean.toFixed(3)} levels, max ${max} (crop none: mean ${(sumWhole / ours.length).toFixed(3)})`);
      assert.ok(mean <= meanLimit, `mean |Δ| ${mean}`);
      assert.ok(max <= maxLimit, `max |Δ| ${max}`);
      assert.ok(sumWhole > 3 * sum, 'the center crop is closer to cropTo() than the whole image');
    });
  }
});
