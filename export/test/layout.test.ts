// The NHWC/NCHW traps: one Transpose after the input and none after; model1's Flatten -> Dense in tfjs'
// H,W,C order (by permuting the Dense kernel rows, checked to matter); TF 'same' padding on odd sizes.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { createContract } from '@pets/runtime/contract';
import { tfl } from '@pets/train/tfjs';
import { decodeModel, encodeModel, exportModel, verificationInputs, type VerificationInputs } from '../src/index.js';
import { permuteRowsHwcToChw } from '../src/onnx/layers/core.js';
import { tfPads } from '../src/onnx/padding.js';
import { checkModel, opCounts } from './onnx-checker.js';
import { briefTraining, contractFor, parity, PETS_MINI, presetModel, randomInputs, ready, sampleLabels } from './fixtures.js';

let labels: string[];
before(async () => {
  await ready();
  labels = await sampleLabels();
});

const photosAt = (size: number): Promise<VerificationInputs> =>
  verificationInputs({ contract: contractFor(labels, size), count: 4, data: PETS_MINI, dataExplicit: true, testFraction: 0.2, seed: 42 });

function attribute(onnx: ReturnType<typeof decodeModel>, nodeName: string, attr: string): number[] | undefined {
  const node = onnx.graph.node.find((n) => n.name === nodeName);
  return node?.attribute?.find((a) => a.name === attr)?.ints?.map(Number);
}

describe('Flatten -> Dense (model1)', () => {
  test('permuteRowsHwcToChw moves each H,W,C row to its C,H,W position', () => {
    // 1x2 pixels, 2 channels, 1 unit: tfjs rows (h,w,c) = (0,0,0) (0,0,1) (0,1,0) (0,1,1).
    const rows = Float32Array.of(0, 1, 10, 11);
    assert.deepEqual([...permuteRowsHwcToChw(rows, [1, 2, 2], 1)], [0, 10, 1, 11]);
  });

  test('model1 matches tfjs, and the same file with the kernel rows left in tfjs order does not', async () => {
    const model = presetModel('model1', 32, labels.length, 11);
    briefTraining(model);
    const contract = contractFor(labels, 32);
    const photos = await photosAt(32);
    const { bytes } = exportModel(model, contract);
    const good = await parity(model, bytes, photos);
    assert.ok(good.maxLogitRelErr < 1e-5, `logits rel err ${good.maxLogitRelErr}`);
    const onnx = decodeModel(bytes);
    assert.equal(opCounts(onnx).Transpose, 1, 'no transpose back to NHWC before the Flatten');
    const dense = onnx.graph.initializer.find((t) => t.name === 'dense1/W');
    assert.ok(dense, 'dense1/W initializer');
    const [kernel] = model.getLayer('dense1').getWeights();
    dense.raw_data = new Uint8Array((kernel.dataSync() as Float32Array).slice().buffer); // rows in H,W,C order
    const wrong = await parity(model, encodeModel(onnx), photos);
    assert.ok(wrong.maxLogitRelErr > 1e-2, `an unpermuted kernel must give other logits (rel err ${wrong.maxLogitRelErr})`);
    model.dispose();
  });

  test('a functional Conv -> Flatten -> Dense (softmax fused) matches tfjs', async () => {
    const input = tfl.input({ shape: [6, 5, 3] });
    const conv = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'c' }).apply(input);
    const flat = tfl.layers.flatten({ name: 'f' }).apply(conv);
    const out = tfl.layers.dense({ units: 3, activation: 'softmax', name: 'd' }).apply(flat);
    const model = tfl.model({ inputs: input, outputs: out as ReturnType<typeof tfl.input> });
    const contract = createContract({ labels: ['a', 'b', 'c'], imageSize: { height: 6, width: 5 } });
    const { bytes } = exportModel(model, contract);
    const onnx = decodeModel(bytes);
    checkModel(onnx);
    assert.deepEqual(opCounts(onnx), { Transpose: 1, Conv: 1, Relu: 1, Flatten: 1, Gemm: 1, Softmax: 1 });
    const m = await parity(model, bytes, randomInputs(contract, 3, 2));
    assert.ok(m.maxLogitRelErr < 1e-5 && m.maxAbsDiff < 1e-5, JSON.stringify(m));
    model.dispose();
  });
});

