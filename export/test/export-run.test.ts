// exportRun()/exportRuns() on real one-epoch runs of the bundled sample: verified files with their
// contract and provenance, several runs ranked, and bad input leaving nothing behind.
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ONNX_METADATA_KEYS } from '@pets/runtime/contract';
import { loadCheckpoint, train, type CheckpointInfo } from '@pets/train';
import { decodeModel, encodeModel, EXPORTER, exportRun, exportRuns, formatSummary, randomInputs, TOLERANCE, verifyExport } from '../src/index.js';
import { PETS_MINI, ready } from './fixtures.js';

let root: string;
let runM3: string;
let runM1: string;
const exists = (path: string) => stat(path).then(() => true, () => false);
const readJson = async <T>(path: string): Promise<T> => JSON.parse(await readFile(path, 'utf8')) as T;

before(async () => {
  await ready();
  root = await mkdtemp(join(tmpdir(), 'pets-export-test-'));
  runM3 = join(root, 'runs', 'm3');
  runM1 = join(root, 'runs', 'm1');
  const common = { data: PETS_MINI, backend: 'wasm' as const, imageSize: 24, batchSize: 32, epochs: 1, seed: 7 };
  await train({ ...common, out: runM3, preset: 'model3' });
  await train({ ...common, out: runM1, preset: 'model1' });
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function assertRejectsNamed(promise: Promise<unknown>, name: string, pattern: RegExp) {
  await assert.rejects(promise, (error: Error) => {
    assert.equal(error.name, name, error.message);
    assert.match(error.message, pattern);
    return true;
  });
}

describe('exportRun()', () => {
  test('writes a verified model with the run\'s contract and provenance', async () => {
    const out = join(root, 'models', 'm3.onnx');
    const events: string[] = [];
    const result = await exportRun({ run: runM3, out, onEvent: (e) => events.push(e.type) });
    assert.deepEqual(events, ['backend', 'checkpoint', 'written', 'verified']);
    assert.equal(result.file, out);
    assert.equal((await stat(out)).size, result.bytes);
    assert.deepEqual(await readdir(join(root, 'models')), ['m3.onnx'], 'no temporary file left');
    const v = result.verification;
    assert.ok(v.passed && v.maxAbsDiff <= 1e-5, JSON.stringify(v));
    assert.match(v.source, /^8 test images from .*pets-mini$/);
    assert.equal(v.top1Agree, 8);
    assert.ok(v.ortMsPerImage > 0);

    const onnx = decodeModel(await readFile(out));
    const props = Object.fromEntries(onnx.metadata_props.map((p) => [p.key, p.value]));
    const checkpointDir = join(runM3, 'checkpoints', 'epoch-0001');
    assert.equal(props[ONNX_METADATA_KEYS.contract], await readFile(join(checkpointDir, 'contract.json'), 'utf8'), 'the contract train wrote, as is');
    const info = await readJson<CheckpointInfo>(join(checkpointDir, 'checkpoint.json'));
    const provenance = JSON.parse(props[ONNX_METADATA_KEYS.provenance]);
    assert.deepEqual(
      { ...provenance, exportedAt: undefined },
      {
        sourceRun: runM3, checkpoint: 'best', checkpointDir: join('checkpoints', 'epoch-0001'), weightsSha256: info.weightsSha256,
        epoch: 1, metrics: info.metrics, preset: 'model3', trainBackend: 'wasm', checkpointCreatedAt: info.createdAt,
        exporter: { name: EXPORTER.name, version: EXPORTER.version }, exportedAt: undefined, opset: 17, fp16: false, dtype: 'fp32', foldBatchNorm: true,
      },
    );
    assert.ok(Date.now() - Date.parse(provenance.exportedAt) < 60_000);
  });

  test('--checkpoint last, --fp16, --opset 13, --no-fold-bn', async () => {
    const out = join(root, 'models', 'm3-fp16.onnx');
    const result = await exportRun({ run: runM3, out, checkpoint: 'last', fp16: true, opset: 13, foldBatchNorm: false, verifyImages: 3 });
    assert.ok(result.fp32Bytes !== null && result.bytes < result.fp32Bytes * 0.55, `${result.bytes} vs ${result.fp32Bytes}`);
    assert.equal(result.verification.tolerance, TOLERANCE.fp16);
    assert.equal(result.verification.images, 3);
    assert.equal(result.opCounts.BatchNormalization, 5);
    const onnx = decodeModel(await readFile(out));
    assert.equal(onnx.opset_import[0].version, 13);
  });

  test('without its dataset, verifies on seeded random inputs and says so', async () => {
    const moved = join(root, 'runs-moved', 'm3');
    await cp(runM3, moved, { recursive: true });
    const config = await readJson<Record<string, unknown>>(join(moved, 'config.json'));
    await writeFile(join(moved, 'config.json'), JSON.stringify({ ...config, data: join(root, 'gone') }));
    const warnings: string[] = [];
    const result = await exportRun({
      run: moved, out: join(root, 'models', 'moved.onnx'), verifyImages: 2,
      onEvent: (e) => e.type === 'warning' && warnings.push(e.message),
    });
    assert.equal(result.verification.source, '2 seeded random inputs');
    assert.match(warnings.join('\n'), /verifying on random inputs: .*gone.* does not exist/);
    await assertRejectsNamed(exportRun({ run: moved, out: join(root, 'models', 'x.onnx'), data: join(root, 'gone') }), 'DatasetError', /does not exist/);
    assert.equal(await exists(join(root, 'models', 'x.onnx')), false);
  });

  test('verifyExport() fails a model whose weights were changed', async () => {
    const { model, contract } = await loadCheckpoint(join(runM3, 'checkpoints', 'epoch-0001'));
    const onnx = decodeModel(await readFile(join(root, 'models', 'm3.onnx')));
    const logits = onnx.graph.initializer.find((t) => t.name === 'logits/B');
    assert.ok(logits?.raw_data);
    const bias = new Float32Array(new Uint8Array(logits.raw_data).buffer); // a copy: decoded bytes may view a shared buffer
    bias[0] += 0.5;
    logits.raw_data = new Uint8Array(bias.buffer);
    const report = await verifyExport({ model, onnx: encodeModel(onnx), inputs: randomInputs(contract, 2, 1), dtype: 'fp32' });
    assert.equal(report.passed, false);
    assert.ok(report.maxAbsDiff > 1e-3);
    model.dispose();
  });
});

describe('BAD CALL - exportRun() on bad input leaves no file', () => {
  test('BAD CALL - missing run, not a run, missing checkpoint', async () => {
    const out = join(root, 'bad', 'm.onnx');
    await assertRejectsNamed(exportRun({ run: join(root, 'nope'), out }), 'ExportError', /Run directory .*nope does not exist/);
    await mkdir(join(root, 'empty'));
    await assertRejectsNamed(exportRun({ run: join(root, 'empty'), out }), 'ExportError', /is not a pets-train run \(cannot read config\.json: ENOENT\)/);
    await assertRejectsNamed(exportRun({ run: runM3, out, checkpoint: 'epoch-9' }), 'CheckpointError', /epoch-0009.*ENOENT/);
    await assertRejectsNamed(exportRun({ run: runM3, out, checkpoint: 'newest' }), 'RangeError', /Unsupported checkpoint "newest"/);
    await assertRejectsNamed(exportRun({ run: runM3, out, opset: 9 }), 'RangeError', /Unsupported opset 9/);
    await assertRejectsNamed(exportRun({ run: runM3, out, verifyImages: 0 }), 'RangeError', /"verifyImages" must be a positive integer/);
    assert.equal(await exists(out), false);
  });

  test('BAD CALL - corrupt weights', async () => {
    const corrupt = join(root, 'runs-corrupt', 'm3');
    await cp(runM3, corrupt, { recursive: true });
    const weights = join(corrupt, 'checkpoints', 'epoch-0001', 'weights.bin');
    const bytes = await readFile(weights);
    bytes[100] ^= 0xff;
    await writeFile(weights, bytes);
    const outDir = join(root, 'corrupt-out');
    await assertRejectsNamed(exportRun({ run: corrupt, out: join(outDir, 'm.onnx') }), 'CheckpointError', /weights\.bin does not match its recorded sha256/);
    assert.deepEqual(await readdir(outDir).catch(() => []), [], 'nothing written, not even a temporary file');
  });

  test('BAD CALL - an output path that cannot be written', async () => {
    const file = join(root, 'a-file');
    await writeFile(file, 'x');
    await assertRejectsNamed(exportRun({ run: runM3, out: join(file, 'm.onnx') }), 'ExportError', /Cannot write .*a-file\/m\.onnx: (EEXIST|ENOTDIR)/);
    await assertRejectsNamed(exportRun({ run: runM3, out: root }), 'ExportError', /is a directory/);
  });
});

describe('exportRuns()', () => {
  test('a glob exports every run into a directory and ranks them by validation accuracy', async () => {
    const out = join(root, 'all');
    const result = await exportRuns({ runs: [join(root, 'runs', 'm*')], out, verifyImages: 2 });
    assert.deepEqual(result.failures, []);
    assert.deepEqual((await readdir(out)).sort(), ['m1.onnx', 'm3.onnx']);
    const accuracies = result.ranking.map((r) => r.metrics.valAccuracy);
    assert.deepEqual(accuracies, [...accuracies].sort((a, b) => b - a));
    const table = formatSummary(result, root).split('\n');
    assert.match(table[0], /^rank\s+run\s+checkpoint\s+val_acc\s+val_loss\s+file\s+size\s+max \|Δp\|\s+top-1\s+ORT ms\/img$/);
    assert.equal(table.length, 3);
    assert.match(table[1], /^1\s+runs\/m[13]\s+best \(epoch 1\)\s+0\.\d{4}\s+\d\.\d{4}\s+all\/m[13]\.onnx\s+[\d.]+ [KM]iB\s+\S+\s+2\/2\s+[\d.]+$/);
  });

  test('one bad run among several is reported and the others still export', async () => {
    const out = join(root, 'mixed');
    const result = await exportRuns({ runs: [runM1, join(root, 'runs-corrupt', 'm3')], out, verifyImages: 1 });
    assert.equal(result.ranking.length, 1);
    assert.equal(result.failures.length, 1);
    assert.equal(result.failures[0].error.name, 'CheckpointError');
    assert.deepEqual(await readdir(out), ['m1.onnx']);
  });

  test('BAD CALL - runs that would overwrite each other, or a file as the directory', async () => {
    await assertRejectsNamed(exportRuns({ runs: [runM3, join(root, 'runs-moved', 'm3')], out: join(root, 'clash') }), 'ExportError', /would both be written to .*m3\.onnx/);
    await assertRejectsNamed(exportRuns({ runs: [runM3, runM1], out: join(root, 'a-file') }), 'ExportError', /must be a directory/);
    await assertRejectsNamed(exportRuns({ runs: [join(root, 'runs', 'zz*')], out: join(root, 'none') }), 'ExportError', /No run directory matches/);
  });
});
