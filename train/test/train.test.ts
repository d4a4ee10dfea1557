// End-to-end runs of train() on the bundled sample at a tiny image size: learning, files, reproducibility,
// resume equivalence and survival of SIGKILL.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, readdir, rm, mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { loadCheckpoint, readIndex } from '../src/checkpoint.js';
import type { EpochRecord } from '../src/history.js';
import { train, type TrainOptions } from '../src/train.js';

import { PETS_MINI as sample, TRAIN_CLI as cli } from './fixtures.js';

/** A run small enough for CI: 24 px images, batch 16, model2 (no dropout, no augmentation). */
const tiny = (out: string, extra: Partial<TrainOptions> = {}): TrainOptions => ({
  data: sample,
  out,
  preset: 'model2',
  backend: 'wasm',
  imageSize: 24,
  batchSize: 16,
  epochs: 3,
  learningRate: 3e-3,
  seed: 7,
  ...extra,
});

const readJson = async <T>(path: string): Promise<T> => JSON.parse(await readFile(path, 'utf8')) as T;
const weightsOf = async (run: string, dir: string) => readFile(join(run, 'checkpoints', dir, 'weights.bin'));

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'pets-train-test-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('train() on the bundled sample', () => {
  let first: Awaited<ReturnType<typeof train>>;
  const runA = () => join(root, 'a');

  test('lowers the training loss and writes best, last, history, curves and the test evaluation', async () => {
    const events: string[] = [];
    first = await train(tiny(runA(), { onEvent: (e) => events.push(e.type) }));
    const history = first.history;
    assert.equal(history.length, 3);
    assert.ok(history[2].loss < history[0].loss, `loss ${history[0].loss} -> ${history[2].loss} should fall`);
    const index = await readIndex(join(runA(), 'checkpoints'));
    const info = await readJson<{ config: { preset: string; seed: number }; weightsSha256: string }>(join(runA(), 'checkpoints', index.last.dir, 'checkpoint.json'));
    assert.equal(info.config.preset, 'model2', 'each checkpoint carries the run config');
    assert.equal(info.config.seed, 7);
    assert.equal(index.last.epoch, 3);
    assert.ok(index.best.epoch >= 1 && index.best.epoch <= 3);
    const saved = await readJson<EpochRecord[]>(join(runA(), 'history.json'));
    assert.deepEqual(saved.map((r) => r.epoch), [1, 2, 3]);
    for (const png of ['curves-accuracy.png', 'curves-loss.png', 'evaluation/test-best-confusion.png']) {
      const meta = await sharp(join(runA(), png)).metadata();
      assert.equal(meta.format, 'png', png);
      assert.ok((meta.width ?? 0) > 300, `${png} width ${meta.width}`);
    }
    assert.ok(first.test && first.test.count === 74, 'evaluates the 74 test images');
    const testJson = await readJson<{ accuracy: number; confusion: number[][] }>(join(runA(), 'evaluation', 'test-best.json'));
    assert.equal(testJson.confusion.length, 37);
    assert.ok(Math.abs(testJson.accuracy - (first.test?.accuracy ?? NaN)) < 1e-12);
    for (const type of ['backend', 'dataset', 'epoch-start', 'step', 'epoch-end', 'test']) assert.ok(events.includes(type), type);
    const leftovers = (await readdir(join(runA(), 'checkpoints'))).filter((name) => name.startsWith('.'));
    assert.deepEqual(leftovers, [], 'no temporary checkpoint directories remain');
    await assert.rejects(stat(join(runA(), '.cache')), { code: 'ENOENT' });
  });

  test('the same seed on the same backend reproduces the run exactly', async () => {
    const again = await train(tiny(join(root, 'a-again')));
    assert.deepEqual(
      again.history.map(({ seconds: _s, ...r }) => r),
      first.history.map(({ seconds: _s, ...r }) => r),
    );
    assert.ok((await weightsOf(join(root, 'a-again'), 'epoch-0003')).equals(await weightsOf(runA(), 'epoch-0003')));
  });

  test('a different seed gives a different run', async () => {
    const other = await train(tiny(join(root, 'b'), { epochs: 1, seed: 8 }));
    assert.notEqual(other.history[0].loss, first.history[0].loss);
  });

  test('resuming from epoch 2 ends where the uninterrupted run ended', async () => {
    const run = join(root, 'resumed');
    await train(tiny(run, { epochs: 2 }));
    const resumed = await train({ data: sample, out: run, backend: 'wasm', resume: true, epochs: 3 });
    assert.deepEqual(
      resumed.history.map(({ seconds: _s, ...r }) => r),
      first.history.map(({ seconds: _s, ...r }) => r),
      'history continues the same file with the same values',
    );
    assert.ok((await weightsOf(run, 'epoch-0003')).equals(await weightsOf(runA(), 'epoch-0003')), 'same final weights');
  });

  test('with micro-batches (and dropout), a resumed run still ends where an uninterrupted one ends', async () => {
    const options = { preset: 'model3' as const, epochs: 2, microBatch: 6 };
    const plans: unknown[] = [];
    const whole = await train(tiny(join(root, 'micro'), { ...options, onEvent: (e) => e.type === 'micro-batch' && plans.push(e.plan) }));
    assert.deepEqual(plans.map((p) => ({ ...(p as object), wholeBatchBytes: 0 })), [{ size: 6, passes: 3, wholeBatchBytes: 0, reason: 'requested' }]);
    const run = join(root, 'micro-resumed');
    await train(tiny(run, { ...options, epochs: 1 }));
    const resumed = await train({ data: sample, out: run, backend: 'wasm', resume: true, epochs: 2 });
    assert.deepEqual(
      resumed.history.map(({ seconds: _s, ...r }) => r),
      whole.history.map(({ seconds: _s, ...r }) => r),
    );
    assert.ok((await weightsOf(run, 'epoch-0002')).equals(await weightsOf(join(root, 'micro'), 'epoch-0002')), 'same final weights');
  });

  test('BAD CALL - training into a directory that already holds a run', async () => {
    await assert.rejects(train(tiny(runA())), { name: 'TrainOptionsError', message: /already holds a run.*--resume/ });
  });

  test('BAD CALL - resuming where no run exists', async () => {
    await assert.rejects(train({ data: sample, out: join(root, 'none'), resume: true }), {
      name: 'TrainOptionsError',
      message: /Cannot resume: .*config\.json does not exist/,
    });
  });
});

