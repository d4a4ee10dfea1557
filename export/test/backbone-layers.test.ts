// The layers ImageNet backbones are made of, each against tfjs on odd sizes with random weights:
// DepthwiseConv2D (with BatchNormalization folded into it), LeakyReLU, Reshape, and 'same' pooling.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { createContract, type ModelContract } from '@pets/runtime/contract';
import { createRng } from '@pets/train';
import { tf, tfl, type LayersModel, type SymbolicTensor } from '@pets/train/tfjs';
import { decodeModel, exportModel, TOLERANCE, type ExportModelOptions } from '../src/index.js';
import { depthwiseToOihw } from '../src/onnx/layers/conv.js';
import { checkModel, opCounts } from './onnx-checker.js';
import { parity, randomInputs, randomizeBatchNorm, ready } from './fixtures.js';

before(ready);

const labels3 = ['a', 'b', 'c'];
type Onnx = ReturnType<typeof decodeModel>;

function node(onnx: Onnx, name: string) {
  const found = onnx.graph.node.find((n) => n.name === name);
  assert.ok(found, `node ${name}`);
  return found;
}

function ints(onnx: Onnx, name: string, attribute: string): number[] | undefined {
  return node(onnx, name).attribute?.find((a) => a.name === attribute)?.ints?.map(Number);
}

function int(onnx: Onnx, name: string, attribute: string): number | undefined {
  const value = node(onnx, name).attribute?.find((a) => a.name === attribute)?.i;
  return value === undefined ? undefined : Number(value);
}

/** Biases away from their initial zeros, so that a bias dropped or misplaced changes the numbers. */
function randomizeBiases(model: LayersModel, seed = 8): void {
  const rng = createRng(seed);
  for (const layer of model.layers) {
    const values = layer.getWeights().map((w, i) =>
      layer.weights[i].originalName.endsWith('/bias') ? tf.tensor(Float32Array.from({ length: w.size }, () => rng.uniform(-0.3, 0.3)), w.shape) : tf.clone(w),
    );
    if (values.length > 0) layer.setWeights(values);
    tf.dispose(values);
  }
}

/** Exports `model` with each option set and checks it against tfjs: float32 to 1e-5, float16 to its tolerance. */
async function assertParity(model: LayersModel, contract: ModelContract, variants: ExportModelOptions[], seed = 4): Promise<void> {
  const inputs = randomInputs(contract, 3, seed);
  for (const options of variants) {
    const { bytes } = exportModel(model, contract, options);
    checkModel(decodeModel(bytes));
    const m = await parity(model, bytes, inputs);
    const tolerance = options.fp16 ? TOLERANCE.fp16 : TOLERANCE.fp32;
    const where = JSON.stringify(options);
    assert.ok(m.maxAbsDiff <= tolerance, `${where}: max |Δp| ${m.maxAbsDiff}`);
    assert.ok(m.maxLogitRelErr <= tolerance, `${where}: logits rel err ${m.maxLogitRelErr}`);
  }
}

const ALL_VARIANTS: ExportModelOptions[] = [{}, { foldBatchNorm: false }, { fp16: true }, { fp16: true, foldBatchNorm: false }];

