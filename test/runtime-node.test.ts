// @pets/runtime on a real exported model: Node (onnxruntime-node) and the web entry (onnxruntime-web's
// wasm backend, in Node). The model comes from a tiny run on the bundled sample, exported by pets-export.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs/minimal.js';
import sharp from 'sharp';
import { classify, createClassifier, disposeCachedClassifiers, type NodeClassifier } from '@pets/runtime';
import { ONNX_METADATA_KEYS, serializeContract } from '@pets/runtime/contract';
import { decodeImage } from '@pets/runtime/node-decode';
import * as web from '@pets/runtime/web';
import { loadDataset, makeBatch, openSplits } from '@pets/train';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const sample = join(repo, 'data', 'pets-mini');
const bin = (name: string) => join(repo, 'node_modules', '.bin', name);
const photo = join(sample, 'images', 'Abyssinian_12.jpg');

function run(name: string, ...args: string[]) {
  const result = spawnSync(bin(name), args, { encoding: 'utf8', timeout: 300_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Replaces an ONNX file's metadata_props (field 14) with `props`, keeping every other top-level field. */
function withMetadata(bytes: Uint8Array, props: Record<string, string>): Uint8Array {
  const parts: Uint8Array[] = [];
  const reader = protobuf.Reader.create(bytes);
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const tag = reader.uint32();
    reader.skipType(tag & 7);
    if (tag >>> 3 !== 14) parts.push(bytes.subarray(start, reader.pos));
  }
  const writer = protobuf.Writer.create();
  for (const [key, value] of Object.entries(props)) {
    writer.uint32((14 << 3) | 2).fork().uint32((1 << 3) | 2).string(key).uint32((2 << 3) | 2).string(value).ldelim();
  }
  parts.push(writer.finish());
  return Uint8Array.from(parts.flatMap((part) => [...part]));
}

let root: string;
let model: string;
let modelBytes: Uint8Array;
let classifier: NodeClassifier;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'pets-runtime-'));
  const runDir = join(root, 'run');
  const trained = run('pets-train', '--data', sample, '--out', runDir, '--preset', 'model3', '--image-size', '32', '--epochs', '1', '--batch-size', '32');
  assert.equal(trained.code, 0, trained.stderr);
  model = join(root, 'model.onnx');
  const exported = run('pets-export', '--run', runDir, '--out', model);
  assert.equal(exported.code, 0, exported.stderr);
  modelBytes = new Uint8Array(await readFile(model));
  classifier = await createClassifier({ model });
});

after(async () => {
  await classifier?.dispose();
  await disposeCachedClassifiers();
  await rm(root, { recursive: true, force: true });
});