describe('pets-train survives SIGKILL', () => {
  test('every checkpoint the index names loads after kill -9 at several moments, and --resume finishes', async () => {
    const run = join(root, 'killed');
    const args = [cli, '--data', sample, '--out', run, '--preset', 'model2', '--backend', 'wasm', '--image-size', '24', '--batch-size', '16', '--epochs', '8', '--seed', '3'];
    let killedMidway = 0;
    for (const [i, delayMs] of [3000, 2000, 2600, 3200].entries()) {
      const child = spawn(process.execPath, i === 0 ? args : [...args, '--resume'], { stdio: 'ignore' });
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      // The delays count from the run's config.json, so that a slow start on a loaded machine cannot kill
      // the first run before there is a run to resume.
      let gone = false;
      void exited.then(() => (gone = true));
      while (!gone && !(await stat(join(run, 'config.json')).then(() => true, () => false))) await new Promise((resolve) => setTimeout(resolve, 50));
      const early = await Promise.race([exited.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), delayMs))]);
      if (!early) {
        child.kill('SIGKILL');
        killedMidway++;
      }
      await exited;
      const index = await readIndex(join(run, 'checkpoints')).catch(() => undefined);
      if (!index) continue; // killed before the first checkpoint: nothing to check yet
      for (const dir of new Set([index.best.dir, index.last.dir])) {
        const checkpoint = await loadCheckpoint(join(run, 'checkpoints', dir));
        checkpoint.model.dispose();
        checkpoint.optimizerWeights.forEach((w) => w.tensor.dispose());
      }
    }
    assert.ok(killedMidway >= 2, `at least two runs were killed while training (${killedMidway})`);
    const done = await train({ data: sample, out: run, backend: 'wasm', resume: true });
    assert.deepEqual(done.history.map((r) => r.epoch), [1, 2, 3, 4, 5, 6, 7, 8]);
  });
});
