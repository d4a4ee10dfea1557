import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createContract } from '@pets/runtime/contract';
import { decodeImage } from '@pets/runtime/node-decode';
import { resizeToContract } from '@pets/runtime/preprocess';
import sharp from 'sharp';
import { ImageCache } from '../src/data/image-cache.js';

import { PETS_MINI } from './fixtures.js';

const IMAGES = join(PETS_MINI, 'images');
const contract = createContract({ labels: ['cat', 'dog'], imageSize: { height: 32, width: 24 } });
const IMAGE_BYTES = 32 * 24 * 3;

let tmp: string;
let good: { path: string }[];
let garbage: { path: string };
let absent: { path: string };
const expected = new Map<string, Uint8Array>();

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'pets-cache-test-'));
  // A PNG with alpha named .jpg, as the official dataset has a few: decoded by content.
  const png = join(tmp, 'png-named.jpg');
  await sharp({ create: { width: 20, height: 10, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0.5 } } })
    .png()
    .toFile(png);
  good = [...['Abyssinian_12.jpg', 'american_bulldog_117.jpg', 'beagle_10.jpg'].map((f) => ({ path: join(IMAGES, f) })), { path: png }];
  garbage = { path: join(tmp, 'x.jpg') };
  await writeFile(garbage.path, 'this is not an image at all');
  absent = { path: join(tmp, 'absent.jpg') };
  for (const { path } of good) expected.set(path, resizeToContract(await decodeImage(path), contract).data);
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function checkPixels(cache: ImageCache): Promise<void> {
  for (const item of good) assert.deepEqual(await cache.get(item), expected.get(item.path), item.path);
  const batch = new Uint8Array(IMAGE_BYTES * (good.length + 1));
  await cache.fill([...good].reverse(), batch, IMAGE_BYTES);
  [...good].reverse().forEach((item, i) => {
    const at = IMAGE_BYTES * (i + 1);
    assert.deepEqual(batch.subarray(at, at + IMAGE_BYTES), expected.get(item.path));
  });
  assert.ok(batch.subarray(0, IMAGE_BYTES).every((v) => v === 0), 'bytes before offset untouched');
}

describe('ImageCache', () => {
  test('pixels equal resizeToContract(decodeImage(file)); undecodable and missing files fail, the rest load', async () => {
    const cache = new ImageCache(contract);
    const progress: [number, number][] = [];
    const items = [good[0], garbage, good[1], absent, good[2], good[3]];
    const { loaded, failed } = await cache.load(items, { concurrency: 2, onProgress: (d, t) => progress.push([d, t]) });
    assert.deepEqual(loaded, good);
    assert.deepEqual(failed.map((f) => f.item), [garbage, absent]);
    for (const f of failed) assert.match(f.error, /^Cannot decode image .*(x|absent)\.jpg: /);
    assert.deepEqual(progress.at(-1), [6, 6]);
    assert.equal(progress.length, 6);
    assert.equal(cache.imageBytes, IMAGE_BYTES);
    assert.equal(cache.size, 4);
    assert.equal(cache.bytesInMemory, 4 * IMAGE_BYTES);
    assert.equal(cache.bytesSpilled, 0);
    assert.equal(await cache.spillPath(), undefined);
    await checkPixels(cache);
    await cache.close();
  });

  test('get() returns a copy: changing it does not change the cache', async () => {
    const cache = new ImageCache(contract);
    await cache.load([good[0]]);
    (await cache.get(good[0])).fill(7);
    assert.deepEqual(await cache.get(good[0].path), expected.get(good[0].path));
    await cache.close();
  });

  test('each path is decoded once: repeated items and later loads reuse the cache', async () => {
    const cache = new ImageCache(contract);
    const totals: number[] = [];
    const first = await cache.load([good[0], good[0], { path: good[0].path }, good[1]], { onProgress: (_, t) => totals.push(t) });
    assert.equal(first.loaded.length, 4);
    assert.equal(cache.size, 2);
    const again = await cache.load(good, { onProgress: (_, t) => totals.push(t) });
    assert.deepEqual(again.loaded, good);
    assert.deepEqual(totals, [2, 2, 2, 2]);
    assert.equal(cache.size, 4);
    await cache.close();
  });

  test('beyond maxBytes images spill to disk and read back identical; close() removes the spill file', async () => {
    const spillDir = join(tmp, 'spill', 'nested');
    const cache = new ImageCache(contract, { maxBytes: IMAGE_BYTES * 1.5, spillDir });
    const { loaded, failed } = await cache.load([...good, garbage], { concurrency: 3 });
    assert.deepEqual(loaded, good);
    assert.equal(failed.length, 1);
    assert.equal(cache.bytesInMemory, IMAGE_BYTES);
    assert.equal(cache.bytesSpilled, 3 * IMAGE_BYTES);
    const spillPath = await cache.spillPath();
    assert.ok(spillPath !== undefined && spillPath.startsWith(spillDir));
    assert.equal((await stat(spillPath)).size, 3 * IMAGE_BYTES);
    await checkPixels(cache);
    await cache.close();
    assert.deepEqual(await readdir(spillDir), []);
    await cache.close(); // twice is fine
    await assert.rejects(cache.get(good[0]), { name: 'Error', message: /ImageCache is closed/ });
  });

  test('maxBytes 0 spills everything, still pixel-identical', async () => {
    const cache = new ImageCache(contract, { maxBytes: 0, spillDir: join(tmp, 'spill0') });
    await cache.load(good);
    assert.equal(cache.bytesInMemory, 0);
    await checkPixels(cache);
    await cache.close();
  });

  test('BAD CALL - fill() with an image never loaded, or an output too small', async () => {
    const cache = new ImageCache(contract);
    await cache.load([good[0]]);
    await assert.rejects(cache.fill([absent], new Uint8Array(IMAGE_BYTES)), {
      name: 'RangeError',
      message: /absent\.jpg is not in the cache; load\(\) it first/,
    });
    await assert.rejects(cache.fill([good[0]], new Uint8Array(IMAGE_BYTES), 1), {
      name: 'RangeError',
      message: /"out" holds 2304 bytes; 1 images at offset 1 need 2305/,
    });
    await cache.close();
  });

  test('BAD CALL - bad options and items', async () => {
    assert.throws(() => new ImageCache(contract, { maxBytes: -1 }), { name: 'RangeError', message: /"maxBytes" must be a number >= 0/ });
    const cache = new ImageCache(contract);
    await assert.rejects(cache.load(good, { concurrency: 0 }), { name: 'RangeError', message: /"concurrency" must be an integer in \[1, 64\]/ });
    await assert.rejects(cache.load([{ path: 3 }] as unknown as { path: string }[]), {
      name: 'TypeError',
      message: /"items" must be an array of objects with a non-empty string "path"/,
    });
    await cache.close();
  });
});
