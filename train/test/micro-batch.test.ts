// trainStep with micro-batches (gradient accumulation) against one pass over the whole batch, leak
// checks of a step, and how the pass size is planned from the memory estimate.
//
// Error measure, per gradient: relErr(a, b) = max_i |a_i - b_i| / max(max_i |b_i|, 1e-6). One pass and
// several passes sum the same float32 terms in a different order, so they agree to float32 rounding:
// TOLERANCE is 1e-5.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { chooseBackend } from '../src/backend/index.js';
import { tf, type LayersModel, type Optimizer, type Tensor } from '../src/backend/tf.js';
import type { Batch } from '../src/batches.js';
import { trainStep, trainableVariables, type StepResult } from '../src/fit.js';
import { estimatePassBytes, planMicroBatch, WASM_PASS_BUDGET_BYTES } from '../src/micro-batch.js';
import { buildModel, logitsModel, type Architecture } from '../src/presets.js';
import { relErr } from './compare.js';

const TOLERANCE = 1e-5;
const CLASSES = 5;
const SIZE = 24;
const BATCH = 8;


/** A fixed batch: smooth but distinct images, every class present. */
function fixedBatch(n: number): Batch {
  const x = Float32Array.from({ length: n * SIZE * SIZE * 3 }, (_, i) => Math.sin(i * 0.37) + 0.3 * Math.cos(i * 0.011));
  return { x, shape: [n, SIZE, SIZE, 3], labels: Int32Array.from({ length: n }, (_, i) => i % CLASSES) };
}

/** An "optimizer" that records the gradients it is given instead of applying them. */
function recorder(): { optimizer: Optimizer; grads: Float32Array[] } {
  const grads: Float32Array[] = [];
  const optimizer = {
    applyGradients(named: Record<string, Tensor>) {
      for (const g of Object.values(named)) grads.push(g.dataSync() as Float32Array);
    },
  } as unknown as Optimizer;
  return { optimizer, grads };
}

/** The gradients and result of one step of a freshly built model (same seed: same weights every time). */
function stepOf(architecture: Architecture, microBatch?: number): { result: StepResult; grads: Float32Array[]; passes: number[] } {
  const model: LayersModel = buildModel({ architecture, dropout: 0, imageSize: SIZE, numClasses: CLASSES, seed: 3 });
  const logits = logitsModel(model);
  const { optimizer, grads } = recorder();
  const passes: number[] = [];
  const result = trainStep(logits, optimizer, trainableVariables(logits), fixedBatch(BATCH), CLASSES, { microBatch, beforePass: (p) => passes.push(p) });
  model.dispose();
  return { result, grads, passes };
}

before(async () => {
  await chooseBackend('wasm');
});

