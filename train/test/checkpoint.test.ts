// Checkpoints: a save/load round trip of a briefly trained model with its Adam state, damage detection,
// atomic writes, the index of best/last, and resolving a checkpoint by name.
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createContract, type ModelContract } from '@pets/runtime/contract';
import { chooseBackend } from '../src/backend/index.js';
import { tf, type LayersModel, type Optimizer, type Tensor } from '../src/backend/tf.js';
import { makeBatch, type Batch } from '../src/batches.js';
import {
  CHECKPOINT_FILES,
  CheckpointError,
  checkpointDirName,
  isBetter,
  loadCheckpoint,
  readIndex,
  resolveCheckpoint,
  saveCheckpoint,
  updateIndex,
  type CheckpointIndex,
  type LoadedCheckpoint,
} from '../src/checkpoint.js';
import { trainStep, trainableVariables } from '../src/fit.js';
import type { EpochMetrics } from '../src/history.js';
import { buildModel, logitsModel } from '../src/presets.js';
import { createRng } from '../src/util/random.js';

const SIZE = 16;
const LABELS = ['cat', 'dog', 'rabbit'];
const LEARNING_RATE = 1e-3;
/** Weights after one more Adam step from original and restored state agree within this. */
const STEP_TOLERANCE = 1e-6;
const METRICS: EpochMetrics = { epoch: 2, loss: 1.05, accuracy: 0.5, valLoss: 1.1, valAccuracy: 0.4 };

let tmp: string;
let contract: ModelContract;
let backend: string;

/** A batch of seeded random images with fixed labels, through the real batch assembly. */
async function batch(seed: number, n = 4): Promise<Batch> {
  const rng = createRng(seed);
  const images = Array.from({ length: n }, () => Uint8Array.from({ length: SIZE * SIZE * 3 }, () => rng.int(256)));
  const labels = Array.from({ length: n }, (_, i) => i % LABELS.length);
  return makeBatch({ indices: images.map((_, i) => i), labels, contract, pixels: async (indices) => indices.map((i) => images[i]) });
}

/** A trained-for-two-steps model with its optimizer, as fit.ts drives them. */
interface Trained {
  model: LayersModel;
  logits: LayersModel;
  optimizer: Optimizer;
}

function newModel(seed = 1): LayersModel {
  return buildModel({ architecture: 'bn-gap-cnn', dropout: 0, imageSize: SIZE, numClasses: LABELS.length, seed });
}

function step(t: Trained, b: Batch): void {
  trainStep(t.logits, t.optimizer, trainableVariables(t.logits), b, LABELS.length);
}

