// pets-export as a user runs it: a fresh process per command on a one-epoch run of the bundled sample;
// the ranking table, metadata read back from the file, and bad input (exit codes, one-line messages,
// nothing left on disk).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeModel } from '@pets/export';
import { createContract, ONNX_METADATA_KEYS, ONNX_NAMES, serializeContract } from '@pets/runtime/contract';
import { tf, tfl, type SymbolicTensor } from '@pets/train/tfjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const sample = join(repo, 'data', 'pets-mini');
const bin = (name: string) => join(repo, 'node_modules', '.bin', name);

function run(name: string, ...args: string[]) {
  const result = spawnSync(bin(name), args, { encoding: 'utf8', timeout: 300_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
const petsExport = (...args: string[]) => run('pets-export', ...args);

/** A user error: non-zero exit, a one-line message on stderr, no stack trace. */
function assertUserError(result: ReturnType<typeof run>, pattern: RegExp, code = 1) {
  assert.equal(result.code, code, `exit code; stderr: ${result.stderr}`);
  assert.match(result.stderr, pattern);
  assert.doesNotMatch(result.stderr, /^\s+at /m, 'no stack trace');
  assert.doesNotMatch(result.stderr, /unexpected error/);
}

const exists = (path: string) => stat(path).then(() => true, () => false);

/** A run directory whose checkpoint holds a model with a layer pets-export cannot translate. */
async function writeUnsupportedRun(dir: string): Promise<void> {
  await tf.setBackend('cpu'); // only builds and saves a tiny model
  const input = tfl.input({ shape: [8, 8, 3] });
  const up = tfl.layers.masking({ name: 'mask' }).apply(input) as SymbolicTensor;
  const pooled = tfl.layers.globalAveragePooling2d({}).apply(up) as SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 2, activation: 'softmax' }).apply(pooled) as SymbolicTensor });
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => ((artifacts = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
  const saved = artifacts as tf.io.ModelArtifacts;
  const weights = new Uint8Array(saved.weightData as ArrayBuffer);
  const checkpoint = join(dir, 'checkpoints', 'epoch-0001');
  await mkdir(checkpoint, { recursive: true });
  const metrics = { epoch: 1, loss: 1, accuracy: 0.5, valLoss: 1, valAccuracy: 0.5, seconds: 1, learningRate: 1e-3 };
  await writeFile(join(dir, 'config.json'), JSON.stringify({ data: sample, preset: 'model3', testFraction: 0.2, seed: 1 }));
  await writeFile(join(dir, 'checkpoints', 'index.json'), JSON.stringify({ best: { dir: 'epoch-0001', epoch: 1, valAccuracy: 0.5, valLoss: 1 }, last: { dir: 'epoch-0001', epoch: 1 } }));
  await writeFile(join(checkpoint, 'model.json'), JSON.stringify({ modelTopology: saved.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: saved.weightSpecs }] }));
  await writeFile(join(checkpoint, 'weights.bin'), weights);
  await writeFile(join(checkpoint, 'optimizer.json'), JSON.stringify({ specs: [] }));
  await writeFile(join(checkpoint, 'optimizer.bin'), new Uint8Array(0));
  await writeFile(join(checkpoint, 'contract.json'), serializeContract(createContract({ labels: ['a', 'b'], imageSize: 8 })));
  const sha = createHash('sha256').update(weights).digest('hex');
  await writeFile(join(checkpoint, 'checkpoint.json'), JSON.stringify({ epoch: 1, metrics, weightsSha256: sha, backend: 'cpu', createdAt: new Date().toISOString() }));
  model.dispose();
}

