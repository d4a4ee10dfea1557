// The wasm training kernels (train/src/backend/wasm-kernels.ts) against the cpu backend: convolution
// gradients over strides, kernel sizes and paddings, Tile, Sum and Mean, and the gradients of every
// weight of a small model3-like network, plus leak checks (engine tensors and wasm data buffers).
//
// Error measure, per compared tensor: relErr(wasm, cpu) = max_i |wasm_i - cpu_i| / max(max_i |cpu_i|, 1e-6).
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { tf, tfl } from '../src/backend/tf.js';
import { registerWasmTrainingKernels } from '../src/backend/wasm-kernels.js';
import { assertClose, onBoth, sizeOf } from './compare.js';

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

/** Seeded uniform values in [-1, 1) (mulberry32), identical on every run and backend. */
function seededValues(size: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  }
  return out;
}

interface ConvCase {
  x: Shape4;
  filter: Shape4;
  strides: number | [number, number];
  pad: Pad;
}

const CONV_CASES: ConvCase[] = [
  { x: [2, 13, 11, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'same' },
  { x: [2, 13, 11, 3], filter: [1, 1, 3, 5], strides: 1, pad: 'valid' },
  { x: [3, 13, 11, 4], filter: [7, 7, 4, 2], strides: 2, pad: 'same' },
  { x: [2, 13, 11, 3], filter: [5, 3, 3, 4], strides: 3, pad: 'same' },
  { x: [2, 13, 11, 3], filter: [3, 3, 3, 4], strides: 2, pad: 'valid' },
  // The last row and column of x fall outside every window.
  { x: [2, 14, 12, 3], filter: [3, 2, 3, 4], strides: 3, pad: 'valid' },
  { x: [2, 13, 11, 2], filter: [7, 5, 2, 3], strides: [2, 3], pad: 'same' },
  { x: [2, 9, 9, 2], filter: [2, 2, 2, 3], strides: 2, pad: 'same' },
  { x: [2, 13, 11, 3], filter: [6, 4, 3, 2], strides: 1, pad: 'valid' },
  // Kernel larger than the input.
  { x: [2, 5, 4, 3], filter: [7, 7, 3, 2], strides: 1, pad: 'same' },
  { x: [2, 13, 11, 3], filter: [3, 3, 3, 4], strides: 1, pad: 1 },
  // Explicit padding wider than the kernel on top.
  { x: [2, 13, 11, 3], filter: [3, 3, 3, 4], strides: 2, pad: [[0, 0], [4, 1], [0, 2], [0, 0]] },
  { x: [2, 13, 11, 3], filter: [3, 3, 3, 4], strides: 1, pad: [[0, 0], [4, 0], [1, 3], [0, 0]] },
  { x: [2, 8, 8, 16], filter: [4, 4, 16, 8], strides: 1, pad: 'same' },
  // Strides above the kernel size: some input rows and columns get no gradient.
  { x: [2, 13, 11, 3], filter: [1, 1, 3, 4], strides: 2, pad: 'valid' },
  { x: [2, 13, 11, 3], filter: [2, 1, 3, 4], strides: 3, pad: 'same' },
  // Enough input channels that strided dx scatters whole pixels at once.
  { x: [2, 9, 11, 32], filter: [3, 3, 32, 5], strides: 2, pad: 'same' },
  // model3's stem at a small size.
  { x: [2, 32, 30, 3], filter: [7, 7, 3, 8], strides: 2, pad: 'same' },
];

function convGrads(c: ConvCase): { dx: Float32Array; dw: Float32Array; leakedData: number } {
  const dataBefore = tf.engine().backend.numDataIds();
  const x = tf.tensor4d(seededValues(sizeOf(c.x), 1), c.x);
  const w = tf.tensor4d(seededValues(sizeOf(c.filter), 2), c.filter);
  const yShape = tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, 1, c.pad).outShape;
  // Weighting the output by r makes dy = r exactly.
  const r = tf.tensor4d(seededValues(sizeOf(yShape), 3), yShape);
  const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
    tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.pad), r)),
  )([x, w]);
  const out = { dx: dx.dataSync() as Float32Array, dw: dw.dataSync() as Float32Array };
  tf.dispose([x, w, r, dx, dw]);
  return { ...out, leakedData: tf.engine().backend.numDataIds() - dataBefore };
}

