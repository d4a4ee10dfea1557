// The ONNX file itself: checker-like rules, versions across the opset range, what onnxruntime infers
// about it with strict shape inference, its metadata, and every supported activation.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { ONNX_METADATA_KEYS, ONNX_NAMES, parseContract } from '@pets/runtime/contract';
import { tfl, type SymbolicTensor } from '@pets/train/tfjs';
import * as ort from 'onnxruntime-node';
import { decodeModel, DEFAULT_OPSET, EXPORTER, exportModel, MAX_OPSET, MIN_OPSET } from '../src/index.js';
import { checkModel, opCounts } from './onnx-checker.js';
import { contractFor, parity, presetModel, randomInputs, ready, runOrt, sampleLabels } from './fixtures.js';

let labels: string[];
before(async () => {
  await ready();
  labels = await sampleLabels();
});

describe('the exported file', () => {
  test('declares its versions across the opset range and runs the same at each', async () => {
    const model = presetModel('model3', 32, labels.length, 3);
    const contract = contractFor(labels, 32);
    const inputs = randomInputs(contract, 2, 4);
    let first: Float32Array | undefined;
    for (const opset of [MIN_OPSET, DEFAULT_OPSET, MAX_OPSET]) {
      const { bytes } = exportModel(model, contract, { opset });
      const onnx = decodeModel(bytes);
      checkModel(onnx);
      assert.equal(onnx.opset_import[0].version, opset);
      const { logits } = await runOrt(bytes, inputs);
      first ??= logits;
      assert.deepEqual([...logits], [...first], `opset ${opset} computes what opset ${MIN_OPSET} does`);
    }
    model.dispose();
  });

  test('onnxruntime loads it with strict shape inference and no optimizations, and infers its shapes', async () => {
    const model = presetModel('model1', 48, labels.length);
    const { bytes } = exportModel(model, contractFor(labels, 48));
    const session = await ort.InferenceSession.create(bytes, {
      graphOptimizationLevel: 'disabled',
      extra: { session: { 'session.strict_shape_type_inference': '1' } },
    });
    const shapes = (list: readonly ort.InferenceSession.ValueMetadata[]) => list.map((v) => [v.name, v.isTensor ? v.shape : null]);
    assert.deepEqual(shapes(session.inputMetadata), [[ONNX_NAMES.input, ['batch', 48, 48, 3]]]);
    assert.deepEqual(shapes(session.outputMetadata), [[ONNX_NAMES.probabilities, ['batch', 37]], [ONNX_NAMES.logits, ['batch', 37]]]);
    const out = await session.run({ [ONNX_NAMES.input]: new ort.Tensor('float32', new Float32Array(3 * 48 * 48 * 3), [3, 48, 48, 3]) });
    assert.deepEqual(out[ONNX_NAMES.probabilities].dims, [3, 37], 'the batch dimension is dynamic');
    await session.release();
    model.dispose();
  });

  test('carries the contract, provenance, producer and a doc string', () => {
    const model = presetModel('model2', 32, labels.length);
    const contract = contractFor(labels, 32);
    const provenance = { sourceRun: '/runs/x', epoch: 3 };
    const onnx = decodeModel(exportModel(model, contract, { provenance }).bytes);
    const props = Object.fromEntries(onnx.metadata_props.map((p) => [p.key, p.value]));
    assert.deepEqual(parseContract(props[ONNX_METADATA_KEYS.contract]), contract);
    assert.deepEqual(JSON.parse(props[ONNX_METADATA_KEYS.provenance]), provenance);
    assert.equal(onnx.producer_name, EXPORTER.name);
    assert.equal(onnx.producer_version, EXPORTER.version);
    assert.match(onnx.doc_string ?? '', /"image".*NHWC/);
    assert.deepEqual(onnx.graph.output.map((o) => o.name), [ONNX_NAMES.probabilities, ONNX_NAMES.logits]);
    model.dispose();
  });
});

describe('layers and activations', () => {
  test('every supported activation, fused and as layers, matches tfjs', async () => {
    const input = tfl.input({ shape: [12, 12, 3] });
    let x: SymbolicTensor = input;
    const act = (activation: string, name: string) =>
      (x = tfl.layers.activation({ activation: activation as 'relu', name }).apply(x) as SymbolicTensor);
    x = tfl.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'relu6', name: 'c_relu6' }).apply(x) as SymbolicTensor;
    x = tfl.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'tanh', name: 'c_tanh' }).apply(x) as SymbolicTensor;
    for (const a of ['elu', 'sigmoid', 'softplus', 'softsign', 'linear']) act(a, `a_${a}`);
    x = tfl.layers.reLU({ maxValue: 0.7, name: 'relu_max' }).apply(x) as SymbolicTensor;
    x = tfl.layers.reLU({ name: 'relu_plain' }).apply(x) as SymbolicTensor;
    x = tfl.layers.softmax({ axis: -1, name: 'channel_softmax' }).apply(x) as SymbolicTensor; // over channels of an image
    x = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as SymbolicTensor;
    x = tfl.layers.dense({ units: 4, activation: 'sigmoid', name: 'hidden' }).apply(x) as SymbolicTensor;
    x = tfl.layers.dropout({ rate: 0.3, name: 'drop' }).apply(x) as SymbolicTensor;
    x = tfl.layers.dense({ units: 3, name: 'logits' }).apply(x) as SymbolicTensor;
    x = tfl.layers.softmax({ name: 'probs' }).apply(x) as SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: x });
    const contract = contractFor(['a', 'b', 'c'], 12);
    const { bytes, opCounts: ops } = exportModel(model, contract);
    checkModel(decodeModel(bytes));
    assert.deepEqual(ops, { Transpose: 1, Conv: 2, Clip: 2, Tanh: 1, Elu: 1, Sigmoid: 2, Softplus: 1, Softsign: 1, Relu: 1, Softmax: 2, GlobalAveragePool: 1, Flatten: 1, Gemm: 2 });
    const m = await parity(model, bytes, randomInputs(contract, 4, 5));
    assert.ok(m.maxLogitRelErr < 1e-5 && m.maxAbsDiff < 1e-5, JSON.stringify(m));
    model.dispose();
  });

  test('AveragePooling2D on the sequential path and opCounts match the decoded file', () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.averagePooling2d({ poolSize: 2, inputShape: [8, 8, 3], name: 'avg' }),
        tfl.layers.flatten({ name: 'f' }),
        tfl.layers.dense({ units: 2, activation: 'softmax', name: 'd' }),
      ],
    });
    const exported = exportModel(model, contractFor(['a', 'b'], 8));
    assert.deepEqual(opCounts(decodeModel(exported.bytes)), exported.opCounts);
    model.dispose();
  });
});
