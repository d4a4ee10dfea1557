// The wasm depthwise-convolution gradient kernels (train/src/backend/wasm-depthwise-backprop-*.ts) against
// the cpu backend: dx and dW of tf.depthwiseConv2d over strides, filter sizes, paddings, channel
// multipliers and odd sizes; the gradients and one training step of a small MobileNet-like network; leak
// checks (engine tensors and wasm data buffers) and the errors for what the kernels do not support.
//
// Error measure, per compared tensor: relErr(wasm, cpu) = max_i |wasm_i - cpu_i| / max(max_i |cpu_i|, 1e-6).
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { tf, tfl, type LayersModel, type Variable } from '../src/backend/tf.js';
import { registerWasmTrainingKernels } from '../src/backend/wasm-kernels.js';
import { trainStep } from '../src/fit.js';
import { createRng } from '../src/util/random.js';
import { assertClose, onBoth, sizeOf } from './compare.js';

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

/** Seeded uniform values in [-1, 1), identical on every run and backend. */
function seededValues(size: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: size }, () => rng.uniform(-1, 1));
}

interface DepthwiseCase {
  /** [B, H, W, C] */
  x: Shape4;
  /** [KH, KW, C, M] */
  filter: Shape4;
  strides: number | [number, number];
  pad: Pad;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

const CASES: DepthwiseCase[] = [
  { x: [1, 7, 9, 4], filter: [3, 3, 4, 1], strides: 1, pad: 'same' },
  { x: [3, 13, 13, 5], filter: [3, 3, 5, 1], strides: 2, pad: 'same' },
  { x: [3, 7, 9, 4], filter: [3, 3, 4, 1], strides: 1, pad: 'valid' },
  { x: [1, 13, 13, 3], filter: [3, 3, 3, 1], strides: 2, pad: 'valid' },
  // Channel multiplier 2.
  { x: [3, 7, 9, 4], filter: [3, 3, 4, 2], strides: 1, pad: 'same' },
  { x: [1, 13, 13, 3], filter: [3, 3, 3, 2], strides: 2, pad: 'same' },
  { x: [3, 13, 11, 3], filter: [3, 3, 3, 2], strides: 2, pad: 'valid' },
  { x: [1, 7, 9, 2], filter: [3, 3, 2, 3], strides: 1, pad: 'valid' },
  // 1x1 and 5x5 filters; with stride 2 a 1x1 filter leaves every other row and column of dx at zero.
  { x: [3, 7, 9, 4], filter: [1, 1, 4, 1], strides: 1, pad: 'valid' },
  { x: [1, 13, 13, 4], filter: [1, 1, 4, 2], strides: 2, pad: 'same' },
  { x: [3, 13, 13, 3], filter: [5, 5, 3, 1], strides: 1, pad: 'same' },
  { x: [1, 13, 11, 3], filter: [5, 5, 3, 2], strides: 2, pad: 'same' },
  { x: [3, 14, 12, 2], filter: [5, 5, 2, 1], strides: 2, pad: 'valid' },
  // Different strides per axis, non-square filters, stride 3.
  { x: [2, 9, 7, 3], filter: [3, 3, 3, 1], strides: [1, 2], pad: 'same' },
  { x: [2, 9, 7, 3], filter: [3, 3, 3, 1], strides: [2, 1], pad: 'valid' },
  { x: [2, 9, 9, 3], filter: [2, 3, 3, 1], strides: 2, pad: 'same' },
  { x: [2, 9, 9, 3], filter: [2, 2, 3, 2], strides: 2, pad: 'same' },
  { x: [2, 13, 11, 3], filter: [3, 3, 3, 1], strides: 3, pad: 'same' },
  // The last row and column of x fall outside every window, and strided phases with no taps.
  { x: [2, 14, 12, 3], filter: [2, 2, 3, 1], strides: 3, pad: 'valid' },
  // A filter larger than the input, and one whose 49 taps XNNPACK runs without a microkernel.
  { x: [2, 4, 3, 3], filter: [5, 5, 3, 1], strides: 1, pad: 'same' },
  { x: [1, 9, 9, 3], filter: [7, 7, 3, 1], strides: 1, pad: 'same' },
  // Explicit padding wider than the filter: part of the stride-1 convolution lies outside dx.
  { x: [2, 9, 11, 3], filter: [3, 3, 3, 1], strides: 1, pad: [[0, 0], [3, 0], [1, 2], [0, 0]] },
  { x: [2, 13, 11, 3], filter: [3, 3, 3, 1], strides: 2, pad: [[0, 0], [4, 1], [0, 2], [0, 0]] },
  // Numeric padding; rounding the output size up makes the last windows reach past the padding.
  { x: [2, 9, 11, 3], filter: [3, 3, 3, 2], strides: 1, pad: 2 },
  { x: [2, 12, 10, 3], filter: [3, 3, 3, 1], strides: 3, pad: 1, dimRoundingMode: 'ceil' },
  // Enough channels that strided dx is written a pixel at a time, and MobileNet's last two shapes, small.
  { x: [2, 9, 11, 33], filter: [3, 3, 33, 1], strides: 2, pad: 'same' },
  { x: [2, 14, 14, 24], filter: [3, 3, 24, 1], strides: 2, pad: 'same' },
  { x: [2, 7, 7, 48], filter: [3, 3, 48, 1], strides: 1, pad: 'same' },
];

function depthwiseGrads(c: DepthwiseCase): { dx: Float32Array; dw: Float32Array; leakedData: number } {
  const dataBefore = tf.engine().backend.numDataIds();
  const x = tf.tensor4d(seededValues(sizeOf(c.x), 1), c.x);
  const w = tf.tensor4d(seededValues(sizeOf(c.filter), 2), c.filter);
  const yShape = tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, 1, c.pad, c.dimRoundingMode, true).outShape;
  // Weighting the output by r makes dy = r exactly.
  const r = tf.tensor4d(seededValues(sizeOf(yShape), 3), yShape);
  const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
    tf.sum(tf.mul(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.pad, 'NHWC', 1, c.dimRoundingMode), r)),
  )([x, w]);
  const out = { dx: dx.dataSync() as Float32Array, dw: dw.dataSync() as Float32Array };
  tf.dispose([x, w, r, dx, dw]);
  return { ...out, leakedData: tf.engine().backend.numDataIds() - dataBefore };
}

