// The parity suite at CI size: a model trained a few epochs on the bundled sample at 32x32, exported,
// then pets-parity on its test split (cpu, web-wasm, cuda reported as skipped, webgpu on a few images in
// Chromium), and the end-to-end Node vs browser comparison on real photos.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ProviderReport } from './src/parity/compare.js';
import type { ParityReport } from './src/parity/run-parity.js';
import { runBin, SAMPLE } from './src/cli-run.js';

const sample = SAMPLE;
const run = runBin;

let root: string;
let runDir: string;
let model: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'pets-parity-'));
  runDir = join(root, 'run');
  // The default learning rate: a trained but not over-confident model, whose export verification sits
  // far inside the 1e-5 limit (at 3e-3 the same run's most confident image reaches 8.9e-6).
  const trained = run('pets-train', '--data', sample, '--out', runDir, '--preset', 'model3', '--image-size', '32', '--epochs', '3', '--batch-size', '16');
  assert.equal(trained.code, 0, trained.stderr);
  model = join(root, 'model.onnx');
  const exported = run('pets-export', '--run', runDir, '--out', model);
  assert.equal(exported.code, 0, exported.stderr);
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('pets-parity on the bundled sample', () => {
  test('cpu and web-wasm match tfjs within 1e-5 on the whole test split; cuda skipped with a reason; webgpu within 1e-4', async () => {
    const json = join(root, 'parity.json');
    const result = run('pets-parity', '--run', runDir, '--model', model, '--webgpu-limit', '3', '--json', json);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    const report = JSON.parse(await readFile(json, 'utf8')) as ParityReport;
    assert.equal(report.images, 74);
    const by = (p: string) => report.providers.find((r) => r.provider === p) as ProviderReport;
    for (const p of ['cpu', 'web-wasm']) {
      assert.equal(by(p).status, 'pass', p);
      assert.equal(by(p).images, 74);
      assert.ok(by(p).maxAbsProbability <= 1e-5, `${p} max |Δp| ${by(p).maxAbsProbability}`);
      assert.ok((by(p).maxLogitsRelativeError ?? 1) < 1e-4, `${p} logits relative error ${by(p).maxLogitsRelativeError}`);
      assert.equal(by(p).top1Agreement, 1);
    }
    assert.equal(by('cuda').status, 'skipped');
    assert.match(by('cuda').reason ?? '', /CUDA EP not installed/);
    assert.equal(by('webgpu').status, 'pass', by('webgpu').reason);
    assert.equal(by('webgpu').images, 3);
    assert.ok(by('webgpu').maxAbsProbability <= 1e-4);
    assert.match(result.stdout, /^cpu\s+pass\s+74/m);
  });

  test('the suite fails when a tolerance is broken (an absurdly strict --max-dp)', () => {
    const result = run('pets-parity', '--run', runDir, '--model', model, '--providers', 'cpu', '--max-dp', '1e-12', '--limit', '37');
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stdout, /FAIL/);
  });

  test('end to end: the same photos in Node and in Chromium agree within 1e-3 with the same top-1', () => {
    const images = ['Abyssinian_12', 'beagle_10', 'Persian_106', 'Bombay_10'].map((n) => join(sample, 'images', `${n}.jpg`));
    const result = run('pets-parity', 'e2e', '--model', model, '--images', ...images);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /browser-wasm vs node\s+pass\s+4/);
  });
});