describe('DepthwiseConv2D', () => {
  test('depthwiseToOihw: output channel c * mult + m reads input channel c', () => {
    // 1x2 kernel, 2 channels, multiplier 2: tfjs [y][x][c][m] = 1000y + 100x + 10c + m.
    const kernel = Float32Array.from({ length: 8 }, (_, i) => {
      const [x, c, m] = [Math.floor(i / 4), Math.floor(i / 2) % 2, i % 2];
      return 100 * x + 10 * c + m;
    });
    // ONNX [o = c * 2 + m][0][y][x].
    assert.deepEqual([...depthwiseToOihw(kernel, [1, 2, 2, 2])], [0, 100, 1, 101, 10, 110, 11, 111]);
  });

  test('multipliers 1-3, strides 1 and 2, same and valid, with and without bias, fused activations, BatchNorm folded in', async () => {
    const input = tfl.input({ shape: [13, 11, 3] });
    let x = tfl.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same', depthMultiplier: 2, activation: 'relu6', name: 'dw1' }).apply(input) as SymbolicTensor;
    x = tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: 'valid', useBias: false, name: 'dw2' }).apply(x) as SymbolicTensor;
    x = tfl.layers.batchNormalization({ name: 'dw2_bn' }).apply(x) as SymbolicTensor;
    x = tfl.layers.activation({ activation: 'relu6', name: 'dw2_relu' }).apply(x) as SymbolicTensor;
    x = tfl.layers.depthwiseConv2d({ kernelSize: [3, 2], strides: [2, 1], padding: 'same', depthMultiplier: 3, name: 'dw3' }).apply(x) as SymbolicTensor;
    x = tfl.layers.batchNormalization({ name: 'dw3_bn', epsilon: 0.01 }).apply(x) as SymbolicTensor;
    x = tfl.layers.conv2d({ filters: 5, kernelSize: 1, useBias: false, name: 'pw' }).apply(x) as SymbolicTensor;
    x = tfl.layers.batchNormalization({ name: 'pw_bn' }).apply(x) as SymbolicTensor;
    x = tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', activation: 'tanh', name: 'dw4' }).apply(x) as SymbolicTensor;
    x = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as SymbolicTensor;
    x = tfl.layers.dense({ units: 3, name: 'logits' }).apply(x) as SymbolicTensor;
    x = tfl.layers.activation({ activation: 'softmax', name: 'probs' }).apply(x) as SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: x });
    randomizeBatchNorm(model, 6);
    randomizeBiases(model);
    const contract = createContract({ labels: labels3, imageSize: { height: 13, width: 11 } });

    const folded = exportModel(model, contract);
    const onnx = decodeModel(folded.bytes);
    assert.equal(folded.foldedBatchNorms, 3, 'dw2_bn, dw3_bn and pw_bn folded');
    assert.deepEqual(opCounts(onnx), { Transpose: 1, Conv: 5, Clip: 2, Tanh: 1, GlobalAveragePool: 1, Flatten: 1, Gemm: 1, Softmax: 1 });
    assert.equal(int(onnx, 'dw1', 'group'), 3);
    assert.equal(int(onnx, 'dw2', 'group'), 6);
    assert.equal(int(onnx, 'dw3', 'group'), 6);
    assert.deepEqual(ints(onnx, 'dw1', 'pads'), [1, 1, 1, 1], '3/2 on 13x11 -> 7x6: two rows and two columns, split evenly');
    assert.deepEqual(ints(onnx, 'dw3', 'pads'), [1, 0, 1, 1], '[3, 2]/[2, 1] on 5x4 -> 3x4: two rows split evenly, the one column at the right');
    assert.deepEqual(onnx.graph.initializer.find((t) => t.name === 'dw3/W')?.dims?.map(Number), [18, 1, 3, 2]);
    assert.ok(onnx.graph.initializer.some((t) => t.name === 'dw2/B'), 'the folded BatchNorm gives dw2 a bias');
    await assertParity(model, contract, ALL_VARIANTS);
    model.dispose();
  });

  test('a dilated DepthwiseConv2D is exported undilated, as tfjs runs it', async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.depthwiseConv2d({ kernelSize: 3, dilationRate: 2, padding: 'same', inputShape: [9, 9, 3], name: 'dilated' }),
        tfl.layers.flatten({}),
        tfl.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    randomizeBiases(model);
    const contract = createContract({ labels: labels3, imageSize: 9 });
    assert.deepEqual(ints(decodeModel(exportModel(model, contract).bytes), 'dilated', 'dilations'), [1, 1]);
    await assertParity(model, contract, [{}, { fp16: true }]);
    model.dispose();
  });
});