describe('TF padding', () => {
  test('tfPads puts the odd pixel at the bottom/right', () => {
    const window = (input: number, kernel: number, stride: number, dilation = 1) =>
      ({ input: [input, input] as [number, number], kernel: [kernel, kernel] as [number, number], strides: [stride, stride] as [number, number], dilations: [dilation, dilation] as [number, number] });
    assert.deepEqual(tfPads('same', window(32, 7, 2)), [2, 2, 3, 3]);
    assert.deepEqual(tfPads('same', window(33, 7, 2)), [3, 3, 3, 3]);
    assert.deepEqual(tfPads('same', window(33, 2, 2)), [0, 0, 1, 1]);
    assert.deepEqual(tfPads('same', window(8, 3, 1, 2)), [2, 2, 2, 2]);
    assert.deepEqual(tfPads('same', window(4, 2, 2)), [0, 0, 0, 0]);
    assert.deepEqual(tfPads('valid', window(33, 7, 2)), [0, 0, 0, 0]);
  });

  test('model1 and model2 at 33x33 match tfjs; conv1 at 32 has asymmetric pads', async () => {
    const photos = await photosAt(33);
    for (const preset of ['model1', 'model2'] as const) {
      const model = presetModel(preset, 33, labels.length, 4);
      briefTraining(model, 2);
      const m = await parity(model, exportModel(model, contractFor(labels, 33)).bytes, photos);
      assert.ok(m.maxLogitRelErr < 1e-5 && m.maxAbsDiff < 1e-5, `${preset} at 33: ${JSON.stringify(m)}`);
      model.dispose();
    }
    const model = presetModel('model1', 32, labels.length);
    assert.deepEqual(attribute(decodeModel(exportModel(model, contractFor(labels, 32)).bytes), 'conv1', 'pads'), [2, 2, 3, 3]);
    model.dispose();
  });

  test('strided, dilated and valid convolutions and "same" pooling on an odd size match tfjs', async () => {
    const input = tfl.input({ shape: [33, 33, 3] });
    let x = tfl.layers.conv2d({ filters: 8, kernelSize: 7, strides: 2, padding: 'same', name: 'c1' }).apply(input);
    x = tfl.layers.conv2d({ filters: 8, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'relu', name: 'c2', useBias: false }).apply(x);
    x = tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'p1' }).apply(x);
    x = tfl.layers.averagePooling2d({ poolSize: 2, strides: 2, padding: 'same', name: 'p2' }).apply(x);
    x = tfl.layers.conv2d({ filters: 6, kernelSize: 2, strides: 2, padding: 'valid', name: 'c3' }).apply(x);
    x = tfl.layers.averagePooling2d({ poolSize: 2, padding: 'valid', name: 'p3' }).apply(x);
    x = tfl.layers.flatten({ name: 'flat' }).apply(x);
    x = tfl.layers.dense({ units: 3, activation: 'softmax', name: 'head' }).apply(x);
    const model = tfl.model({ inputs: input, outputs: x as ReturnType<typeof tfl.input> });
    const contract = contractFor(['a', 'b', 'c'], 33);
    const { bytes } = exportModel(model, contract);
    const onnx = decodeModel(bytes);
    checkModel(onnx);
    assert.deepEqual(attribute(onnx, 'c1', 'pads'), [3, 3, 3, 3], 'conv 7/2 on 33: 6 pixels, split evenly');
    assert.deepEqual(attribute(onnx, 'p1', 'pads'), [1, 1, 1, 1], 'pool 3/2 on 17 -> 9');
    assert.deepEqual(attribute(onnx, 'p2', 'pads'), [0, 0, 1, 1], 'pool 2/2 on 9 -> 5: the extra row and column at the bottom/right');
    const m = await parity(model, bytes, randomInputs(contract, 3, 8));
    assert.ok(m.maxLogitRelErr < 1e-5 && m.maxAbsDiff < 1e-5, JSON.stringify(m));
    model.dispose();
  });
});