const CLASSES = 5;
const BATCH = 3;
const INPUT: Shape4 = [BATCH, 15, 13, 3];

/** MobileNet v1's pattern, small: a strided stem, then depthwise 3x3 (BN, ReLU6) and pointwise 1x1 blocks. */
function buildModel(): LayersModel {
  const model = tfl.sequential();
  model.add(tfl.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false, inputShape: INPUT.slice(1) }));
  model.add(tfl.layers.reLU({ maxValue: 6 }));
  const block = (strides: number, pointwise: number, depthMultiplier = 1, padding: 'same' | 'valid' = 'same'): void => {
    model.add(tfl.layers.depthwiseConv2d({ kernelSize: 3, strides, padding, depthMultiplier, useBias: false }));
    model.add(tfl.layers.batchNormalization());
    model.add(tfl.layers.reLU({ maxValue: 6 }));
    model.add(tfl.layers.conv2d({ filters: pointwise, kernelSize: 1, useBias: false }));
    model.add(tfl.layers.batchNormalization());
    model.add(tfl.layers.reLU({ maxValue: 6 }));
  };
  block(1, 12);
  block(2, 16, 2);
  block(1, 16, 1, 'valid');
  model.add(tfl.layers.globalAveragePooling2d({}));
  model.add(tfl.layers.dense({ units: CLASSES, name: 'logits' }));
  return model;
}