describe('LeakyReLU', () => {
  test('alpha 0.1 (Darknet) and the default 0.3 become LeakyRelu nodes with those slopes', async () => {
    const input = tfl.input({ shape: [9, 7, 3] });
    let x = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false, name: 'c1' }).apply(input) as SymbolicTensor;
    x = tfl.layers.batchNormalization({ name: 'bn1' }).apply(x) as SymbolicTensor;
    x = tfl.layers.leakyReLU({ alpha: 0.1, name: 'leaky1' }).apply(x) as SymbolicTensor;
    x = tfl.layers.conv2d({ filters: 4, kernelSize: 3, name: 'c2' }).apply(x) as SymbolicTensor;
    x = tfl.layers.leakyReLU({ name: 'leaky2' }).apply(x) as SymbolicTensor;
    x = tfl.layers.flatten({ name: 'f' }).apply(x) as SymbolicTensor;
    x = tfl.layers.dense({ units: 3, activation: 'softmax', name: 'probs' }).apply(x) as SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: x });
    randomizeBatchNorm(model, 2);
    randomizeBiases(model, 3);
    const contract = createContract({ labels: labels3, imageSize: { height: 9, width: 7 } });
    const onnx = decodeModel(exportModel(model, contract).bytes);
    assert.equal(opCounts(onnx).LeakyRelu, 2);
    const alpha = (name: string) => node(onnx, name).attribute?.find((a) => a.name === 'alpha')?.f as number;
    assert.ok(Math.abs(alpha('leaky1') - 0.1) < 1e-7 && Math.abs(alpha('leaky2') - 0.3) < 1e-7, `${alpha('leaky1')}, ${alpha('leaky2')}`);
    await assertParity(model, contract, ALL_VARIANTS, 5);
    model.dispose();
  });
});

describe('Reshape', () => {
  test("MobileNet's head: [C] -> [1, 1, C] -> 1x1 Conv -> [classes], without a Transpose", async () => {
    const input = tfl.input({ shape: [7, 7, 3] });
    let x = tfl.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'c' }).apply(input) as SymbolicTensor;
    x = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as SymbolicTensor;
    x = tfl.layers.reshape({ targetShape: [1, 1, 8], name: 'reshape_1' }).apply(x) as SymbolicTensor;
    x = tfl.layers.dropout({ rate: 0.5, name: 'dropout' }).apply(x) as SymbolicTensor;
    x = tfl.layers.conv2d({ filters: 3, kernelSize: 1, padding: 'same', name: 'conv_preds' }).apply(x) as SymbolicTensor;
    x = tfl.layers.reshape({ targetShape: [3], name: 'reshape_2' }).apply(x) as SymbolicTensor;
    x = tfl.layers.activation({ activation: 'softmax', name: 'act_softmax' }).apply(x) as SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: x });
    randomizeBiases(model);
    const contract = createContract({ labels: labels3, imageSize: 7 });
    const onnx = decodeModel(exportModel(model, contract).bytes);
    assert.deepEqual(opCounts(onnx), { Transpose: 1, Conv: 2, Relu: 1, GlobalAveragePool: 1, Flatten: 1, Reshape: 2, Softmax: 1 });
    await assertParity(model, contract, [{}, { fp16: true }]);
    model.dispose();
  });

  test('reshapes that move pixels read and write tfjs (H, W, C) order', async () => {
    const input = tfl.input({ shape: [6, 4, 3] });
    let x = tfl.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', name: 'c1' }).apply(input) as SymbolicTensor;
    x = tfl.layers.reshape({ targetShape: [3, 8, 2], name: 'regrid' }).apply(x) as SymbolicTensor; // NCHW in, H,W,C order out
    x = tfl.layers.conv2d({ filters: 3, kernelSize: 2, name: 'c2' }).apply(x) as SymbolicTensor;
    x = tfl.layers.reshape({ targetShape: [42], name: 'flat' }).apply(x) as SymbolicTensor; // a Flatten in tfjs order
    x = tfl.layers.dense({ units: 12, activation: 'relu', name: 'd1' }).apply(x) as SymbolicTensor;
    x = tfl.layers.reshape({ targetShape: [2, 2, 3], name: 'unflat' }).apply(x) as SymbolicTensor;
    x = tfl.layers.conv2d({ filters: 3, kernelSize: 2, name: 'c3' }).apply(x) as SymbolicTensor;
    x = tfl.layers.flatten({ name: 'f' }).apply(x) as SymbolicTensor;
    x = tfl.layers.dense({ units: 3, activation: 'softmax', name: 'probs' }).apply(x) as SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: x });
    randomizeBiases(model);
    const contract = createContract({ labels: labels3, imageSize: { height: 6, width: 4 } });
    const onnx = decodeModel(exportModel(model, contract).bytes);
    assert.equal(opCounts(onnx).Reshape, 3);
    await assertParity(model, contract, [{}, { fp16: true }], 9);
    model.dispose();
  });

  test('a reshape to [steps, features] and back to an image', async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ filters: 2, kernelSize: 1, inputShape: [4, 4, 3], name: 'c1' }),
        tfl.layers.reshape({ targetShape: [16, 2], name: 'to_sequence' }),
        tfl.layers.dense({ units: 3, name: 'per_step' }),
        tfl.layers.reshape({ targetShape: [4, 4, 3], name: 'to_image' }),
        tfl.layers.conv2d({ filters: 2, kernelSize: 3, name: 'c2' }),
        tfl.layers.flatten({}),
        tfl.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    randomizeBiases(model);
    const contract = createContract({ labels: labels3, imageSize: 4 });
    const onnx = decodeModel(exportModel(model, contract).bytes);
    assert.equal(opCounts(onnx).MatMul, 1, 'the Dense on [steps, features] is a MatMul');
    await assertParity(model, contract, [{}, { fp16: true }], 6);
    model.dispose();
  });
});

