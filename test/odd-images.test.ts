// Odd but real image files (test/fixtures/odd-images, made by make.mjs there) give the same model input
// and probabilities in Node (sharp) and in Chromium (createImageBitmap): CMYK and YCCK JPEGs (CMYK also
// with an embedded profile, and without the Adobe marker), grayscale+alpha, palette with transparency,
// 16-bit, EXIF orientations 1-8, progressive JPEG, WebP with alpha, AVIF, animated GIF and WebP (first
// frame). The model comes from a one-epoch run on the bundled sample at 32x32.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { createClassifier, type NodeClassifier } from '@pets/runtime';
import { openBrowserRuntime, type BrowserRuntime } from './src/parity/browser.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const sample = join(repo, 'data', 'pets-mini');
const fixtures = join(repo, 'test', 'fixtures', 'odd-images');
const bin = (name: string) => join(repo, 'node_modules', '.bin', name);
/** The end-to-end limit on probabilities. */
const MAX_DP = 1e-3;
/**
 * Model input (x = p / 255) may differ by this many 8-bit levels (plus float32 rounding): Chromium's
 * canvas keeps alpha premultiplied and AVIF's YUV to RGB rounds its own way; measured: exactly 1 level for
 * alpha.webp, gray-alpha.png, palette-alpha.png and photo.avif, 0 for every other fixture.
 */
const MAX_LEVELS = 1 + 1e-4;

function run(name: string, ...args: string[]) {
  const result = spawnSync(bin(name), args, { encoding: 'utf8', timeout: 600_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

let root: string;
let node: NodeClassifier;
let browser: BrowserRuntime;
const files: string[] = [];

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'pets-odd-images-'));
  const runDir = join(root, 'run');
  const trained = run('pets-train', '--data', sample, '--out', runDir, '--preset', 'model3', '--image-size', '32', '--epochs', '1', '--batch-size', '32');
  assert.equal(trained.code, 0, trained.stderr);
  const model = join(root, 'model.onnx');
  const exported = run('pets-export', '--run', runDir, '--out', model);
  assert.equal(exported.code, 0, exported.stderr);
  const bytes = new Uint8Array(await readFile(model));
  node = await createClassifier({ model: bytes, executionProviders: ['cpu'] });
  browser = await openBrowserRuntime(bytes);
  for (const f of (await readdir(fixtures)).sort()) if (!f.endsWith('.mjs')) files.push(join(fixtures, f));
  // Not committed: sharp's CMYK profile is 0.9 MB. Both sides must ignore it (colorProfile 'ignore').
  const withProfile = join(root, 'cmyk-with-profile.jpg');
  await sharp(join(sample, 'images', 'Abyssinian_12.jpg')).resize(64, 48, { fit: 'fill' }).toColourspace('cmyk').withIccProfile('cmyk').jpeg({ quality: 90 }).toFile(withProfile);
  assert.equal((await sharp(withProfile).metadata()).hasProfile, true);
  files.push(withProfile);
});

after(async () => {
  await browser?.close();
  await node?.dispose();
  await rm(root, { recursive: true, force: true });
});

describe('odd image files in Node and in Chromium', () => {
  test('every fixture: the same model input within 1 level and the same probabilities within 1e-3', async (t) => {
    assert.ok(files.length >= 20, `${files.length} fixtures`);
    // A one-epoch model is nearly uniform, so |Δp| alone would hide different pixels: the model input
    // is compared too.
    const failures: string[] = [];
    for (const path of files) {
      const name = path.split('/').pop() ?? path;
      const nodeX = await node.preprocess(path);
      const webX = await browser.preprocessFile(path);
      const levels = maxAbsDiff(nodeX, webX) * 255;
      const nodeP = new Float32Array(node.info.labels.length);
      for (const p of await node.classify(path, { all: true })) nodeP[p.index] = p.probability;
      const dp = maxAbsDiff(nodeP, await browser.classifyFile('wasm', path));
      t.diagnostic(`${name}: model input max ${levels.toFixed(3)} levels apart, max |Δp| ${dp.toExponential(2)}`);
      if (!(levels <= MAX_LEVELS && dp <= MAX_DP)) failures.push(`${name} (${levels.toFixed(2)} levels, |Δp| ${dp.toExponential(2)})`);
    }
    assert.deepEqual(failures, []);
  });
});