describe('classify() in Node', () => {
  test('a photo gives the top 5 breeds, sorted, labels from the model', async () => {
    const top = await classify(photo, { model });
    assert.equal(top.length, 5);
    for (let i = 1; i < top.length; i++) assert.ok(top[i - 1].probability >= top[i].probability);
    const labels = classifier.info.labels;
    assert.equal(labels.length, 37);
    for (const p of top) assert.equal(p.label, labels[p.index]);
    const all = await classify(photo, { model, all: true });
    assert.equal(all.length, 37);
    assert.ok(Math.abs(all.reduce((s, p) => s + p.probability, 0) - 1) < 1e-5, 'probabilities sum to 1 within 1e-5');
  });

  test('info says CPU runs and why CUDA does not, in words a user can act on', () => {
    assert.equal(classifier.info.executionProvider, 'cpu');
    assert.match(classifier.info.reason ?? '', /CUDA EP not installed: .*ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node.*CUDA 12/);
    assert.deepEqual(classifier.info.inputSize, { height: 32, width: 32 });
    assert.equal(typeof classifier.info.provenance?.epoch, 'number');
  });

  test('BAD CALL - explicit cuda fails clearly', async () => {
    await assert.rejects(createClassifier({ model, executionProviders: ['cuda'] }), { name: 'ExecutionProviderError', message: /"cuda" cannot run: CUDA EP not installed/ });
    await assert.rejects(createClassifier({ model, executionProviders: ['tpu' as 'cpu'] }), { name: 'RangeError', message: /Expected 'auto' or a list of: cuda, cpu/ });
  });

  test('BAD CALL - threads, spinning and maxBytes of the wrong type or range', async () => {
    await assert.rejects(createClassifier({ model, threads: 0 }), { name: 'RangeError', message: /"threads" must be a positive integer; got 0/ });
    await assert.rejects(createClassifier({ model, spinning: 'yes' as unknown as boolean }), { name: 'RangeError', message: /"spinning" must be true or false; got yes/ });
    await assert.rejects(createClassifier({ model, maxBytes: -1 }), { name: 'RangeError', message: /"maxBytes" must be a positive integer; got -1/ });
  });

  test('odd but valid images all classify', async () => {
    const base = sharp(photo).resize(40, 30);
    const inputs: Record<string, Buffer> = {
      grayscale: await base.clone().toColourspace('b-w').png().toBuffer(),
      cmyk: await base.clone().toColourspace('cmyk').jpeg().toBuffer(),
      rgbaPng: await base.clone().ensureAlpha(0.5).png().toBuffer(),
      png16: await base.clone().toColourspace('rgb16').png().toBuffer(),
      exifRotated: await base.clone().jpeg().withMetadata({ orientation: 6 }).toBuffer(),
      gif: await base.clone().gif().toBuffer(),
      webp: await base.clone().webp().toBuffer(),
      tiff: await base.clone().tiff().toBuffer(),
      onePixel: await sharp({ create: { width: 1, height: 1, channels: 3, background: '#808080' } }).png().toBuffer(),
      tall: await sharp({ create: { width: 3, height: 500, channels: 3, background: '#336699' } }).jpeg().toBuffer(),
    };
    const outcomes = await classifier.classify(Object.values(inputs));
    outcomes.forEach((o, i) => assert.ok(o.ok && o.predictions.length === 5, `${Object.keys(inputs)[i]}: ${o.ok ? '' : o.error.message}`));
  });

  test('BAD CALL - broken inputs give ImageDecodeError naming the input; the rest of the batch is classified', async () => {
    const jpeg = await readFile(photo);
    const huge = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } }).png().toBuffer();
    const bad: Record<string, Uint8Array | string> = {
      truncated: jpeg.subarray(0, jpeg.length / 2),
      empty: new Uint8Array(0),
      text: Buffer.from('just some text, not an image'),
      random: Uint8Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24),
      missing: join(root, 'no-such-file.jpg'),
    };
    const htmlPng = join(root, 'page.png');
    await writeFile(htmlPng, '<!doctype html><html><body>not a png</body></html>');
    bad.htmlNamedPng = htmlPng;
    const outcomes = await classifier.classify([photo, ...Object.values(bad), photo]);
    assert.ok(outcomes[0].ok && outcomes.at(-1)?.ok, 'good items around the bad ones are classified');
    outcomes.slice(1, -1).forEach((o, i) => {
      assert.ok(!o.ok, Object.keys(bad)[i]);
      assert.equal(o.error.name, 'ImageDecodeError');
      assert.match(o.error.message, /^Cannot decode image (buffer #\d+ \(\d+ bytes\)|\/.+): /);
    });
    await assert.rejects(classify(htmlPng, { model }), { name: 'ImageDecodeError', message: /page\.png/ });
    const bomb = await createClassifier({ model, maxPixels: 63 });
    await assert.rejects(bomb.classify(huge), { name: 'ImageDecodeError', message: /pixel/i });
    await bomb.dispose();
  });

  test('100 parallel classify() calls all succeed and equal sequential results within 1e-6', async () => {
    const files = ['Abyssinian_12', 'beagle_10', 'Bombay_10', 'Persian_106'].map((n) => join(sample, 'images', `${n}.jpg`));
    const expected = await Promise.all(files.map((f) => classifier.classify(f, { all: true })));
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => classify(files[i % files.length], { model, all: true })));
    results.forEach((r, i) => {
      const e = expected[i % files.length];
      for (let k = 0; k < e.length; k++) {
        assert.equal(r[k].index, e[k].index);
        assert.ok(Math.abs(r[k].probability - e[k].probability) < 1e-6);
      }
    });
  });

  test('a batch of 40 (three groups of maxBatch 16) equals one-by-one results, and spinning threads change nothing', async () => {
    const names = ['Abyssinian_12', 'beagle_10', 'Bombay_10', 'Persian_106', 'Birman_144'];
    const files = Array.from({ length: 40 }, (_, i) => join(sample, 'images', `${names[i % names.length]}.jpg`));
    const expected = await Promise.all(names.map((n) => classifier.classify(join(sample, 'images', `${n}.jpg`), { all: true })));
    const spinning = await createClassifier({ model, spinning: true, threads: 2 });
    try {
      for (const c of [classifier, spinning]) {
        const outcomes = await c.classify(files, { all: true });
        assert.equal(outcomes.length, 40);
        outcomes.forEach((outcome, i) => {
          assert.ok(outcome.ok, `item ${i}`);
          const e = expected[i % names.length];
          outcome.predictions.forEach((p, k) => {
            assert.equal(p.index, e[k].index);
            assert.ok(Math.abs(p.probability - e[k].probability) < 1e-6, `item ${i}, rank ${k}`);
          });
        });
      }
    } finally {
      await spinning.dispose();
    }
  });

  test('BAD CALL - a model without the contract, or whose outputs do not match its labels', async () => {
    const bare = withMetadata(modelBytes, {});
    await assert.rejects(createClassifier({ model: bare }), { name: 'ModelContractError', message: /no "pets\.contract" metadata/ });
    const fewer = serializeContract({ ...classifier.info.contract, labels: classifier.info.labels.slice(0, 36) });
    const mismatched = withMetadata(modelBytes, { [ONNX_METADATA_KEYS.contract]: fewer });
    await assert.rejects(createClassifier({ model: mismatched }), { name: 'ModelContractError', message: /outputs 37 classes but its contract lists 36 labels/ });
  });
});

