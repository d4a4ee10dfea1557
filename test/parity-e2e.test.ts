// pets-parity e2e on odd inputs: files one side cannot decode (a TIFF Chromium does not take, a zero-byte
// .jpg) are reported and skipped while the photos both sides decode are compared; an empty model file is
// a user error. The model comes from a one-epoch run on the bundled sample at 32x32.
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import type { E2eReport } from './src/parity/run-e2e.js';
import { runBin, SAMPLE } from './src/cli-run.js';

const sample = SAMPLE;
const run = runBin;

let root: string;
let runDir: string;
let model: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'pets-parity-e2e-'));
  runDir = join(root, 'run');
  const trained = run('pets-train', '--data', sample, '--out', runDir, '--preset', 'model3', '--image-size', '32', '--epochs', '1', '--batch-size', '32');
  assert.equal(trained.code, 0, trained.stderr);
  model = join(root, 'model.onnx');
  const exported = run('pets-export', '--run', runDir, '--out', model);
  assert.equal(exported.code, 0, exported.stderr);
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('pets-parity e2e on a folder with files a side cannot decode', () => {
  test('a TIFF (Chromium cannot decode it) and a zero-byte .jpg are reported and skipped; the photos are compared', async () => {
    const folder = join(root, 'mixed');
    await mkdir(folder);
    for (const n of ['Abyssinian_12', 'beagle_10']) await copyFile(join(sample, 'images', `${n}.jpg`), join(folder, `${n}.jpg`));
    await sharp(join(sample, 'images', 'Bombay_10.jpg')).tiff().toFile(join(folder, 'Bombay_10.tiff'));
    await writeFile(join(folder, 'empty.jpg'), new Uint8Array(0));
    const json = join(root, 'e2e.json');
    const result = run('pets-parity', 'e2e', '--model', model, '--images', folder, '--json', json);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    assert.doesNotMatch(result.stderr, /unexpected error/);
    assert.match(result.stdout, /browser-wasm vs node\s+pass\s+2/);
    assert.match(result.stdout, /^skipped Bombay_10\.tiff, not decoded by the browser: .*Bombay_10\.tiff: the browser cannot decode it/m);
    assert.match(result.stdout, /^skipped empty\.jpg, not decoded by Node nor the browser: node: .*empty\.jpg: the file is empty; browser: .*the input is empty/m);
    assert.match(result.stdout, /^2 images compared, 2 skipped/m);
    const report = JSON.parse(await readFile(json, 'utf8')) as E2eReport;
    assert.deepEqual(report.skippedImages.map((s) => [s.image, s.side]), [['Bombay_10.tiff', 'browser'], ['empty.jpg', 'both']]);
    assert.ok(report.maxAbsProbability <= 1e-3, `max |Δp| ${report.maxAbsProbability}`);
  });

  test('only files neither side compares: FAIL with that reason, exit code 1, no unexpected error', async () => {
    const folder = join(root, 'bad-only');
    await mkdir(folder);
    await writeFile(join(folder, 'empty.jpg'), new Uint8Array(0));
    const result = run('pets-parity', 'e2e', '--model', model, '--images', folder);
    assert.equal(result.code, 1, result.stdout);
    assert.doesNotMatch(result.stderr, /unexpected error/);
    assert.match(result.stdout, /0 images compared, 1 skipped/);
    assert.match(result.stdout, /FAIL: no image was decoded on both sides/);
  });

  test('BAD CALL - an empty .onnx file is "not an ONNX file", in both modes', async () => {
    const empty = join(root, 'empty.onnx');
    await writeFile(empty, new Uint8Array(0));
    for (const args of [['e2e', '--model', empty, '--images', join(sample, 'images', 'beagle_10.jpg')], ['--run', runDir, '--model', empty, '--providers', 'cpu']]) {
      const result = run('pets-parity', ...args);
      assert.equal(result.code, 1, result.stdout);
      assert.match(result.stderr, /^pets-parity: The model is empty \(0 bytes\): not an ONNX file/);
    }
  });
});
