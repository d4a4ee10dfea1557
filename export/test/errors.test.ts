// Models the exporter refuses, each with a named error that says what and where.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { tfl, type SymbolicTensor } from '@pets/train/tfjs';
import { exportModel, ExportError, UnsupportedLayerError } from '../src/index.js';
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
      assert.match(error.message, /Layer "memory" has class LSTM.*Supported: Activation, AveragePooling2D, BatchNormalization, Conv2D, Dense, DepthwiseConv2D, Dropout, Flatten, GlobalAveragePooling2D, LeakyReLU, MaxPooling2D, ReLU, Reshape, Softmax\.$/);
      return true;
    });
    model.dispose();
  });

  test('BAD CALL - a Conv2DTranspose in a functional graph', () => {
    const input = tfl.input({ shape: [8, 8, 3] });
    const up = tfl.layers.conv2dTranspose({ filters: 2, kernelSize: 2, strides: 2, name: 'upsample' }).apply(input) as SymbolicTensor;
    const pooled = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(up) as SymbolicTensor;
    const out = tfl.layers.dense({ units: 3, activation: 'softmax' }).apply(pooled) as SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: out });
    assertThrowsNamed(() => exportModel(model, contractFor(labels3, 8)), 'UnsupportedLayerError', /"upsample" has class Conv2DTranspose/);
    model.dispose();
  });

  test('BAD CALL - an activation without a translation names it', () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ filters: 2, kernelSize: 3, activation: 'selu', inputShape: [8, 8, 3], name: 'c' }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    assertThrowsNamed(() => exportModel(model, contractFor(labels3, 8)), 'UnsupportedLayerError', /Layer "c" \(Conv2D\) cannot be exported: activation "selu"/);
    model.dispose();
  });

  test('BAD CALL - a shared layer', () => {
    const input = tfl.input({ shape: [8, 8, 3] });
    const conv = tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', name: 'twice' });
    const twice = conv.apply(conv.apply(input)) as SymbolicTensor;
    const flat = tfl.layers.flatten().apply(twice) as SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 3, activation: 'softmax' }).apply(flat) as SymbolicTensor });
    assertThrowsNamed(() => exportModel(model, contractFor(labels3, 8)), 'UnsupportedLayerError', /"twice" \(Conv2D\).*called 2 times/);
    model.dispose();
  });

  test('BAD CALL - a model that does not end in a softmax', () => {
    const model = tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [8, 8, 3] }), tfl.layers.dense({ units: 3, name: 'scores' })] });
    assertThrowsNamed(() => exportModel(model, contractFor(labels3, 8)), 'ExportError', /output layer "scores" \(Dense, activation linear\) is not a softmax/);
    assert.ok(new ExportError('x') instanceof Error);
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
