// A Teachable Machine export through pets-export --tfjs: the contract comes from its metadata.json and
// matches what @teachablemachine/image's own capture() feeds the model; the export verifies against tfjs.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ONNX_METADATA_KEYS, createContract, resizeGeometry } from '@pets/runtime/contract';
import { decodeImage } from '@pets/runtime/node-decode';
import { preprocess, resizeToContract, type DecodedPixels } from '@pets/runtime/preprocess';
import { tf, type Tensor } from '@pets/train/tfjs';
import { decodeModel, exportTfjsModel } from '../src/index.js';
import { TEACHABLE_MACHINE_CROP, TEACHABLE_MACHINE_NORMALIZATION } from '../src/foreign/contract.js';
import { checkModel } from './onnx-checker.js';
import { PETS_MINI, ready, REPO_ROOT } from './fixtures.js';
import { buildTeachableMachineModel, TM_LABELS, tmMetadata } from './teachable-machine/build.js';

type Capture = (pixels: { data: Uint8Array; width: number; height: number }) => Tensor;
// capture() calls chained ops (img.slice(...).expandDims(0).toFloat().div(...).sub(...)), which the
// @tensorflow/tfjs umbrella registers on tfjs-core's Tensor and tfjs-core's Node build does not: the same
// one-line wrappers as tfjs-core/src/public/chained_ops/{slice,expand_dims,to_float,div,sub}.ts.
const chained = tf.Tensor.prototype as unknown as Record<string, (this: Tensor, ...args: never[]) => Tensor>;
chained.slice ??= function (this: Tensor, begin: number[], size: number[]) { return tf.slice(this, begin, size); } as never;
chained.expandDims ??= function (this: Tensor, axis: number) { return tf.expandDims(this, axis); } as never;
chained.toFloat ??= function (this: Tensor) { return tf.cast(this, 'float32'); };
chained.div ??= function (this: Tensor, b: Tensor) { return tf.div(this, b); } as never;
chained.sub ??= function (this: Tensor, b: Tensor) { return tf.sub(this, b); } as never;
const { capture } = createRequire(import.meta.url)(join(REPO_ROOT, 'export', 'test', 'teachable-machine', 'capture.cjs')) as { capture: Capture };