/** Five conv blocks shaped like model3 (7x7/2 stem, BN, ReLU, max pools), small enough for the cpu backend. */
function buildModel(): tfl.LayersModel {
  const model = tfl.sequential();
  const block = (filters: number, kernelSize: number, strides = 1, inputShape?: number[]): void => {
    model.add(tfl.layers.conv2d({ filters, kernelSize, strides, padding: 'same', useBias: false, inputShape }));
    model.add(tfl.layers.batchNormalization());
    model.add(tfl.layers.reLU());
  };
  block(8, 7, 2, [32, 32, 3]);
  model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  block(8, 3);
  block(12, 3);
  model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  block(12, 3);
  block(16, 3);
  model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tfl.layers.globalAveragePooling2d({}));
  model.add(tfl.layers.dropout({ rate: 0 }));
  model.add(tfl.layers.dense({ units: 5, activation: 'softmax' }));
  return model;
}

const BATCH = 4;

/** Gradients of the cross-entropy of a fresh model (weights set from seeded values) per trainable weight. */
function modelGrads(): { names: string[]; grads: Float32Array[]; leakedTensors: number; leakedData: number } {
  const model = buildModel();
  const weights = model.getWeights().map((w, i) => {
    const isVariance = /moving_variance/.test(model.weights[i].originalName);
    const values = seededValues(w.size, 100 + i).map((v) => (isVariance ? 1 + 0.5 * v : 0.5 * v));
    return tf.tensor(values, w.shape);
  });
  model.setWeights(weights);
  tf.dispose(weights);
  const x = tf.tensor4d(seededValues(BATCH * 32 * 32 * 3, 7), [BATCH, 32, 32, 3]);
  const labels = tf.oneHot(tf.tensor1d([0, 3, 1, 4], 'int32'), 5);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);

  const tensorsBefore = tf.memory().numTensors;
  const dataBefore = tf.engine().backend.numDataIds();
  const { value, grads } = tf.variableGrads(() => {
    const probs = model.apply(x, { training: true }) as tf.Tensor;
    return tf.neg(tf.mean(tf.sum(tf.mul(labels, tf.log(tf.add(probs, 1e-7))), -1))) as tf.Scalar;
  }, variables);
  const arrays = variables.map((v) => grads[v.name].dataSync() as Float32Array);
  tf.dispose([value, ...Object.values(grads)]);
  const leakedTensors = tf.memory().numTensors - tensorsBefore;
  const leakedData = tf.engine().backend.numDataIds() - dataBefore;

  // Layer names carry a per-process counter (conv2d_Conv2D7/kernel): keep the layer class and weight.
  const names = model.trainableWeights.map((w) => w.originalName.replace(/\d+\//, '/'));
  tf.dispose([x, labels]);
  model.dispose();
  return { names, grads: arrays, leakedTensors, leakedData };
}

describe('wasm training kernels', () => {
  before(async () => {
    await import('@tensorflow/tfjs-backend-wasm');
    registerWasmTrainingKernels();
    assert.ok(await tf.setBackend('wasm'), 'the wasm backend initializes');
  });

  it('registers idempotently', () => {
    const names = ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'Tile', 'Sum', 'Mean', 'MaxPoolGrad', 'Identity', 'Cast'];
    const configs = names.map((k) => tf.getKernel(k, 'wasm'));
    registerWasmTrainingKernels();
    const again = names.map((k) => tf.getKernel(k, 'wasm'));
    assert.ok(configs.every((c) => c !== undefined));
    assert.deepEqual(again, configs);
  });

  // Below 8 input channels dx goes by columns (col2im), from 8 by convolutions: each geometry takes both.
  const withWideInput = (c: ConvCase): ConvCase[] =>
    c.x[3] >= 8 ? [c] : [c, { ...c, x: [c.x[0], c.x[1], c.x[2], 9], filter: [c.filter[0], c.filter[1], 9, c.filter[3]] }];
  for (const c of CONV_CASES.flatMap(withWideInput)) {
    const name = `conv2d x [${c.x}] filter [${c.filter}] strides ${JSON.stringify(c.strides)} pad ${JSON.stringify(c.pad)}`;
    it(`${name}: dx and dW match cpu`, async () => {
      const { cpu, wasm } = await onBoth(() => convGrads(c));
      assertClose(wasm.dx, cpu.dx, 'dx');
      assertClose(wasm.dw, cpu.dw, 'dW');
      assert.equal(wasm.leakedData, 0, 'wasm data buffers left after disposing the gradients');
    });
  }

  it('Conv2DBackpropInput in NCHW (the built-in fallback) matches cpu', async () => {
    const inputShape: Shape4 = [2, 3, 9, 7];
    const filterShape: Shape4 = [3, 3, 3, 4];
    const dyShape: Shape4 = [2, 4, 5, 4];
    const { cpu, wasm } = await onBoth(() => {
      const dy = tf.tensor4d(seededValues(sizeOf(dyShape), 4), dyShape);
      const filter = tf.tensor4d(seededValues(sizeOf(filterShape), 5), filterShape);
      const attrs = { inputShape, strides: 2, pad: 'same', dataFormat: 'NCHW' };
      const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, attrs) as tf.Tensor;
      const values = dx.dataSync().slice();
      tf.dispose([dy, filter, dx]);
      return values;
    });
    assertClose(wasm, cpu, 'dx');
  });

  const TILE_CASES: { shape: number[]; reps: number[]; dtype: 'float32' | 'int32' | 'bool' }[] = [
    { shape: [1, 1, 1, 6], reps: [3, 5, 4, 1], dtype: 'float32' },
    { shape: [2, 3], reps: [3, 2], dtype: 'float32' },
    { shape: [2, 1, 3], reps: [1, 4, 2], dtype: 'int32' },
    { shape: [3, 2], reps: [2, 3], dtype: 'bool' },
    { shape: [5], reps: [7], dtype: 'float32' },
    // More rows than the fast path takes: the built-in's turn.
    { shape: [70_000, 1], reps: [1, 2], dtype: 'float32' },
  ];
  for (const c of TILE_CASES) {
    it(`tile ${c.dtype} [${c.shape}] by [${c.reps}] matches cpu`, async () => {
      const { cpu, wasm } = await onBoth(() => {
        const values = Array.from(seededValues(sizeOf(c.shape), 6), (v) => (c.dtype === 'float32' ? v : v > 0 ? 1 : 0));
        const x = tf.tensor(values, c.shape, c.dtype);
        const y = tf.tile(x, c.reps);
        const out = { shape: y.shape, values: Array.from(y.dataSync()) };
        tf.dispose([x, y]);
        return out;
      });
      assert.deepEqual(wasm, cpu);
    });
  }

  const REDUCE_CASES: { shape: number[]; axis: number | number[]; keepDims: boolean; dtype?: 'int32' }[] = [
    { shape: [3, 5, 4, 6], axis: [0, 1, 2], keepDims: false },
    { shape: [3, 5, 4, 6], axis: [2, 0, 1], keepDims: true },
    { shape: [7, 5], axis: 0, keepDims: false },
    { shape: [7, 5], axis: [0, 1], keepDims: false },
    { shape: [4, 3, 2], axis: [-3, -2], keepDims: true },
    // Not leading axes, or not float32: the built-ins' turn.
    { shape: [3, 5, 4, 6], axis: [1, 2], keepDims: false },
    { shape: [3, 5, 4, 6], axis: -1, keepDims: true },
    { shape: [3, 5, 4], axis: [0, 1], keepDims: false, dtype: 'int32' },
  ];
  for (const op of ['sum', 'mean'] as const) {
    for (const c of REDUCE_CASES) {
      it(`${op} ${c.dtype ?? 'float32'} [${c.shape}] over ${JSON.stringify(c.axis)} keepDims ${c.keepDims} matches cpu`, async () => {
        const { cpu, wasm } = await onBoth(() => {
          const values = Array.from(seededValues(sizeOf(c.shape), 8), (v) => (c.dtype === 'int32' ? Math.round(10 * v) : v));
          const x = tf.tensor(values, c.shape, c.dtype ?? 'float32');
          const y = tf[op](x, c.axis, c.keepDims);
          const out = { shape: y.shape, dtype: y.dtype, values: Array.from(y.dataSync()) };
          tf.dispose([x, y]);
          return out;
        });
        assert.deepEqual([wasm.shape, wasm.dtype], [cpu.shape, cpu.dtype]);
        assertClose(wasm.values, cpu.values, op);
      });
    }
  }

  it('gradients of every weight of a model3-like network match cpu, without leaks', async () => {
    const { cpu, wasm } = await onBoth(modelGrads);
    assert.deepEqual(wasm.names, cpu.names);
    assert.equal(wasm.grads.length, 17, 'five convolution kernels, five BN gammas and betas, the dense kernel and bias');
    for (const [i, name] of cpu.names.entries()) assertClose(wasm.grads[i], cpu.grads[i], name);
    assert.equal(wasm.leakedTensors, 0, 'tensors left after disposing the gradients on wasm');
    assert.equal(wasm.leakedData, 0, 'wasm data buffers left after disposing the gradients');
    assert.equal(cpu.leakedTensors, 0, 'tensors left after disposing the gradients on cpu');
  });
});