describe('trainStep with micro-batches', () => {
  for (const microBatch of [4, 3, 1]) {
    test(`without BatchNorm (model1's layers), passes of ${microBatch} give one pass's gradients within ${TOLERANCE}`, () => {
      const whole = stepOf('plain-cnn');
      const split = stepOf('plain-cnn', microBatch);
      assert.deepEqual(split.passes, Array.from({ length: Math.ceil(BATCH / microBatch) }, (_, i) => i), 'one beforePass per pass');
      assert.deepEqual(whole.passes, [0]);
      assert.equal(split.grads.length, 10, 'three convolutions and two dense layers, kernels and biases');
      for (const [i, g] of whole.grads.entries()) {
        const err = relErr(split.grads[i], g);
        assert.ok(err <= TOLERANCE, `gradient ${i}: relative error ${err.toExponential(2)} > ${TOLERANCE}`);
      }
      assert.ok(Math.abs(split.result.loss - whole.result.loss) <= TOLERANCE * Math.abs(whole.result.loss), 'loss is the batch mean');
      assert.equal(split.result.correct, whole.result.correct);
    });
  }

  test('with BatchNorm each pass normalizes by its own statistics, so the gradients differ from one pass', () => {
    const whole = stepOf('bn-gap-cnn');
    const split = stepOf('bn-gap-cnn', 4);
    const errors = whole.grads.map((g, i) => relErr(split.grads[i], g));
    assert.ok(Math.max(...errors) > TOLERANCE, `relative differences ${errors.map((e) => e.toExponential(1)).join(' ')}`);
  });

  test('a step leaves no tensors behind, with one pass or several', () => {
    const model = buildModel({ architecture: 'bn-gap-cnn', dropout: 0.5, imageSize: SIZE, numClasses: CLASSES, seed: 3 });
    const logits = logitsModel(model);
    const optimizer = tf.train.adam(1e-3);
    const variables = trainableVariables(logits);
    // The first step creates Adam's moment variables.
    trainStep(logits, optimizer, variables, fixedBatch(BATCH), CLASSES);
    for (const microBatch of [undefined, 3, BATCH]) {
      const tensors = tf.memory().numTensors;
      const data = tf.engine().backend.numDataIds();
      const { loss } = trainStep(logits, optimizer, variables, fixedBatch(BATCH), CLASSES, { microBatch });
      assert.ok(Number.isFinite(loss));
      assert.equal(tf.memory().numTensors, tensors, `tensors after a step with microBatch ${microBatch}`);
      assert.equal(tf.engine().backend.numDataIds(), data, `wasm data buffers after a step with microBatch ${microBatch}`);
    }
    optimizer.dispose();
    model.dispose();
  });

  test('BAD CALL - microBatch 0', () => {
    const model = buildModel({ architecture: 'plain-cnn', dropout: 0, imageSize: SIZE, numClasses: CLASSES, seed: 3 });
    const logits = logitsModel(model);
    assert.throws(() => trainStep(logits, recorder().optimizer, trainableVariables(logits), fixedBatch(2), CLASSES, { microBatch: 0 }), {
      name: 'RangeError',
      message: /"microBatch" must be a positive integer; got 0/,
    });
    model.dispose();
  });
});

describe('planning the pass size', () => {
  const model3At = (imageSize: number): LayersModel => buildModel({ architecture: 'bn-gap-cnn', dropout: 0.5, imageSize, numClasses: 37, seed: 1 });

  test('model3 at 224 on wasm: a batch of 16 fits, a batch of 32 is split in two passes of 16', () => {
    const model = model3At(224);
    const budget = WASM_PASS_BUDGET_BYTES;
    assert.deepEqual(planMicroBatch(model, 16, null, budget), { size: 16, passes: 1, wholeBatchBytes: estimatePassBytes(model, 16), reason: 'fits' });
    assert.deepEqual(planMicroBatch(model, 32, null, budget), { size: 16, passes: 2, wholeBatchBytes: estimatePassBytes(model, 32), reason: 'split' });
    // Measured peak heaps (scripts/bench-train.ts --memory): 1.9 GiB for 16 images, 3.9 GiB for 32.
    assert.ok(estimatePassBytes(model, 16) > 1.9 * 2 ** 30 && estimatePassBytes(model, 32) > 3.9 * 2 ** 30, 'the estimate errs high');
    model.dispose();
  });

  test('no budget (native backends) never splits; a request wins and is capped at the batch', () => {
    const model = model3At(224);
    assert.equal(planMicroBatch(model, 64, undefined, Infinity).passes, 1);
    assert.deepEqual(planMicroBatch(model, 32, 12, Infinity).size, 12);
    assert.deepEqual(planMicroBatch(model, 32, 12, Infinity).passes, 3);
    assert.deepEqual(planMicroBatch(model, 8, 12, Infinity).size, 8);
    // A budget below one image still trains, one image per pass.
    assert.equal(planMicroBatch(model, 4, null, 1).size, 1);
    model.dispose();
  });

  test('BAD CALL - a micro-batch that is not a positive integer', () => {
    const model = model3At(64);
    for (const bad of [0, -2, 1.5]) {
      assert.throws(() => planMicroBatch(model, 8, bad, Infinity), { name: 'RangeError', message: /"microBatch" must be a positive integer/ });
    }
    model.dispose();
  });
});