describe("'same' pooling on odd sizes", () => {
  test("Darknet's 2/2 max pooling (7x7 -> 4x4) and average pooling that leaves the padding out of the mean", async () => {
    const input = tfl.input({ shape: [7, 7, 3] });
    let x = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'c1' }).apply(input) as SymbolicTensor;
    x = tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'same', name: 'max_7_to_4' }).apply(x) as SymbolicTensor;
    x = tfl.layers.maxPooling2d({ poolSize: 2, strides: 1, padding: 'same', name: 'max_stride1' }).apply(x) as SymbolicTensor;
    x = tfl.layers.conv2d({ filters: 4, kernelSize: 1, name: 'c2' }).apply(x) as SymbolicTensor;
    x = tfl.layers.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same', name: 'avg_3_stride1' }).apply(x) as SymbolicTensor;
    x = tfl.layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'avg_3_stride2' }).apply(x) as SymbolicTensor;
    x = tfl.layers.flatten({ name: 'f' }).apply(x) as SymbolicTensor;
    x = tfl.layers.dense({ units: 3, activation: 'softmax', name: 'probs' }).apply(x) as SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: x });
    randomizeBiases(model);
    const contract = createContract({ labels: labels3, imageSize: 7 });
    const onnx = decodeModel(exportModel(model, contract).bytes);
    assert.deepEqual(ints(onnx, 'max_7_to_4', 'pads'), [0, 0, 1, 1], '7 -> 4: one row and column of padding at the bottom/right');
    assert.deepEqual(ints(onnx, 'max_stride1', 'pads'), [0, 0, 1, 1]);
    assert.deepEqual(ints(onnx, 'avg_3_stride1', 'pads'), [1, 1, 1, 1]);
    assert.deepEqual(ints(onnx, 'avg_3_stride2', 'pads'), [0, 0, 1, 1], '3/2 on 4 -> 2: one row and column, at the bottom/right');
    for (const name of ['avg_3_stride1', 'avg_3_stride2']) assert.equal(int(onnx, name, 'count_include_pad'), 0, `${name} averages real pixels only`);
    await assertParity(model, contract, [{}, { fp16: true }], 2);
    model.dispose();
  });
});
