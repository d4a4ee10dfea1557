// BatchNormalization: folded into the Conv before it by default, kept as nodes with --no-fold-bn; both
// match tfjs with non-trivial statistics, and epsilon (tfjs 1e-3, ONNX default 1e-5) is always written.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { tfl } from '@pets/train/tfjs';
import { decodeModel, exportModel } from '../src/index.js';
import { foldBatchNorm } from '../src/onnx/fold-batch-norm.js';
import { checkModel, opCounts } from './onnx-checker.js';
import { contractFor, parity, presetModel, randomInputs, randomizeBatchNorm, ready, sampleLabels } from './fixtures.js';

let labels: string[];
before(async () => {
  await ready();
  labels = await sampleLabels();
});

const epsilonOf = (onnx: ReturnType<typeof decodeModel>) =>
  onnx.graph.node.filter((n) => n.op_type === 'BatchNormalization').map((n) => n.attribute?.find((a) => a.name === 'epsilon')?.f);

describe('BatchNormalization', () => {
  test('foldBatchNorm scales each output channel and shifts its bias', () => {
    // Two output channels, one weight each.
    const folded = foldBatchNorm(Float32Array.of(2, 3), Float32Array.of(1, 1), {
      gamma: Float32Array.of(2, 1), beta: Float32Array.of(0.5, 0), mean: Float32Array.of(1, 3), variance: Float32Array.of(3, 0), epsilon: 1,
    });
    assert.deepEqual([...folded.weight], [2, 3]); // 2 * 2/sqrt(4), 3 * 1/sqrt(1)
    assert.deepEqual([...folded.bias], [0.5, -2]); // (1-1)*1 + 0.5, (1-3)*1 + 0
  });

  test('model2 folded and unfolded: different node counts, both match tfjs', async () => {
    const model = presetModel('model2', 32, labels.length, 2);
    randomizeBatchNorm(model);
    const contract = contractFor(labels, 32);
    const inputs = randomInputs(contract, 4, 6);
    const folded = exportModel(model, contract);
    const kept = exportModel(model, contract, { foldBatchNorm: false });
    assert.equal(folded.foldedBatchNorms, 5);
    assert.equal(kept.foldedBatchNorms, 0);
    const foldedOps = opCounts(decodeModel(folded.bytes));
    const keptOnnx = decodeModel(kept.bytes);
    checkModel(keptOnnx);
    assert.equal(foldedOps.BatchNormalization, undefined);
    assert.equal(opCounts(keptOnnx).BatchNormalization, 5);
    assert.equal(foldedOps.Conv, 5);
    assert.equal(keptOnnx.graph.node.length, decodeModel(folded.bytes).graph.node.length + 5);
    for (const e of epsilonOf(keptOnnx)) assert.ok(Math.abs((e as number) - 1e-3) < 1e-9, `epsilon ${e} is tfjs' 1e-3`);
    for (const bytes of [folded.bytes, kept.bytes]) {
      const m = await parity(model, bytes, inputs);
      assert.ok(m.maxLogitRelErr < 1e-5 && m.maxAbsDiff < 1e-5, JSON.stringify(m));
    }
    model.dispose();
  });

  test('a BatchNormalization not after a Conv, with its own epsilon and no scale/center, stays a node', async () => {
    const input = tfl.input({ shape: [9, 9, 3] });
    let x = tfl.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', name: 'c' }).apply(input);
    x = tfl.layers.batchNormalization({ epsilon: 0.05, name: 'bn_image' }).apply(x); // after a fused relu: not foldable
    x = tfl.layers.flatten({ name: 'f' }).apply(x);
    x = tfl.layers.dense({ units: 6, name: 'd' }).apply(x);
    x = tfl.layers.batchNormalization({ center: false, scale: false, name: 'bn_flat' }).apply(x);
    x = tfl.layers.activation({ activation: 'softmax', name: 'p' }).apply(x);
    const model = tfl.model({ inputs: input, outputs: x as ReturnType<typeof tfl.input> });
    randomizeBatchNorm(model, 3);
    const contract = contractFor(['a', 'b', 'c', 'd', 'e', 'f'], 9);
    const { bytes, foldedBatchNorms } = exportModel(model, contract);
    const onnx = decodeModel(bytes);
    checkModel(onnx);
    assert.equal(foldedBatchNorms, 0);
    assert.deepEqual(epsilonOf(onnx).map((e) => Number((e as number).toPrecision(6))), [0.05, 0.001]);
    // bn_flat reads the Flatten output in tfjs order, so the C,H,W-ordered Flatten is undone once there.
    const m = await parity(model, bytes, randomInputs(contract, 3, 1));
    assert.ok(m.maxLogitRelErr < 1e-5 && m.maxAbsDiff < 1e-5, JSON.stringify(m));
    model.dispose();
  });
});