describe('preprocessing is training\'s', () => {
  test('for dataset images, the tensor fed to onnxruntime equals, element for element, the one training fed to tfjs', async () => {
    const dataset = await loadDataset(sample);
    const contract = classifier.info.contract;
    const splits = await openSplits(dataset, { valFraction: 0.2, testFraction: 0.2, seed: 42, imageSize: contract.imageSize.height, limit: 37 }, { cacheBytes: 2 ** 28, spillDir: join(root, 'cache'), only: ['test'] });
    try {
      const { items, labels, pixels } = splits.test;
      const indices = items.map((_, i) => i);
      const batch = await makeBatch({ indices, labels, pixels, contract });
      const per = batch.x.length / items.length;
      for (const [i, item] of items.entries()) {
        const ours = await classifier.preprocess(item.path);
        const theirs = batch.x.subarray(i * per, (i + 1) * per);
        assert.equal(ours.length, theirs.length);
        for (let k = 0; k < ours.length; k++) if (ours[k] !== theirs[k]) assert.fail(`${item.id}: element ${k} differs: ${ours[k]} vs ${theirs[k]}`);
      }
    } finally {
      await splits.close();
    }
  });
});

describe('the web entry on onnxruntime-web (wasm) in Node', () => {
  test('same probabilities as the Node entry within 1e-5, wasm with the WebGPU reason', async () => {
    const webClassifier = await web.createClassifier({ model: modelBytes, threads: 1 });
    assert.equal(webClassifier.info.executionProvider, 'wasm');
    assert.match(webClassifier.info.reason ?? '', /WebGPU is not available here/);
    const pixels = await decodeImage(photo);
    const [fromWeb, fromNode] = [await webClassifier.classify(pixels, { all: true }), await classifier.classify(photo, { all: true })];
    const byIndex = new Map(fromNode.map((p) => [p.index, p.probability]));
    for (const p of fromWeb) assert.ok(Math.abs(p.probability - (byIndex.get(p.index) ?? NaN)) <= 1e-5, `class ${p.index}`);
    await assert.rejects(webClassifier.classify(new Uint8Array([1, 2, 3])), { name: 'ImageDecodeError', message: /createImageBitmap/ });
    await webClassifier.dispose();
  });
});

describe('pets-classify', () => {
  test('prints predictions per file, reports a bad file, exits 1 for it', async () => {
    const badFile = join(root, 'bad.jpg');
    await writeFile(badFile, 'nope');
    const result = run('pets-classify', '--model', model, photo, badFile, '--top', '3', '--json');
    assert.equal(result.code, 1);
    const report = JSON.parse(result.stdout) as { executionProvider: string; results: { image: string; predictions?: unknown[]; error?: { name: string } }[] };
    assert.equal(report.executionProvider, 'cpu');
    assert.equal(report.results[0].predictions?.length, 3);
    assert.equal(report.results[1].error?.name, 'ImageDecodeError');
    const missingModel = run('pets-classify', '--model', join(root, 'none.onnx'), photo);
    assert.equal(missingModel.code, 1);
    assert.match(missingModel.stderr, /^pets-classify: .*none\.onnx/);
    assert.doesNotMatch(missingModel.stderr, /^\s+at /m);
  });
});
