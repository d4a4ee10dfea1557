// pets-export --tfjs on bad input: each is refused with one line naming the problem, exit code 1, and no
// output file.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tfl, type SymbolicTensor } from '@pets/train/tfjs';
import { REPO_ROOT, ready } from './fixtures.js';
import { saveGraphFolder, saveTfjsFolder } from './tfjs-folder.js';

let root: string;
before(async () => {
  await ready();
  root = await mkdtemp(join(tmpdir(), 'pets-foreign-bad-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A small image classifier: conv -> global pooling -> dense softmax over `classes`. */
function tinyClassifier(classes = 3, extra?: (x: SymbolicTensor) => SymbolicTensor): ReturnType<typeof tfl.model> {
  const input = tfl.input({ shape: [16, 16, 3] });
  let x = tfl.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu' }).apply(input) as SymbolicTensor;
  if (extra) x = extra(x);
  x = tfl.layers.globalAveragePooling2d({}).apply(x) as SymbolicTensor;
  x = tfl.layers.dense({ units: classes, activation: 'softmax' }).apply(x) as SymbolicTensor;
  return tfl.model({ inputs: input, outputs: x });
}

async function labels(n: number): Promise<string> {
  const file = join(root, `labels-${n}.txt`);
  await writeFile(file, Array.from({ length: n }, (_, i) => `class ${i}`).join('\n'));
  return file;
}

/** Runs pets-export --tfjs and checks the failure: exit 1, one pets-export line matching `pattern`, no file. */
async function refused(model: string, pattern: RegExp, ...extra: string[]): Promise<void> {
  const out = join(root, `out-${Math.random().toString(36).slice(2)}.onnx`);
  const args = ['--tfjs', model, '--out', out, '--normalize', 'unit', '--verify-images', '1', ...extra];
  if (!extra.includes('--labels')) args.push('--labels', await labels(3));
  const result = spawnSync(process.execPath, [join(REPO_ROOT, 'export', 'bin', 'pets-export.js'), ...args], { encoding: 'utf8' });
  assert.equal(result.status, 1, result.stderr);
  const lines = result.stderr.split('\n').filter((l) => l.startsWith('pets-export:'));
  assert.equal(lines.length, 1, result.stderr);
  const after_ = result.stderr.slice(result.stderr.indexOf(lines[0]) + lines[0].length).trim();
  assert.equal(after_, '', `nothing after the error line (no stack): ${result.stderr}`);
  assert.match(lines[0], pattern);
  assert.equal(existsSync(out), false, 'no output file');
}

describe('BAD CALL - pets-export --tfjs refuses', () => {
  test('a model.json that is not TensorFlow.js', async () => {
    const dir = join(root, 'not-tfjs');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'model.json'), JSON.stringify({ name: 'a package.json perhaps', version: '1.0.0' }));
    await refused(dir, /not a TensorFlow\.js model\.json \(no modelTopology\)/);
    await writeFile(join(dir, 'model.json'), 'ONNX\u0000binary');
    await refused(join(dir, 'model.json'), /not a TensorFlow\.js model\.json \(not JSON/);
  });

  test('a missing weight shard', async () => {
    const dir = join(root, 'missing-shard');
    await saveTfjsFolder(tinyClassifier(), dir);
    await unlink(join(dir, 'group1-shard1of1.bin'));
    await refused(dir, /Weight shard group1-shard1of1\.bin of .*model\.json is missing/);
  });

  test('a short weight shard', async () => {
    const dir = join(root, 'short-shard');
    await saveTfjsFolder(tinyClassifier(), dir);
    await truncate(join(dir, 'group1-shard1of1.bin'), 100);
    await refused(dir, /hold 100 bytes, expected \d+ from the weightsManifest/);
  });

  test('an unsupported layer, named, with the supported list', async () => {
    const dir = join(root, 'unsupported-layer');
    await saveTfjsFolder(tinyClassifier(3, (x) => tfl.layers.masking({ name: 'the_mask' }).apply(x) as SymbolicTensor), dir);
    await refused(dir, /Layer "the_mask" has class Masking, which pets-export cannot translate to ONNX\. Supported: .*Conv2D.*ZeroPadding2D\./);
  });

  test('an unsupported graph op, named with its node, with the supported list', async () => {
    const dir = join(root, 'unsupported-op');
    const f = { type: 'DT_FLOAT' };
    await saveGraphFolder(dir, [
      { name: 'image', op: 'Placeholder', attr: { dtype: f, shape: { shape: { dim: [{ size: '-1' }, { size: '8' }, { size: '8' }, { size: '3' }] } } } },
      { name: 'axes', op: 'Const', attr: { dtype: { type: 'DT_INT32' }, value: { tensor: { dtype: 'DT_INT32', tensorShape: { dim: [{ size: '2' }] } } } } },
      { name: 'pool', op: 'Mean', input: ['image', 'axes'], attr: { T: f, Tidx: { type: 'DT_INT32' }, keep_dims: { b: false } } },
      { name: 'the_erf', op: 'Erf', input: ['pool'], attr: { T: f } },
      { name: 'probs', op: 'Softmax', input: ['the_erf'], attr: { T: f } },
      { name: 'Identity', op: 'Identity', input: ['probs'], attr: { T: f } },
    ], [{ name: 'axes', shape: [2], dtype: 'int32', values: [1, 2] }]);
    await refused(dir, /Node "the_erf" has op Erf, which pets-export cannot translate to ONNX\. Supported: .*_FusedConv2D/);
  });

  test('labels whose count differs from the output width', async () => {
    const dir = join(root, 'three-classes');
    await saveTfjsFolder(tinyClassifier(3), dir);
    await refused(dir, /The model outputs 3 classes but 2 labels were given/, '--labels', await labels(2));
  });

  test('a model with two inputs', async () => {
    const a = tfl.input({ shape: [16, 16, 3] });
    const b = tfl.input({ shape: [16, 16, 3] });
    let x = tfl.layers.add().apply([a, b]) as SymbolicTensor;
    x = tfl.layers.globalAveragePooling2d({}).apply(x) as SymbolicTensor;
    x = tfl.layers.dense({ units: 3, activation: 'softmax' }).apply(x) as SymbolicTensor;
    const dir = join(root, 'two-inputs');
    await saveTfjsFolder(tfl.model({ inputs: [a, b], outputs: x }), dir);
    await refused(dir, /has 2 inputs \(.*\); a pets model has one image input/);
  });

  test('a non-image input', async () => {
    const input = tfl.input({ shape: [10] });
    const x = tfl.layers.dense({ units: 3, activation: 'softmax' }).apply(input) as SymbolicTensor;
    const dir = join(root, 'vector-input');
    await saveTfjsFolder(tfl.model({ inputs: input, outputs: x }), dir);
    await refused(dir, /input ".*" has shape \[null,10\], not an RGB image batch/);
  });

  test('no normalization for a model without a Teachable Machine metadata.json', async () => {
    const dir = join(root, 'no-normalization');
    await saveTfjsFolder(tinyClassifier(3), dir);
    const result = spawnSync(process.execPath, [join(REPO_ROOT, 'export', 'bin', 'pets-export.js'), '--tfjs', dir, '--labels', await labels(3), '--out', join(root, 'n.onnx')], { encoding: 'utf8' });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /^pets-export: The model's normalization is unknown: give --normalize \(unit, symmetric, imagenet\) or --mean\/--std\/--scale\.$/m);
    assert.equal(existsSync(join(root, 'n.onnx')), false);
  });
});