let root: string;
let runDir: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'pets-cli-export-'));
  runDir = join(root, 'runs', 'm3');
  const trained = run('pets-train', '--data', sample, '--out', runDir, '--preset', 'model3', '--image-size', '24', '--epochs', '1', '--seed', '3');
  assert.equal(trained.code, 0, trained.stderr);
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('pets-export', () => {
  test('exports a run, prints the ranking and its verification, and the file carries the contract', async () => {
    const model = join(root, 'models', 'm3.onnx');
    const r = petsExport('--run', runDir, '--out', model);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 2, r.stdout);
    assert.match(lines[0], /^rank\s+run\s+checkpoint\s+val_acc\s+val_loss\s+file\s+size\s+max \|Δp\|\s+top-1\s+ORT ms\/img$/);
    assert.match(lines[1], /^1\s+\S*m3\s+best \(epoch 1\)\s+0\.\d{4}\s+\d\.\d{4}\s+\S*m3\.onnx\s+[\d.]+ MiB\s+\d\.\de-\d+\s+8\/8\s+[\d.]+$/);
    assert.match(r.stderr, /backend: wasm/);
    assert.match(r.stderr, /verified: max \|Δp\| \S+ \(limit 1e-5\), mean \|Δp\| \S+, max logit rel err \S+, top-1 agreement 8\/8 on 8 test images from .*pets-mini; ORT CPU [\d.]+ ms\/img/);

    const onnx = decodeModel(await readFile(model));
    const props = Object.fromEntries(onnx.metadata_props.map((p) => [p.key, p.value]));
    const checkpoint = join(runDir, 'checkpoints', 'epoch-0001');
    assert.equal(props[ONNX_METADATA_KEYS.contract], await readFile(join(checkpoint, 'contract.json'), 'utf8'));
    const provenance = JSON.parse(props[ONNX_METADATA_KEYS.provenance]);
    const info = JSON.parse(await readFile(join(checkpoint, 'checkpoint.json'), 'utf8'));
    assert.equal(provenance.sourceRun, runDir);
    assert.equal(provenance.weightsSha256, info.weightsSha256);
    assert.equal(provenance.epoch, 1);
    assert.deepEqual(provenance.metrics, info.metrics);
    assert.equal(provenance.exporter.name, '@pets/export');
    assert.equal(onnx.producer_name, '@pets/export');
    assert.deepEqual(onnx.graph.input.map((i) => i.name), [ONNX_NAMES.input]);
    assert.deepEqual(onnx.graph.output.map((o) => o.name), [ONNX_NAMES.probabilities, ONNX_NAMES.logits]);
  });

  test('several runs by glob, --json: one file per run, ranked by validation accuracy', async () => {
    const second = join(root, 'runs', 'm3b');
    await cp(runDir, second, { recursive: true });
    // Same weights, a better recorded validation accuracy: it must rank first.
    const infoPath = join(second, 'checkpoints', 'epoch-0001', 'checkpoint.json');
    const info = JSON.parse(await readFile(infoPath, 'utf8'));
    await writeFile(infoPath, JSON.stringify({ ...info, metrics: { ...info.metrics, valAccuracy: 0.99 } }));
    const out = join(root, 'all');
    const triton = join(root, 'triton');
    const r = petsExport('--run', join(root, 'runs', 'm3*'), '--out', out, '--verify-images', '2', '--json', '--triton-repo', triton, '--triton-instance', 'cpu');
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as { ranking: { runDir: string; file: string; metrics: { valAccuracy: number }; verification: { passed: boolean } }[]; failures: unknown[] };
    assert.deepEqual(result.ranking.map((x) => x.runDir), [second, runDir]);
    assert.deepEqual(result.ranking.map((x) => x.file), [join(out, 'm3b.onnx'), join(out, 'm3.onnx')]);
    assert.ok(result.ranking.every((x) => x.verification.passed));
    assert.deepEqual(result.failures, []);
    assert.deepEqual((await readdir(out)).sort(), ['m3.onnx', 'm3b.onnx']);
    // --triton-repo: a model folder per exported file (contents checked in export/test/triton-config.test.ts).
    assert.deepEqual((await readdir(triton)).sort(), ['m3', 'm3b']);
    assert.deepEqual((await readdir(join(triton, 'm3'))).sort(), ['1', 'config.pbtxt', 'labels.txt']);
    assert.match(await readFile(join(triton, 'm3b', 'config.pbtxt'), 'utf8'), /^name: "m3b"\n[^]*kind: KIND_CPU/);
    assert.match(r.stderr, /triton: wrote .*m3b \(config\.pbtxt, labels\.txt, 1\/model\.onnx\)/);
  });

  test('--help shows every option with its default', () => {
    const help = petsExport('--help');
    assert.equal(help.code, 0);
    for (const option of ['--run', '--out', '--checkpoint', '--opset', '--fp16', '--fold-bn', '--verify-images', '--data', '--backend', '--json', '--triton-repo', '--triton-instance', '--triton-max-batch']) {
      assert.ok(help.stdout.includes(option), option);
    }
    assert.match(help.stdout, /ONNX opset, 13-22\s+\[number\] \[default: 17\]/);
  });
});

describe('pets-export bad input', () => {
  const out = () => join(root, 'bad', 'm.onnx');

  test('BAD CALL - missing run, missing checkpoint, unsupported opset', async () => {
    assertUserError(petsExport('--run', join(root, 'nope'), '--out', out()), /^pets-export: Run directory .*nope does not exist\.\n$/);
    assertUserError(petsExport('--run', runDir, '--out', out(), '--checkpoint', 'epoch-9'), /epoch-0009/);
    assertUserError(petsExport('--run', runDir, '--out', out(), '--opset', '9'), /^pets-export: Unsupported opset 9\. Expected one of: 13-22/);
    assert.equal(await exists(out()), false);
  });

  test('BAD CALL - corrupt weights leave no file', async () => {
    const corrupt = join(root, 'corrupt');
    await cp(runDir, corrupt, { recursive: true });
    const weights = join(corrupt, 'checkpoints', 'epoch-0001', 'weights.bin');
    const bytes = await readFile(weights);
    bytes[0] ^= 0xff;
    await writeFile(weights, bytes);
    assertUserError(petsExport('--run', corrupt, '--out', out()), /weights\.bin does not match its recorded sha256/);
    assert.deepEqual(await readdir(join(root, 'bad')).catch(() => []), []);
  });

  test('BAD CALL - an unsupported layer names its class and layer', async () => {
    const unsupported = join(root, 'unsupported');
    await writeUnsupportedRun(unsupported);
    assertUserError(petsExport('--run', unsupported, '--out', out()), /^pets-export: Layer "mask" has class Masking, which pets-export cannot translate to ONNX/m);
    assert.equal(await exists(out()), false);
  });

  test('BAD CALL - an output path that cannot be written', async () => {
    const file = join(root, 'plain-file');
    await writeFile(file, '');
    assertUserError(petsExport('--run', runDir, '--out', join(file, 'm.onnx')), /^pets-export: Cannot write .*plain-file\/m\.onnx/);
  });

  test('BAD CALL - usage errors exit with 2', () => {
    assertUserError(petsExport('--out', out()), /Give either --run \(pets-train runs\) or --tfjs/, 2);
    assertUserError(petsExport('--run', runDir, '--out', out(), '--fp32'), /Unknown argument: fp32/, 2);
  });
});
