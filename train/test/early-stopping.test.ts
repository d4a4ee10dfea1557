// --early-stopping: training stops once the best validation result is PATIENCE epochs old, and not before.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isBetter } from '../src/checkpoint.js';
import { train, type TrainEvent } from '../src/train.js';
import { PETS_MINI } from './fixtures.js';

test('stops exactly when no epoch beat the best for PATIENCE epochs', async () => {
  const root = await mkdtemp(join(tmpdir(), 'pets-early-'));
  try {
    const events: TrainEvent[] = [];
    // A high learning rate at a tiny size makes validation results plateau quickly.
    const result = await train({
      data: PETS_MINI, out: join(root, 'run'), preset: 'model2', backend: 'wasm', imageSize: 16, batchSize: 32,
      epochs: 12, learningRate: 0.05, seed: 5, earlyStopping: 2, onEvent: (e) => events.push(e),
    });
    // Recompute, epoch by epoch, when the rule should have stopped the run.
    let best: { valAccuracy: number; valLoss: number; epoch: number } | undefined;
    let expectedStop: number | undefined;
    for (const record of result.history) {
      if (isBetter(record, best)) best = { ...record };
      if (best && record.epoch - best.epoch >= 2) {
        expectedStop = record.epoch;
        break;
      }
    }
    const stop = events.find((e) => e.type === 'early-stop');
    if (expectedStop === undefined) {
      assert.equal(result.history.length, 12, 'kept improving: ran every epoch');
      assert.equal(stop, undefined);
    } else {
      assert.equal(result.history.length, expectedStop, 'stopped right after the patience ran out');
      assert.deepEqual(stop, { type: 'early-stop', epoch: expectedStop, patience: 2 });
    }
    assert.equal(result.best.epoch, best?.epoch);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
