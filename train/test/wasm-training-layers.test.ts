// BatchNormalization's fused training gradient and the stem convolution without an input gradient
// (train/src/backend/wasm-training-layers.ts) against tfjs' own layers on the cpu backend: outputs,
// gradients of the input and of every weight, and the moving statistics, within 1e-5 relative; the
// profile shows each form ran on wasm (so the comparisons cannot pass by falling back).
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { tf, tfl } from '../src/backend/tf.js';
import { registerWasmTrainingKernels } from '../src/backend/wasm-kernels.js';
import { BATCH_NORM_GRAD } from '../src/backend/wasm-batch-norm-grad.js';
import { assertClose, sizeOf } from './compare.js';

/** Runs `compute` to its end on the cpu backend, then on wasm (tf.profile makes it asynchronous). */
async function onBoth<T>(compute: () => Promise<T>): Promise<{ cpu: T; wasm: T }> {
  await tf.setBackend('cpu');
  const cpu = await compute();
  await tf.setBackend('wasm');
  const wasm = await compute();
  return { cpu, wasm };
}

/** Seeded values in [-1, 1) (a linear congruential generator), identical on every run and backend. */
function seeded(size: number, seed: number, scale = 1, offset = 0): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: size }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return offset + scale * (state / 2 ** 31 - 1);
  });
}

interface Result {
  y: Float32Array;
  grads: Float32Array[];
  moving: Float32Array[];
  kernels: string[];
  leaked: number;
}

/**
 * A layer (or a two-layer model) applied in training mode with gradients of sum(y * r) for its input and
 * trainable weights; the weights are seeded, so both backends start from the same values.
 */
async function layerGrads(build: () => tfl.LayersModel, inputShape: number[], values?: Float32Array): Promise<Result> {
  const model = build();
  model.setWeights(model.weights.map((w, i) => tf.tensor(seeded(sizeOf(w.shape as number[]), 10 + i, 0.5, /moving_variance|gamma/.test(w.originalName) ? 1 : 0), w.shape as number[])));
  const x = tf.tensor(values ?? seeded(sizeOf(inputShape), 1, 2, 0.3), inputShape);
  const tensors = tf.memory().numTensors;
  let y: Float32Array | undefined;
  let grads: Float32Array[] = [];
  const profile = await tf.profile(() => {
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const f = (input: tf.Tensor) => {
      const out = model.apply(input, { training: true }) as tf.Tensor;
      y ??= out.dataSync() as Float32Array;
      return tf.sum(tf.mul(out, tf.tensor(seeded(out.size, 3), out.shape)));
    };
    const dx = tf.grad(f)(x);
    const { value, grads: dw } = tf.variableGrads(() => f(x) as tf.Scalar, variables);
    grads = [dx, ...variables.map((v) => dw[v.name])].map((g) => g.dataSync() as Float32Array);
    tf.dispose([dx, value, ...Object.values(dw)]);
  });
  const moving = model.nonTrainableWeights.map((w) => w.read().dataSync() as Float32Array);
  const leaked = tf.memory().numTensors - tensors;
  x.dispose();
  model.dispose();
  return { y: y as Float32Array, grads, moving, kernels: profile.kernels.map((k) => k.name), leaked };
}

function assertSame(wasm: Result, cpu: Result): void {
  assertClose(wasm.y, cpu.y, 'output');
  assert.equal(wasm.grads.length, cpu.grads.length);
  for (const [i, g] of cpu.grads.entries()) assertClose(wasm.grads[i], g, i === 0 ? 'input gradient' : `gradient of weight ${i - 1}`);
  for (const [i, m] of cpu.moving.entries()) assertClose(wasm.moving[i], m, `moving statistic ${i}`);
  assert.equal(wasm.leaked, 0, 'tensors left on wasm');
}

const batchNorm = (shape: number[], momentum?: number) => () =>
  tfl.sequential({ layers: [tfl.layers.batchNormalization({ inputShape: shape, momentum, epsilon: 1e-3 })] });

describe('wasm training layers', () => {
  before(async () => {
    await import('@tensorflow/tfjs-backend-wasm');
    registerWasmTrainingKernels();
    assert.ok(await tf.setBackend('wasm'), 'the wasm backend initializes');
  });

  for (const [shape, momentum] of [[[3, 7, 5, 6], 0.99], [[2, 9, 4, 33], 0.5], [[16, 12], 0.9], [[4, 3, 8], undefined]] as const) {
    it(`BatchNormalization [${shape}] in training: output, gradients and moving statistics match cpu, through the fused kernel`, async () => {
      const { cpu, wasm } = await onBoth(() => layerGrads(batchNorm(shape.slice(1), momentum), [...shape]));
      assertSame(wasm, cpu);
      assert.ok(wasm.kernels.includes(BATCH_NORM_GRAD), 'the fused gradient kernel ran on wasm');
      assert.ok(!wasm.kernels.includes('FusedBatchNorm') || wasm.kernels.filter((k) => k === 'FusedBatchNorm').length === 2, 'only the forward passes normalize');
    });
  }

  it('BatchNormalization with a constant channel (zero variance) stays finite and matches cpu', async () => {
    const build = batchNorm([4, 4, 3]);
    const values = seeded(2 * 4 * 4 * 3, 9).map((v, i) => (i % 3 === 1 ? 0.25 : v));
    const { cpu, wasm } = await onBoth(() => layerGrads(build, [2, 4, 4, 3], values));
    assertSame(wasm, cpu);
    assert.ok(wasm.grads.every((g) => g.every(Number.isFinite)), 'finite gradients');
  });

  it('a stem convolution fed by the model input: no input gradient in training, equal weight gradients', async () => {
    const build = () => tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [15, 13, 3], filters: 8, kernelSize: 7, strides: 2, padding: 'same' }),
        tfl.layers.activation({ activation: 'relu' }),
        tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same' }),
      ],
    });
    const weightsOnly = async () => {
      const model = build();
      model.setWeights(model.weights.map((w, i) => tf.tensor(seeded(sizeOf(w.shape as number[]), 20 + i, 0.5, /gamma|moving_variance/.test(w.originalName) ? 1 : 0), w.shape as number[])));
      const x = tf.tensor(seeded(2 * 15 * 13 * 3, 5), [2, 15, 13, 3]);
      const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
      let grads: Float32Array[] = [];
      const profile = await tf.profile(() => {
        const { value, grads: dw } = tf.variableGrads(() => tf.sum(tf.square(model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, variables);
        grads = variables.map((v) => dw[v.name].dataSync() as Float32Array);
        tf.dispose([value, ...Object.values(dw)]);
      });
      x.dispose();
      model.dispose();
      return { grads, inputGradients: profile.kernels.filter((k) => k.name === 'Conv2DBackpropInput').length };
    };
    const { cpu, wasm } = await onBoth(weightsOnly);
    for (const [i, g] of cpu.grads.entries()) assertClose(wasm.grads[i], g, `gradient of weight ${i}`);
    assert.equal(cpu.inputGradients, 2, 'cpu (the stock layers) computes both convolutions\' input gradients');
    assert.equal(wasm.inputGradients, 1, 'wasm computes only the second convolution\'s (the stem\'s input is the image)');
    // When the input's gradient is asked for, it is computed and equal.
    const full = await onBoth(() => layerGrads(build, [2, 15, 13, 3]));
    assertSame(full.wasm, full.cpu);
  });
});
