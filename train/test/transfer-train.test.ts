// train() with a transfer preset on the bundled sample: cached features give the head uncached training
// gives, resume is exact across the two stages, a pretrained backbone beats training from scratch by a
// wide margin, and bad backbone options fail before anything is written.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadCheckpoint, readIndex } from '../src/checkpoint.js';
import { train, type TrainOptions } from '../src/train.js';
import { PETS_MINI as sample, REPO_ROOT, TRAIN_CLI as cli } from './fixtures.js';

/** Darknet Tiny at 64 px on about 37 images per split: a transfer run of a few seconds. */
const small = (out: string, extra: Partial<TrainOptions> = {}): TrainOptions => ({
  data: sample,
  out,
  preset: 'darknet',
  backend: 'wasm',
  imageSize: 64,
  batchSize: 8,
  epochs: 2,
  limit: 40,
  seed: 5,
  mirrorFeatures: false,
  cacheDir: join(root, 'cache'),
  ...extra,
});

const weights = async (run: string, epoch: number) => readFile(join(run, 'checkpoints', `epoch-${String(epoch).padStart(4, '0')}`, 'weights.bin'));

async function headKernel(run: string): Promise<Float32Array> {
  const index = await readIndex(join(run, 'checkpoints'));
  const { model, optimizerWeights } = await loadCheckpoint(join(run, 'checkpoints', index.last.dir));
  optimizerWeights.forEach((w) => w.tensor.dispose());
  const kernel = model.getLayer('logits').getWeights()[0].dataSync() as Float32Array;
  const copy = Float32Array.from(kernel);
  model.dispose();
  return copy;
}

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'pets-transfer-test-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('train() with a transfer preset', () => {
  test('the head trained on cached features equals the head trained through the frozen backbone', async () => {
    const events: string[] = [];
    const cached = await train(small(join(root, 'cached'), { onEvent: (e) => events.push(e.type) }));
    const uncached = await train(small(join(root, 'uncached'), { cacheFeatures: false }));
    for (const type of ['backbone', 'features', 'stage', 'stage-end']) assert.ok(events.includes(type), type);
    assert.deepEqual(cached.timings.map((t) => t.stage), ['features', 'head']);
    assert.deepEqual(uncached.timings.map((t) => t.stage), ['head']);
    const a = await headKernel(join(root, 'cached'));
    const b = await headKernel(join(root, 'uncached'));
    let max = 0;
    let scale = 0;
    for (let i = 0; i < a.length; i++) [max, scale] = [Math.max(max, Math.abs(a[i] - b[i])), Math.max(scale, Math.abs(a[i]))];
    assert.ok(max <= 1e-5 * scale, `head kernels differ by ${max} (tolerance 1e-5 of their largest weight, ${scale})`);
    const close = (x: number, y: number) => Math.abs(x - y) <= 1e-5 * Math.max(1, Math.abs(x));
    for (const [x, y] of cached.history.map((r, i) => [r, uncached.history[i]] as const)) {
      assert.ok(close(x.loss, y.loss) && close(x.valLoss, y.valLoss), `epoch ${x.epoch}: loss ${x.loss}/${y.loss}, val_loss ${x.valLoss}/${y.valLoss} (relative tolerance 1e-5)`);
      assert.equal(x.valAccuracy, y.valAccuracy);
    }
    const config = JSON.parse(await readFile(join(root, 'cached', 'config.json'), 'utf8'));
    assert.equal(config.transfer.backboneLayer, 'leaky_re_lu_15');
    assert.deepEqual(config.transfer.normalization, { scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1] });
    const contract = JSON.parse(await readFile(join(root, 'cached', 'checkpoints', 'epoch-0002', 'contract.json'), 'utf8'));
    assert.deepEqual(contract.normalization, config.transfer.normalization, 'the backbone decides the contract normalization');
    assert.equal(contract.imageSize.height, 64);
  });

  test('resume is exact across the two stages (head, then fine-tuning)', async () => {
    const whole = join(root, 'whole');
    const stages = { epochs: 2, fineTune: 2, unfreezeFrom: 'conv2d_14', mirrorFeatures: true };
    const full = await train(small(whole, stages));
    assert.deepEqual(full.history.map((r) => r.stage), ['head', 'head', 'fine-tune', 'fine-tune']);
    assert.ok(Math.abs(full.history[2].learningRate - full.history[0].learningRate / 10) < 1e-12, 'fine-tuning at a tenth of the rate');
    const split = join(root, 'split');
    await train(small(split, { ...stages, fineTune: 0 }));
    const resume = { data: sample, out: split, backend: 'wasm' as const, resume: true, cacheDir: join(root, 'cache') };
    await train({ ...resume, fineTune: 1 }); // a new stage from a checkpoint: new optimizer
    const resumed = await train({ ...resume, fineTune: 2 }); // inside the stage: its optimizer state
    assert.deepEqual(resumed.history.map(({ seconds: _s, ...r }) => r), full.history.map(({ seconds: _s, ...r }) => r));
    assert.ok((await weights(split, 4)).equals(await weights(whole, 4)), 'same final weights, bit for bit');
    await assert.rejects(train({ ...resume, epochs: 3 }), (e: Error) => e.name === 'TrainOptionsError' && /--fine-tune/.test(e.message));
  });

  test('the bundled MobileNet beats the from-scratch preset by a wide margin on the sample test split', async () => {
    const transfer = await train({ data: sample, out: join(root, 'mobilenet'), backend: 'wasm', epochs: 20, mirrorFeatures: false, seed: 42, cacheDir: join(root, 'cache') });
    const scratch = await train({ data: sample, out: join(root, 'scratch'), backend: 'wasm', preset: 'model3', imageSize: 32, batchSize: 16, epochs: 4, seed: 42 });
    const t = transfer.test?.accuracy ?? 0;
    const s = scratch.test?.accuracy ?? 1;
    assert.equal(transfer.test?.count, 74);
    assert.ok(t >= 0.45, `transfer accuracy ${t} (expected >= 0.45; chance is 1/37)`);
    assert.ok(t >= s + 0.3, `transfer ${t} vs from scratch ${s}: expected a margin of at least 0.3`);
  });

  test('BAD CALL - backbone problems fail before anything is written', async () => {
    const cases: [Partial<TrainOptions>, string, RegExp][] = [
      [{ backboneLayer: 'no_such_layer' }, 'TransferModelError', /no layer "no_such_layer".*leaky_re_lu_15/],
      [{ backbone: join(root, 'missing-folder') }, 'BackboneError', /missing-folder/],
      [{ unfreezeFrom: 'nope', fineTune: 1 }, 'TransferModelError', /no layer "nope" to unfreeze from/],
    ];
    for (const [extra, name, pattern] of cases) {
      const out = join(root, `bad-${name}-${Object.keys(extra)[0]}`);
      await assert.rejects(train(small(out, extra)), (e: Error) => e.name === name && pattern.test(e.message), JSON.stringify(extra));
      await assert.rejects(stat(out), { code: 'ENOENT' }, 'no run directory is left');
    }
    const copy = join(root, 'my-backbone');
    await cp(join(REPO_ROOT, 'data', 'backbones', 'darknet-tiny'), copy, { recursive: true });
    await assert.rejects(train(small(join(root, 'bad-normalize'), { backbone: copy })), (e: Error) => e.name === 'TransferModelError' && /--normalize unit/.test(e.message));
    await assert.rejects(stat(join(root, 'bad-normalize')), { code: 'ENOENT' });
    const ok = await train(small(join(root, 'own-backbone'), { backbone: copy, normalize: 'unit', epochs: 1 }));
    assert.equal(ok.config.transfer?.backboneLayer, 'global_average_pooling2d_1', 'an unknown backbone is cut at its last global pooling');
    await assert.rejects(train({ data: sample, out: join(root, 'bad-preset'), preset: 'model3', backbone: 'darknet-tiny' }), (e: Error) => e.name === 'TrainOptionsError' && /transfer presets/.test(e.message));
  });
});