function weightData(model: LayersModel): { name: string; values: Float32Array }[] {
  return model.weights.map((w) => ({ name: w.originalName, values: w.read().dataSync() as Float32Array }));
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

function predict(model: LayersModel, b: Batch): Float32Array {
  return tf.tidy(() => (model.predict(tf.tensor(b.x, b.shape)) as Tensor).dataSync() as Float32Array);
}

async function rejectsWithCheckpointError(dir: string, pattern: RegExp): Promise<void> {
  await assert.rejects(loadCheckpoint(dir), (error: Error) => {
    assert.equal(error.name, 'CheckpointError');
    assert.ok(error instanceof CheckpointError);
    assert.match(error.message, pattern);
    return true;
  });
}

/** Every name under dir (recursively) that starts with '.', i.e. a leftover temporary file. */
async function hiddenEntries(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.filter((entry) => entry.split(/[\\/]/).some((part) => part.startsWith('.')));
}

before(async () => {
  backend = (await chooseBackend('wasm')).name;
  tmp = await mkdtemp(join(tmpdir(), 'pets-checkpoint-test-'));
  contract = createContract({ labels: LABELS, imageSize: SIZE });
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('saveCheckpoint and loadCheckpoint: round trip', () => {
  let original: Trained;
  let checkpointsDir: string;
  let dir: string;
  let loaded: LoadedCheckpoint;
  let probe: Batch;
  let next: Batch;

  before(async () => {
    const model = newModel();
    original = { model, logits: logitsModel(model), optimizer: tf.train.adam(LEARNING_RATE) };
    step(original, await batch(100));
    step(original, await batch(101));
    probe = await batch(200, 3);
    next = await batch(102);
    checkpointsDir = join(tmp, 'roundtrip', 'checkpoints');
    const name = await saveCheckpoint({ checkpointsDir, model, optimizer: original.optimizer, contract, epoch: 2, metrics: METRICS, backend });
    assert.equal(name, 'epoch-0002');
    dir = join(checkpointsDir, name);
    loaded = await loadCheckpoint(dir);
  });
  after(() => {
    original.model.dispose();
    original.optimizer.dispose();
    loaded.model.dispose();
    tf.dispose(loaded.optimizerWeights.map((w) => w.tensor));
  });

  test('writes the six files and no temporary names', async () => {
    assert.deepEqual((await readdir(dir)).sort(), Object.values(CHECKPOINT_FILES).sort());
    assert.deepEqual(await hiddenEntries(checkpointsDir), []);
    assert.deepEqual(await readdir(checkpointsDir), ['epoch-0002']);
  });

  test('the loaded model has exactly the saved weights, by name and value', () => {
    const saved = weightData(original.model);
    const restored = weightData(loaded.model);
    assert.deepEqual(
      restored.map((w) => w.name),
      saved.map((w) => w.name),
    );
    // Includes BatchNorm's moving mean and variance, which training changed.
    assert.equal(saved.length, 5 * 2 + 5 * 4 + 2);
    saved.forEach((w, i) => assert.deepEqual(restored[i].values, w.values, w.name));
  });

  test('the loaded model predicts exactly what the original does', () => {
    const a = predict(original.model, probe);
    const b = predict(loaded.model, probe);
    assert.equal(a.length, 3 * LABELS.length);
    assert.deepEqual(b, a);
  });

  test('the contract and the checkpoint info round-trip', async () => {
    assert.deepEqual(loaded.contract, contract);
    assert.equal(loaded.info.epoch, 2);
    assert.deepEqual(loaded.info.metrics, METRICS);
    assert.equal(loaded.info.backend, backend);
    assert.match(loaded.info.weightsSha256, /^[0-9a-f]{64}$/);
    assert.ok(Number.isFinite(Date.parse(loaded.info.createdAt)));
    const manifest = JSON.parse(await readFile(join(dir, CHECKPOINT_FILES.model), 'utf8')) as { format: string; weightsManifest: { paths: string[] }[] };
    assert.equal(manifest.format, 'layers-model');
    assert.deepEqual(manifest.weightsManifest[0].paths, [CHECKPOINT_FILES.weights]);
  });

  test('the optimizer state has the iteration count and both Adam moments of every trainable weight', async () => {
    const trainable = original.model.trainableWeights.length;
    assert.equal(loaded.optimizerWeights.length, 1 + 2 * trainable);
    assert.equal(loaded.optimizerWeights[0].name, 'iter');
    assert.equal((await loaded.optimizerWeights[0].tensor.data())[0], 2);
    const names = loaded.optimizerWeights.map((w) => w.name);
    assert.ok(names.every((name) => !/^\d+:/.test(name)), 'the numbering added on save is removed on load');
    const originalState = await original.optimizer.getWeights();
    assert.deepEqual(names, originalState.map((w) => w.name));
    originalState.forEach((w, i) => assert.deepEqual(loaded.optimizerWeights[i].tensor.dataSync(), w.tensor.dataSync(), w.name));
  });

  test(`one more step from the restored state matches one more step from the original (within ${STEP_TOLERANCE})`, async () => {
    const resumedModel = (await loadCheckpoint(dir)).model;
    const restoredOptimizer = tf.train.adam(LEARNING_RATE);
    const again = await loadCheckpoint(dir);
    again.model.dispose();
    await restoredOptimizer.setWeights(again.optimizerWeights);
    tf.dispose(again.optimizerWeights.map((w) => w.tensor));
    const resumed: Trained = { model: resumedModel, logits: logitsModel(resumedModel), optimizer: restoredOptimizer };
    try {
      step(original, next);
      step(resumed, next);
      const a = weightData(original.model);
      const b = weightData(resumed.model);
      let moved = 0;
      a.forEach((w, i) => {
        assert.ok(maxAbsDiff(w.values, b[i].values) <= STEP_TOLERANCE, w.name);
        if (maxAbsDiff(w.values, weightData(loaded.model)[i].values) > 0) moved++;
      });
      assert.ok(moved > 0, 'the step changed the weights');
      // Without the restored moments the step would differ: Adam's first step moves every weight by ~lr.
      const fresh = newModel();
      try {
        fresh.setWeights(loaded.model.getWeights());
        const cold: Trained = { model: fresh, logits: logitsModel(fresh), optimizer: tf.train.adam(LEARNING_RATE) };
        step(cold, next);
        const c = weightData(fresh);
        assert.ok(a.some((w, i) => maxAbsDiff(w.values, c[i].values) > 10 * STEP_TOLERANCE), 'optimizer state matters');
        cold.optimizer.dispose();
      } finally {
        fresh.dispose();
      }
    } finally {
      resumedModel.dispose();
      restoredOptimizer.dispose();
    }
  });
});

describe('trainStep: no tensor leaks', () => {
  test('tf.memory().numTensors is unchanged by a step once the optimizer state exists', async () => {
    const model = newModel(3);
    const t: Trained = { model, logits: logitsModel(model), optimizer: tf.train.adam(LEARNING_RATE) };
    const b = await batch(300);
    try {
      step(t, b); // creates Adam's moments
      const before = tf.memory().numTensors;
      step(t, b);
      assert.equal(tf.memory().numTensors, before);
      step(t, await batch(301));
      assert.equal(tf.memory().numTensors, before);
    } finally {
      model.dispose();
      t.optimizer.dispose();
    }
  });
});

describe('loadCheckpoint: damaged checkpoints', () => {
  let source: string;
  before(async () => {
    const model = newModel(2);
    const optimizer = tf.train.adam(LEARNING_RATE);
    const t: Trained = { model, logits: logitsModel(model), optimizer };
    step(t, await batch(400));
    const checkpointsDir = join(tmp, 'damaged-source');
    source = join(checkpointsDir, await saveCheckpoint({ checkpointsDir, model, optimizer, contract, epoch: 1, metrics: METRICS, backend }));
    model.dispose();
    optimizer.dispose();
  });

  async function copy(name: string): Promise<string> {
    const dir = join(tmp, 'damaged', name);
    await cp(source, dir, { recursive: true });
    return dir;
  }

  test('the undamaged copy loads', async () => {
    const loaded = await loadCheckpoint(await copy('intact'));
    loaded.model.dispose();
    tf.dispose(loaded.optimizerWeights.map((w) => w.tensor));
  });

  test('BAD CALL - a flipped byte in weights.bin fails the sha256 check', async () => {
    const dir = await copy('flipped');
    const path = join(dir, CHECKPOINT_FILES.weights);
    const bytes = await readFile(path);
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    await writeFile(path, bytes);
    await rejectsWithCheckpointError(dir, /weights\.bin does not match its recorded sha256; the checkpoint is damaged/);
  });

  test('BAD CALL - a truncated weights.bin fails the sha256 check', async () => {
    const dir = await copy('truncated');
    const path = join(dir, CHECKPOINT_FILES.weights);
    await writeFile(path, (await readFile(path)).subarray(0, 100));
    await rejectsWithCheckpointError(dir, /sha256/);
  });

  test('BAD CALL - a missing model.json', async () => {
    const dir = await copy('no-model');
    await rm(join(dir, CHECKPOINT_FILES.model));
    await rejectsWithCheckpointError(dir, /Cannot read model .*model\.json: ENOENT/);
  });

  test('BAD CALL - model.json that is not JSON', async () => {
    const dir = await copy('bad-json');
    await writeFile(join(dir, CHECKPOINT_FILES.model), '{"modelTopology": ');
    await rejectsWithCheckpointError(dir, /model\.json is not valid JSON .*the checkpoint is damaged/);
  });

  test('BAD CALL - a missing optimizer.bin', async () => {
    const dir = await copy('no-optimizer');
    await rm(join(dir, CHECKPOINT_FILES.optimizerWeights));
    await rejectsWithCheckpointError(dir, /Cannot read optimizer weights .*optimizer\.bin: ENOENT/);
  });

  test('BAD CALL - a checkpoint directory that does not exist', async () => {
    await rejectsWithCheckpointError(join(tmp, 'nowhere', 'epoch-0001'), /Cannot read model .*ENOENT/);
  });
});

describe('saveCheckpoint: overwriting and atomicity', () => {
  test('saving the same epoch again replaces it and leaves no temporary names', async () => {
    const checkpointsDir = join(tmp, 'overwrite');
    const model = newModel(4);
    const optimizer = tf.train.adam(LEARNING_RATE);
    const t: Trained = { model, logits: logitsModel(model), optimizer };
    try {
      step(t, await batch(500));
      const args = { checkpointsDir, model, optimizer, contract, epoch: 7, metrics: METRICS, backend };
      await saveCheckpoint(args);
      const first = JSON.parse(await readFile(join(checkpointsDir, 'epoch-0007', CHECKPOINT_FILES.info), 'utf8')) as { weightsSha256: string };
      step(t, await batch(501));
      await saveCheckpoint({ ...args, metrics: { ...METRICS, epoch: 7, valAccuracy: 0.9 } });
      assert.deepEqual(await readdir(checkpointsDir), ['epoch-0007']);
      assert.deepEqual(await hiddenEntries(checkpointsDir), []);
      const loaded = await loadCheckpoint(join(checkpointsDir, 'epoch-0007'));
      assert.equal(loaded.info.metrics.valAccuracy, 0.9);
      assert.notEqual(loaded.info.weightsSha256, first.weightsSha256);
      weightData(model).forEach((w, i) => assert.deepEqual(weightData(loaded.model)[i].values, w.values, w.name));
      loaded.model.dispose();
      tf.dispose(loaded.optimizerWeights.map((w) => w.tensor));
    } finally {
      model.dispose();
      optimizer.dispose();
    }
  });
});

describe('isBetter', () => {
  test('anything beats no checkpoint', () => {
    assert.equal(isBetter({ valAccuracy: 0, valLoss: Number.POSITIVE_INFINITY }, undefined), true);
  });
  test('higher validation accuracy wins whatever the loss', () => {
    assert.equal(isBetter({ valAccuracy: 0.6, valLoss: 9 }, { valAccuracy: 0.5, valLoss: 1 }), true);
    assert.equal(isBetter({ valAccuracy: 0.5, valLoss: 0.1 }, { valAccuracy: 0.6, valLoss: 9 }), false);
  });
  test('equal accuracy: lower validation loss wins', () => {
    assert.equal(isBetter({ valAccuracy: 0.5, valLoss: 0.9 }, { valAccuracy: 0.5, valLoss: 1 }), true);
    assert.equal(isBetter({ valAccuracy: 0.5, valLoss: 1.1 }, { valAccuracy: 0.5, valLoss: 1 }), false);
  });
  test('a complete tie keeps the earlier checkpoint', () => {
    assert.equal(isBetter({ valAccuracy: 0.5, valLoss: 1 }, { valAccuracy: 0.5, valLoss: 1 }), false);
  });
});

describe('updateIndex and readIndex', () => {
  const index = (best: number, last: number): CheckpointIndex => ({
    best: { dir: checkpointDirName(best), epoch: best, valAccuracy: 0.6, valLoss: 0.9 },
    last: { dir: checkpointDirName(last), epoch: last },
  });

  async function populated(name: string): Promise<string> {
    const dir = join(tmp, 'index', name);
    for (let epoch = 1; epoch <= 4; epoch++) {
      await mkdir(join(dir, checkpointDirName(epoch)), { recursive: true });
      await writeFile(join(dir, checkpointDirName(epoch), 'model.json'), '{}');
    }
    await writeFile(join(dir, 'notes.txt'), 'kept');
    await mkdir(join(dir, 'epoch-old'));
    return dir;
  }

  test('checkpointDirName pads to four digits', () => {
    assert.equal(checkpointDirName(3), 'epoch-0003');
    assert.equal(checkpointDirName(12345), 'epoch-12345');
  });

  test('removes epoch directories that neither best nor last names, keeps everything else', async () => {
    const dir = await populated('prune');
    await updateIndex(dir, index(2, 4), false);
    assert.deepEqual((await readdir(dir)).sort(), ['epoch-0002', 'epoch-0004', 'epoch-old', 'index.json', 'notes.txt']);
    assert.deepEqual(await readIndex(dir), index(2, 4));
    assert.deepEqual(await hiddenEntries(dir), []);
  });

  test('best and last in one directory keeps just that one', async () => {
    const dir = await populated('same');
    await updateIndex(dir, index(3, 3), false);
    assert.deepEqual((await readdir(dir)).filter((e) => /^epoch-\d+$/.test(e)), ['epoch-0003']);
  });

  test('keepAll keeps every epoch directory and still writes the index', async () => {
    const dir = await populated('keep');
    await updateIndex(dir, index(1, 4), true);
    assert.deepEqual((await readdir(dir)).filter((e) => /^epoch-\d+$/.test(e)).sort(), ['epoch-0001', 'epoch-0002', 'epoch-0003', 'epoch-0004']);
    assert.deepEqual(await readIndex(dir), index(1, 4));
  });

  test('a later update replaces the index', async () => {
    const dir = await populated('replace');
    await updateIndex(dir, index(1, 2), true);
    await updateIndex(dir, index(3, 4), true);
    assert.deepEqual(await readIndex(dir), index(3, 4));
    assert.deepEqual(await hiddenEntries(dir), []);
  });

  test('BAD CALL - readIndex without an index.json', async () => {
    await assert.rejects(readIndex(join(tmp, 'index', 'none')), { name: 'CheckpointError', message: /Cannot read checkpoint index .*index\.json: ENOENT/ });
  });
});

describe('resolveCheckpoint', () => {
  let runDir: string;
  before(async () => {
    runDir = join(tmp, 'run');
    await mkdir(join(runDir, 'checkpoints'), { recursive: true });
    await updateIndex(
      join(runDir, 'checkpoints'),
      { best: { dir: 'epoch-0005', epoch: 5, valAccuracy: 0.7, valLoss: 0.8 }, last: { dir: 'epoch-0009', epoch: 9 } },
      true,
    );
  });

  test('epoch-N resolves to the padded directory without reading the index', async () => {
    assert.equal(await resolveCheckpoint(runDir, 'epoch-3'), join(runDir, 'checkpoints', 'epoch-0003'));
    assert.equal(await resolveCheckpoint(runDir, 'epoch-0012'), join(runDir, 'checkpoints', 'epoch-0012'));
    assert.equal(await resolveCheckpoint(join(tmp, 'no-run'), 'epoch-1'), join(tmp, 'no-run', 'checkpoints', 'epoch-0001'));
  });

  test('best and last come from the index', async () => {
    assert.equal(await resolveCheckpoint(runDir, 'best'), join(runDir, 'checkpoints', 'epoch-0005'));
    assert.equal(await resolveCheckpoint(runDir, 'last'), join(runDir, 'checkpoints', 'epoch-0009'));
  });

  test('BAD CALL - resolveCheckpoint("worst") lists the valid names', async () => {
    await assert.rejects(resolveCheckpoint(runDir, 'worst'), (error: Error) => {
      assert.equal(error.name, 'RangeError');
      assert.match(error.message, /Unsupported checkpoint "worst"\. Expected one of: best, last, epoch-N\./);
      return true;
    });
  });

  test('BAD CALL - resolveCheckpoint("epoch-") and ("epoch-x") are not epochs', async () => {
    await assert.rejects(resolveCheckpoint(runDir, 'epoch-'), { name: 'RangeError', message: /Unsupported checkpoint "epoch-"/ });
    await assert.rejects(resolveCheckpoint(runDir, 'epoch-x'), { name: 'RangeError', message: /Unsupported checkpoint "epoch-x"/ });
  });

  test('BAD CALL - resolveCheckpoint("best") in a run without checkpoints', async () => {
    await assert.rejects(resolveCheckpoint(join(tmp, 'no-run'), 'best'), { name: 'CheckpointError', message: /Cannot read checkpoint index/ });
  });
});
