// What a model outputs decides where the exported logits come from: a softmax layer's input, a fused softmax
// Dense without its softmax, or (outputs 'logits', or 'auto' on a linear last layer) the model's own output,
// which the export follows with a Softmax. Checked against tfjs' predict(), not only the exporter's reference.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { createContract } from '@pets/runtime/contract';
import { tf, tfl, type LayersModel, type SymbolicTensor } from '@pets/train/tfjs';
import { decodeModel, exportModel, randomInputs, verifyExport, type OutputsMode } from '../src/index.js';
import { checkModel, opCounts } from './onnx-checker.js';
import { ready, runOrt } from './fixtures.js';

before(ready);

const labels = ['a', 'b', 'c'];
const contract = createContract({ labels, imageSize: { height: 7, width: 5 } });
const L = tfl.layers;

function model(head: (x: SymbolicTensor) => SymbolicTensor): LayersModel {
  const image = tfl.input({ shape: [7, 5, 3] });
  let x = L.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }).apply(image) as SymbolicTensor;
  x = L.flatten().apply(x) as SymbolicTensor;
  return tfl.model({ inputs: image, outputs: head(x) });
}

const dense = (args: Partial<Parameters<typeof L.dense>[0]> = {}) => L.dense({ units: labels.length, kernelInitializer: tfl.initializers.glorotUniform({ seed: 5 }), ...args });

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** Exports with `outputs`, runs ORT, and returns its outputs next to tfjs' predict(). */
async function run(m: LayersModel, outputs?: OutputsMode) {
  const inputs = randomInputs(contract, 4, 3);
  const { bytes } = exportModel(m, contract, outputs ? { outputs } : {});
  const onnx = decodeModel(bytes);
  checkModel(onnx);
  const predicted = tf.tidy(() => (m.predict(tf.tensor(inputs.x, inputs.shape)) as tf.Tensor).dataSync() as Float32Array);
  const softmaxOf = (values: Float32Array) => tf.tidy(() => tf.softmax(tf.tensor(values, [4, labels.length])).dataSync() as Float32Array);
  return { ort: await runOrt(bytes, inputs), predicted, softmaxOf, ops: opCounts(onnx), bytes, inputs };
}

describe('model outputs', () => {
  test("logits from a linear Dense ('auto' and 'logits'): the export adds the softmax", async () => {
    const m = model((x) => dense({ name: 'scores' }).apply(x) as SymbolicTensor);
    for (const mode of [undefined, 'logits'] as const) {
      const r = await run(m, mode);
      assert.ok(maxDiff(r.ort.logits, r.predicted) < 1e-5, `${mode}: logits are the model's output`);
      assert.ok(maxDiff(r.ort.probabilities, r.softmaxOf(r.predicted)) < 1e-6, `${mode}: probabilities are their softmax`);
    }
    // verifyExport compares with the same reading of the model.
    const r = await run(m, 'logits');
    const report = await verifyExport({ model: m, onnx: r.bytes, inputs: r.inputs, fp16: false, outputs: 'logits' });
    assert.ok(report.passed && report.maxLogitRelErr < 1e-5, JSON.stringify(report));
    m.dispose();
  });

  test("a sigmoid output exported as logits when asked ('logits')", async () => {
    const m = model((x) => dense({ activation: 'sigmoid', name: 'multi' }).apply(x) as SymbolicTensor);
    const r = await run(m, 'logits');
    assert.ok(maxDiff(r.ort.logits, r.predicted) < 1e-6);
    assert.ok(maxDiff(r.ort.probabilities, r.softmaxOf(r.predicted)) < 1e-6);
    m.dispose();
  });

  test('a softmax fused in the Dense, an Activation layer and a Softmax layer: probabilities are the model\'s, logits before them', async () => {
    const heads: [string, (x: SymbolicTensor) => SymbolicTensor][] = [
      ['fused', (x) => dense({ activation: 'softmax' }).apply(x) as SymbolicTensor],
      ['activation', (x) => L.activation({ activation: 'softmax' }).apply(dense().apply(x)) as SymbolicTensor],
      ['softmax layer', (x) => L.softmax({ axis: -1 }).apply(dense().apply(x)) as SymbolicTensor],
    ];
    for (const [what, head] of heads) {
      const m = model(head);
      for (const mode of ['auto', 'probabilities'] as const) {
        const r = await run(m, mode);
        assert.ok(maxDiff(r.ort.probabilities, r.predicted) < 1e-6, `${what}, ${mode}: probabilities`);
        assert.ok(maxDiff(r.softmaxOf(r.ort.logits), r.predicted) < 1e-6, `${what}, ${mode}: the logits' softmax is the model's output`);
        assert.equal(r.ops.Softmax, 1, `${what}, ${mode}: one Softmax, the exported one`);
      }
      m.dispose();
    }
  });

  test("MobileNet's head without its softmax: 1x1 Conv logits reshaped to [classes] ('auto')", async () => {
    const image = tfl.input({ shape: [7, 5, 3] });
    let x = L.globalAveragePooling2d({}).apply(L.conv2d({ filters: 4, kernelSize: 3 }).apply(image) as SymbolicTensor) as SymbolicTensor;
    x = L.reshape({ targetShape: [1, 1, 4] }).apply(x) as SymbolicTensor;
    x = L.conv2d({ filters: labels.length, kernelSize: 1, name: 'conv_preds' }).apply(x) as SymbolicTensor;
    const m = tfl.model({ inputs: image, outputs: L.reshape({ targetShape: [labels.length] }).apply(x) as SymbolicTensor });
    const r = await run(m);
    assert.ok(maxDiff(r.ort.logits, r.predicted) < 1e-5);
    m.dispose();
  });
});