describe('a transfer run survives SIGKILL', () => {
  test('every checkpoint the index names loads after kill -9 in either stage, and --resume finishes both', async () => {
    const run = join(root, 'killed');
    const args = [cli, '--data', sample, '--out', run, '--preset', 'darknet', '--backend', 'wasm', '--image-size', '64', '--batch-size', '8',
      '--limit', '40', '--epochs', '4', '--fine-tune', '3', '--unfreeze-from', 'conv2d_14', '--seed', '3', '--cache-dir', join(root, 'cache')];
    const lastEpoch = async () => (await readIndex(join(run, 'checkpoints')).catch(() => undefined))?.last.epoch ?? 0;
    const until = async (done: () => Promise<boolean>) => {
      for (let waited = 0; waited < 120_000 && !(await done()); waited += 50) await new Promise((r) => setTimeout(r, 50));
    };
    // Kill points: as the first head checkpoint lands; as a later one lands (the index may be written
    // while the next epoch's checkpoint is); in the middle of a fine-tuning epoch.
    const moments = [async () => until(async () => (await lastEpoch()) >= 1), async () => until(async () => (await lastEpoch()) >= 2), async () => {
      await until(async () => (await lastEpoch()) >= 5);
      await new Promise((r) => setTimeout(r, 700));
    }];
    let killedMidway = 0;
    for (const [i, moment] of moments.entries()) {
      const child = spawn(process.execPath, i === 0 ? args : [...args.slice(0, 5), '--resume', '--cache-dir', join(root, 'cache')], { stdio: 'ignore' });
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      const early = await Promise.race([exited.then(() => true), moment().then(() => false)]);
      if (!early) {
        child.kill('SIGKILL');
        killedMidway++;
      }
      await exited;
      const index = await readIndex(join(run, 'checkpoints'));
      for (const dir of new Set([index.best.dir, index.last.dir])) {
        const checkpoint = await loadCheckpoint(join(run, 'checkpoints', dir));
        checkpoint.model.dispose();
        checkpoint.optimizerWeights.forEach((w) => w.tensor.dispose());
      }
    }
    assert.ok(killedMidway >= 2, `at least two runs were killed while training (${killedMidway})`);
    const done = await train({ data: sample, out: run, backend: 'wasm', resume: true, cacheDir: join(root, 'cache') });
    assert.deepEqual(done.history.map((r) => [r.epoch, r.stage]), [[1, 'head'], [2, 'head'], [3, 'head'], [4, 'head'], [5, 'fine-tune'], [6, 'fine-tune'], [7, 'fine-tune']]);
  });
});