let root: string;
before(async () => {
  await ready();
  root = await mkdtemp(join(tmpdir(), 'pets-tm-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A drawImage(image, dx, dy, dw, dh) call as cropTo() makes it. */
interface Draw {
  dx: number;
  dy: number;
  dw: number;
  dh: number;
}
type CropTo = (image: { width: number; height: number; pixels: Tensor }, size: number, flipped: boolean, canvas: unknown) => unknown;
// cropTo() checks `image instanceof HTMLVideoElement`, a browser global.
(globalThis as Record<string, unknown>).HTMLVideoElement ??= class {};
const { cropTo } = createRequire(import.meta.url)(join(REPO_ROOT, 'export', 'test', 'teachable-machine', 'canvas.cjs')) as { cropTo: CropTo };

/**
 * Teachable Machine's own cropTo() (the library's code, vendored) on a stand-in canvas that records its
 * drawImage() call and draws as a browser canvas does without antialiasing: bilinear with half-pixel
 * centres (tfjs resizeBilinear), edges clamped, stored as 8-bit. Returns the canvas's RGBA and the call.
 */
function teachableMachineCanvas(photo: DecodedPixels, size: number): { rgba: Uint8Array; draw: Draw } {
  let draw: Draw | undefined;
  let rgba = new Uint8Array(0);
  const canvas = {
    width: 0,
    height: 0,
    getContext: () => ({
      drawImage(image: { pixels: Tensor }, dx: number, dy: number, dw: number, dh: number) {
        draw = { dx, dy, dw, dh };
        const drawn = tf.tidy(() => {
          const resized = tf.image.resizeBilinear(image.pixels as never, [dh, dw], false, true);
          const kept = tf.slice(resized, [-dy, -dx, 0], [size, size, 3]);
          const bytes = tf.clipByValue(tf.round(kept), 0, 255);
          return tf.concat([bytes, tf.fill([size, size, 1], 255)], 2).dataSync();
        });
        rgba = Uint8Array.from(drawn);
      },
    }),
  };
  tf.tidy(() => {
    const pixels = tf.slice(tf.tensor3d(Int32Array.from(photo.data), [photo.height, photo.width, photo.channels], 'int32'), [0, 0, 0], [photo.height, photo.width, 3]);
    cropTo({ width: photo.width, height: photo.height, pixels }, size, false, canvas);
  });
  assert.ok(draw, 'cropTo() drew nothing');
  assert.deepEqual([canvas.width, canvas.height], [size, size]);
  return { rgba, draw };
}

const TM_CONTRACT = createContract({ labels: TM_LABELS, imageSize: 224, normalization: TEACHABLE_MACHINE_NORMALIZATION, crop: TEACHABLE_MACHINE_CROP });

describe("Teachable Machine's preprocessing", () => {
  test("capture() (the library's own code) and the detected contract give the same tensor within 1e-6", async () => {
    // A square photo at the model's size: Teachable Machine's cropTo() draws it 1:1 and capture() keeps all of it.
    const photo = await decodeImage(join(PETS_MINI, 'images', 'Bengal_109.jpg'));
    const square = resizeToContract(photo, createContract({ labels: ['a', 'b'], imageSize: 224 }));
    const rgba = new Uint8Array(224 * 224 * 4).fill(255);
    for (let i = 0; i < 224 * 224; i++) rgba.set(square.data.subarray(i * 3, i * 3 + 3), i * 4);
    const theirs = tf.tidy(() => capture({ data: rgba, width: 224, height: 224 }).dataSync() as Float32Array);
    const ours = preprocess({ data: square.data, width: 224, height: 224, channels: 3 }, TM_CONTRACT);
    assert.equal(ours.length, theirs.length);
    let max = 0;
    for (let i = 0; i < ours.length; i++) max = Math.max(max, Math.abs(ours[i] - theirs[i]));
    assert.ok(max <= 1e-6, `max |Δx| ${max}`);
    // x / 127 - 1: white is 1.00787, not 1 (x / 127.5 - 1 would be off by 7.9e-3 there).
    const white = preprocess({ data: new Uint8Array([255, 255, 255]), width: 1, height: 1, channels: 3 }, { ...TM_CONTRACT, imageSize: { height: 1, width: 1 } });
    assert.ok(Math.abs(white[0] - (255 / 127 - 1)) < 1e-6, `white -> ${white[0]}`);
  });

  // Non-square photos of the sample, landscape and portrait, shrunk and enlarged, odd and even excess.
  const photos = ['Abyssinian_158.jpg', 'Abyssinian_12.jpg', 'Bengal_135.jpg', 'Birman_15.jpg'];
  test(`cropTo() + capture() on non-square photos: the same crop geometry exactly, pixels within 0.012 mean |Δx|, one 8-bit level where enlarged (${photos.join(', ')})`, async () => {
    for (const name of photos) {
      const photo = await decodeImage(join(PETS_MINI, 'images', name));
      assert.notEqual(photo.width, photo.height);
      const { rgba, draw } = teachableMachineCanvas(photo, 224);
      // The geometry: cropTo()'s drawImage call is the contract's resizeGeometry(), to the pixel.
      const g = resizeGeometry(TM_CONTRACT, photo.width, photo.height);
      assert.deepEqual({ dx: -draw.dx, dy: -draw.dy, dw: draw.dw, dh: draw.dh }, { dx: g.left, dy: g.top, dw: g.drawWidth, dh: g.drawHeight }, name);
      const theirs = tf.tidy(() => capture({ data: rgba, width: 224, height: 224 }).dataSync() as Float32Array);
      const ours = preprocess(photo, TM_CONTRACT);
      const whole = preprocess(photo, { ...TM_CONTRACT, crop: 'none' });
      let sum = 0;
      let sumWhole = 0;
      let max = 0;
      for (let i = 0; i < ours.length; i++) {
        max = Math.max(max, Math.abs(ours[i] - theirs[i]));
        sum += Math.abs(ours[i] - theirs[i]);
        sumWhole += Math.abs(whole[i] - theirs[i]);
      }
      const mean = sum / ours.length;
      const meanWhole = sumWhole / ours.length;
      // Left: bilinear without antialiasing (the stand-in canvas) vs pets' antialiased triangle filter.
      // Shrunk (500x375, 335x500, 281x500): measured mean 0.0055-0.0070 (under one 8-bit level, 1/127 =
      // 0.0079), max 0.11-0.39 on sharp edges the canvas aliases. Enlarged (300x145, short side 145 -> 224):
      // the two filters are the same, measured mean 0.0000, max one level (rounding).
      assert.ok(mean <= 0.012, `${name}: mean |Δx| ${mean.toFixed(4)}`);
      if (Math.min(photo.width, photo.height) <= 224) assert.ok(max <= 1 / 127 + 1e-6, `${name} (enlarged): max |Δx| ${max}`);
      // The whole image squeezed (crop none) is far off: the crop is what makes the two agree.
      assert.ok(meanWhole > 3 * mean, `${name}: crop none ${meanWhole.toFixed(4)} vs center ${mean.toFixed(4)}`);
      console.log(`${name} ${photo.width}x${photo.height}: mean |Δx| ${mean.toFixed(4)}, max ${max.toFixed(4)} (crop none: mean ${meanWhole.toFixed(4)})`);
    }
  });

  test('capture() of a non-square image keeps its center square (what pets users must crop to match)', () => {
    const data = new Uint8Array(6 * 4 * 4);
    for (let x = 0; x < 6; x++) for (let y = 0; y < 4; y++) data.set([x * 40, y * 60, 7, 255], (y * 6 + x) * 4);
    const out = tf.tidy(() => capture({ data, width: 6, height: 4 }).arraySync() as number[][][][]);
    assert.deepEqual([out.length, out[0].length, out[0][0].length], [1, 4, 4]);
    assert.ok(Math.abs(out[0][0][0][0] - (40 / 127 - 1)) < 1e-6, 'column 1 of 6 starts the center square');
  });
});

describe('pets-export --tfjs on a Teachable Machine export', () => {
  let dir: string;
  before(async () => {
    dir = join(root, 'tm-model');
    (await buildTeachableMachineModel(dir)).dispose();
  });

  test('labels, size and normalization come from metadata.json; the export verifies within 1e-5', async () => {
    const out = join(root, 'tm.onnx');
    const result = await exportTfjsModel({ tfjs: dir, out });
    assert.equal(result.format, 'layers');
    assert.deepEqual(result.contract.labels, TM_LABELS);
    assert.deepEqual(result.contract.imageSize, { height: 224, width: 224 });
    assert.deepEqual(result.contract.normalization, { scale: 1 / 127, mean: [1, 1, 1], std: [1, 1, 1] });
    assert.equal(result.contract.crop, 'center');
    assert.ok(result.verification.passed && result.verification.maxAbsDiff <= 1e-5, `max |Δp| ${result.verification.maxAbsDiff}`);
    assert.ok(result.verification.images === 8);
    const model = decodeModel(new Uint8Array(await readFile(out)));
    checkModel(model);
    const stored = JSON.parse(model.metadata_props.find((p) => p.key === ONNX_METADATA_KEYS.contract)?.value ?? '{}');
    assert.deepEqual(stored.labels, TM_LABELS);
    assert.equal(stored.crop, 'center');
    const provenance = JSON.parse(model.metadata_props.find((p) => p.key === ONNX_METADATA_KEYS.provenance)?.value ?? '{}');
    assert.equal(provenance.metadata.packageName, '@teachablemachine/image');
    assert.match(provenance.bundleSha256, /^[0-9a-f]{64}$/);
  });

  test('flags override metadata.json: --normalize symmetric, --crop none and --labels from a JSON file', async () => {
    const labels = join(root, 'labels.json');
    await writeFile(labels, JSON.stringify(['a', 'b', 'c']));
    const result = await exportTfjsModel({ tfjs: join(dir, 'model.json'), out: join(root, 'tm-flags.onnx'), normalize: 'symmetric', crop: 'none', labels, verifyImages: 2 });
    assert.deepEqual(result.contract.labels, ['a', 'b', 'c']);
    assert.equal(result.contract.crop, undefined);
    assert.equal(result.contract.normalization.scale, 1 / 127.5);
  });

  test('BAD CALL - metadata.json with an imageSize the model does not take: one line, no file', async () => {
    const other = join(root, 'tm-160');
    await rm(other, { recursive: true, force: true });
    const { cp } = await import('node:fs/promises');
    await cp(dir, other, { recursive: true });
    await writeFile(join(other, 'metadata.json'), JSON.stringify(tmMetadata(TM_LABELS, 160)));
    const out = join(root, 'tm-160.onnx');
    await assert.rejects(exportTfjsModel({ tfjs: other, out }), { name: 'ModelContractError', message: /input size 224x224 does not match the contract's 160x160 \(imageSize of .*metadata.json\)/ });
    await assert.rejects(readFile(out), { code: 'ENOENT' });
  });
});
