// The runtime's WebAssembly resize kernel in headless Chromium: it loads there (so browsers do not fall
// back to the JavaScript unnoticed) and gives the bytes Node's JavaScript resize gives, on a real photo
// and on noise. Decoding differences between browsers and Node are covered by the end-to-end parity.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeImage } from '@pets/runtime/node-decode';
import { resizeRgbJs } from '@pets/runtime/resize';
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

function jsResize(p: { data: Uint8Array; width: number; height: number; channels: 3 | 4 }, outW: number, outH: number): Uint8Array {
  return resizeRgbJs({ src: p.data, width: p.width, height: p.height, stride: p.channels, offsets: [0, 1, 2] }, outW, outH);
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
