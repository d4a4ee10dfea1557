// Models the exporter refuses, each with a named error that says what and where.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { tfl, type SymbolicTensor } from '@pets/train/tfjs';
import { exportModel, ExportError, SUPPORTED_LAYER_CLASSES, UnsupportedLayerError } from '../src/index.js';
import { contractFor, presetModel, ready } from './fixtures.js';

before(ready);

const labels3 = ['a', 'b', 'c'];

function assertThrowsNamed(fn: () => unknown, name: string, pattern: RegExp) {
  assert.throws(fn, (error: Error) => {
    assert.equal(error.name, name);
    assert.match(error.message, pattern);
    return true;
  });
}

describe('BAD CALL - unsupported models', () => {
  test('BAD CALL - an LSTM names its class and layer', () => {
    const model = tfl.sequential({
      layers: [tfl.layers.lstm({ units: 4, inputShape: [5, 3], recurrentInitializer: 'glorotUniform', name: 'memory' }), tfl.layers.dense({ units: 3, activation: 'softmax', name: 'out' })],
    });
    assert.throws(() => exportModel(model, contractFor(labels3, 8)), (error: UnsupportedLayerError) => {
      assert.ok(error instanceof UnsupportedLayerError);
      assert.equal(error.name, 'UnsupportedLayerError');
      assert.equal(error.className, 'LSTM');
      assert.equal(error.layerName, 'memory');
      assert.match(error.message, /^Layer "memory" has class LSTM, which pets-export cannot translate to ONNX\. Supported: Activation, Add, .*, ZeroPadding2D\.$/);
      assert.ok(error.message.endsWith(`Supported: ${SUPPORTED_LAYER_CLASSES.join(', ')}.`));
      return true;
    });
    model.dispose();
  });

  test('BAD CALL - a Conv1D in a functional graph', () => {
    const input = tfl.input({ shape: [8, 8, 3] });
    const rows = tfl.layers.reshape({ targetShape: [64, 3] }).apply(input) as SymbolicTensor;
    const conv = tfl.layers.conv1d({ filters: 2, kernelSize: 3, name: 'temporal' }).apply(rows) as SymbolicTensor;
    const out = tfl.layers.dense({ units: 3, activation: 'softmax' }).apply(tfl.layers.flatten().apply(conv) as SymbolicTensor) as SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: out });
    assertThrowsNamed(() => exportModel(model, contractFor(labels3, 8)), 'UnsupportedLayerError', /"temporal" has class Conv1D/);
    model.dispose();
  });

  test('BAD CALL - an activation without a translation names it', () => {
    // Every activation tfjs-layers 4.22 registers has a translation: a newer one is simulated in the config.
    const model = tfl.sequential({
      layers: [tfl.layers.conv2d({ filters: 2, kernelSize: 3, inputShape: [8, 8, 3], name: 'c' }), tfl.layers.flatten(), tfl.layers.dense({ units: 3, activation: 'softmax' })],
    });
    const conv = model.getLayer('c');
    const config = conv.getConfig();
    conv.getConfig = () => ({ ...config, activation: 'silu_v2' });
    assertThrowsNamed(() => exportModel(model, contractFor(labels3, 8)), 'UnsupportedLayerError', /Layer "c" \(Conv2D\) cannot be exported: activation "silu_v2" has no ONNX translation \(supported: linear, .*, logSoftmax\)/);
    model.dispose();
  });

  test('BAD CALL - a model with two inputs', () => {
    const a = tfl.input({ shape: [8, 8, 3] });
    const b = tfl.input({ shape: [8, 8, 3] });
    const sum = tfl.layers.add().apply([a, b]) as SymbolicTensor;
    const out = tfl.layers.dense({ units: 3, activation: 'softmax' }).apply(tfl.layers.flatten().apply(sum) as SymbolicTensor) as SymbolicTensor;
    const model = tfl.model({ inputs: [a, b], outputs: out });
    assertThrowsNamed(() => exportModel(model, contractFor(labels3, 8)), 'ExportError', /^The model has 2 inputs; a pets model has one image input\.$/);
    model.dispose();
  });

  test('BAD CALL - a model that does not end in a softmax, when probabilities are required', () => {
    const model = tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [8, 8, 3] }), tfl.layers.dense({ units: 3, name: 'scores' })] });
    assertThrowsNamed(() => exportModel(model, contractFor(labels3, 8), { outputs: 'probabilities' }), 'ExportError', /output layer "scores" \(Dense, activation linear\) is not a softmax.*--logits/);
    assert.ok(new ExportError('x') instanceof Error);
    model.dispose();
  });

  test('BAD CALL - a sigmoid output is neither probabilities nor logits (auto), and outputs must be a known mode', () => {
    const model = tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [8, 8, 3] }), tfl.layers.dense({ units: 3, activation: 'sigmoid', name: 'multi' })] });
    assertThrowsNamed(() => exportModel(model, contractFor(labels3, 8)), 'ExportError', /output layer "multi" \(Dense, activation sigmoid\) is neither a softmax nor linear logits.*outputs "logits"/);
    assertThrowsNamed(() => exportModel(model, contractFor(labels3, 8), { outputs: 'scores' as 'auto' }), 'RangeError', /Unsupported outputs "scores"\. Expected one of: probabilities, logits, auto\./);
    model.dispose();
  });

  test('BAD CALL - a model that does not fit its contract', () => {
    const model = presetModel('model3', 32, 3);
    assertThrowsNamed(() => exportModel(model, contractFor(labels3, 48)), 'ModelContractError', /input shape \[null,32,32,3\].*\[null, 48, 48, 3\]/);
    assertThrowsNamed(() => exportModel(model, contractFor(['a', 'b'], 32)), 'ModelContractError', /outputs 3 classes but its contract lists 2 labels/);
    model.dispose();
  });

  test('BAD CALL - opsets outside the supported range', () => {
    const model = presetModel('model3', 32, 3);
    for (const opset of [12, 23, 17.5]) {
      assertThrowsNamed(() => exportModel(model, contractFor(labels3, 32), { opset }), 'RangeError', new RegExp(`Unsupported opset ${opset}\\. Expected one of: 13-22`));
    }
    model.dispose();
  });
});