/** A fresh model with its weights set from seeded values, and the batch both backends see. */
function seededModel(): { model: LayersModel; variables: Variable[]; x: Float32Array; labels: Int32Array } {
  const model = buildModel();
  const weights = model.getWeights().map((w, i) => {
    const isVariance = /moving_variance/.test(model.weights[i].originalName);
    const values = seededValues(w.size, 100 + i).map((v) => (isVariance ? 1 + 0.5 * v : 0.5 * v));
    return tf.tensor(values, w.shape);
  });
  model.setWeights(weights);
  tf.dispose(weights);
  const variables = model.trainableWeights.map((w) => w.read() as Variable);
  return { model, variables, x: seededValues(sizeOf(INPUT), 7), labels: Int32Array.from([0, 3, 4]) };
}

/** Gradients of the cross-entropy per trainable weight, and what was left after disposing them. */
function modelGrads(): { names: string[]; grads: Float32Array[]; leakedTensors: number; leakedData: number } {
  const { model, variables, x: values, labels: classes } = seededModel();
  const x = tf.tensor4d(values, INPUT);
  const labels = tf.oneHot(tf.tensor1d(classes, 'int32'), CLASSES);
  const tensorsBefore = tf.memory().numTensors;
  const dataBefore = tf.engine().backend.numDataIds();
  const { value, grads } = tf.variableGrads(() => {
    const logits = model.apply(x, { training: true }) as tf.Tensor;
    return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
  }, variables);
  const arrays = variables.map((v) => grads[v.name].dataSync() as Float32Array);
  tf.dispose([value, ...Object.values(grads)]);
  const leakedTensors = tf.memory().numTensors - tensorsBefore;
  const leakedData = tf.engine().backend.numDataIds() - dataBefore;
  // Layer names carry a per-process counter (depthwise_conv2d_DepthwiseConv2D3/...): keep class and weight.
  const names = model.trainableWeights.map((w) => w.originalName.replace(/\d+\//, '/'));
  tf.dispose([x, labels]);
  model.dispose();
  return { names, grads: arrays, leakedTensors, leakedData };
}

/** One SGD step of the project's trainStep: the weights after it, and the tensors it left behind. */
function modelStep(): { weights: Float32Array[]; leakedTensors: number; leakedData: number } {
  const { model, variables, x, labels } = seededModel();
  const optimizer = tf.train.sgd(0.5);
  const tensorsBefore = tf.memory().numTensors;
  const dataBefore = tf.engine().backend.numDataIds();
  trainStep(model, optimizer, variables, { x, shape: INPUT, labels }, CLASSES);
  const leakedTensors = tf.memory().numTensors - tensorsBefore;
  const leakedData = tf.engine().backend.numDataIds() - dataBefore;
  const weights = variables.map((v) => v.dataSync() as Float32Array);
  optimizer.dispose();
  model.dispose();
  return { weights, leakedTensors, leakedData };
}

describe('wasm depthwise convolution gradients', () => {
  before(async () => {
    await import('@tensorflow/tfjs-backend-wasm');
    registerWasmTrainingKernels();
    assert.ok(await tf.setBackend('wasm'), 'the wasm backend initializes');
  });

  it('registers both gradient kernels for wasm', () => {
    for (const name of ['DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput']) {
      assert.equal(tf.getKernel(name, 'wasm')?.backendName, 'wasm', name);
    }
  });

  for (const c of CASES) {
    const rounding = c.dimRoundingMode ? ` rounding ${c.dimRoundingMode}` : '';
    const name = `depthwiseConv2d x [${c.x}] filter [${c.filter}] strides ${JSON.stringify(c.strides)} pad ${JSON.stringify(c.pad)}${rounding}`;
    it(`${name}: dx and dW match cpu`, async () => {
      const { cpu, wasm } = await onBoth(() => depthwiseGrads(c));
      assertClose(wasm.dx, cpu.dx, 'dx');
      assertClose(wasm.dw, cpu.dw, 'dW');
      assert.equal(wasm.leakedData, 0, 'wasm data buffers left after disposing the gradients');
    });
  }

  it('gradients of every weight of a MobileNet-like network match cpu, without leaks', async () => {
    const { cpu, wasm } = await onBoth(modelGrads);
    assert.deepEqual(wasm.names, cpu.names);
    assert.equal(wasm.names.filter((n) => /depthwise_kernel/.test(n)).length, 3, 'three depthwise kernels');
    for (const [i, name] of cpu.names.entries()) assertClose(wasm.grads[i], cpu.grads[i], name);
    assert.equal(wasm.leakedTensors, 0, 'tensors left after disposing the gradients on wasm');
    assert.equal(wasm.leakedData, 0, 'wasm data buffers left after disposing the gradients');
  });

  it('one training step of that network gives cpu\'s weights and leaves tf.memory().numTensors unchanged', async () => {
    const { cpu, wasm } = await onBoth(modelStep);
    assert.equal(wasm.weights.length, cpu.weights.length);
    for (const [i, weights] of cpu.weights.entries()) assertClose(wasm.weights[i], weights, `weight ${i}`);
    assert.equal(wasm.leakedTensors, 0, 'tf.memory().numTensors changed over a step on wasm');
    assert.equal(wasm.leakedData, 0, 'wasm data buffers left after a step');
    assert.equal(cpu.leakedTensors, 0, 'tf.memory().numTensors changed over a step on cpu');
  });

  const badCalls: { kernel: string; inputs: () => Record<string, tf.Tensor>; attrs: Record<string, unknown>; error: string; message: RegExp }[] = [
    {
      kernel: 'DepthwiseConv2dNativeBackpropFilter',
      inputs: () => ({ x: tf.zeros([1, 9, 9, 2]), dy: tf.zeros([1, 9, 9, 2]) }),
      attrs: { strides: 1, pad: 'same', dilations: 2, filterShape: [3, 3, 2, 1] },
      error: 'RangeError',
      message: /dilations 2\. Expected 1/,
    },
    {
      kernel: 'DepthwiseConv2dNativeBackpropInput',
      inputs: () => ({ dy: tf.zeros([1, 9, 9, 2]), filter: tf.zeros([3, 3, 2, 1]) }),
      attrs: { strides: 1, pad: 'same', dilations: [1, 2], inputShape: [1, 9, 9, 2] },
      error: 'RangeError',
      message: /dilations \[1,2\]\. Expected 1/,
    },
    {
      kernel: 'DepthwiseConv2dNativeBackpropInput',
      inputs: () => ({ dy: tf.zeros([1, 5, 5, 2]), filter: tf.zeros([3, 3, 2, 1]) }),
      attrs: { strides: 1, pad: 'same', dilations: 1, inputShape: [1, 9, 9, 2] },
      error: 'RangeError',
      message: /dy has shape \[1,5,5,2\], expected \[1,9,9,2\]/,
    },
    {
      kernel: 'DepthwiseConv2dNativeBackpropFilter',
      inputs: () => ({ x: tf.zeros([1, 9, 9, 2], 'int32'), dy: tf.zeros([1, 9, 9, 2]) }),
      attrs: { strides: 1, pad: 'same', dilations: 1, filterShape: [3, 3, 2, 1] },
      error: 'TypeError',
      message: /x must be float32, got int32/,
    },
  ];
  for (const c of badCalls) {
    it(`BAD CALL - ${c.kernel} ${c.message.source.replace(/\\/g, '')}`, () => {
      const inputs = c.inputs();
      const before = tf.memory().numTensors;
      assert.throws(
        () => tf.engine().runKernel(c.kernel, inputs, c.attrs as never),
        (error: Error) => error.name === c.error && c.message.test(error.message),
      );
      assert.equal(tf.memory().numTensors, before);
      tf.dispose(Object.values(inputs));
    });
  }
});
