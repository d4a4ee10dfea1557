// Transfer models built from a backbone: the cut, nested and shared layers, layers the exporter cannot
// translate, BatchNormalization kept in inference mode, and which weights each stage trains.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { tf, tfl, type LayersModel, type SymbolicTensor, type Tensor } from '../src/backend/tf.js';
import { chooseBackend } from '../src/backend/index.js';
import { openBackbone } from '../src/transfer/setup.js';
import { buildTransferModel, keepBatchNormInInference, setTrainable, transferViews, TransferModelError } from '../src/transfer/model.js';
import { planStages } from '../src/transfer/stages.js';

const SIZE = 64;

async function darknet(): Promise<LayersModel> {
  return (await openBackbone('darknet-tiny', { cacheDir: '/nonexistent' }, SIZE)).model;
}

function maxDiff(a: Tensor, b: Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

/** A small conv backbone: conv -> BN -> relu -> conv (named c2) -> relu. */
function smallBackbone(name = 'small'): LayersModel {
  const input = tfl.input({ shape: [16, 16, 3], name: `${name}_in` });
  let x = tfl.layers.conv2d({ name: `${name}_c1`, filters: 4, kernelSize: 3, padding: 'same' }).apply(input) as SymbolicTensor;
  x = tfl.layers.batchNormalization({ name: `${name}_bn` }).apply(x) as SymbolicTensor;
  x = tfl.layers.activation({ name: `${name}_relu`, activation: 'relu' }).apply(x) as SymbolicTensor;
  x = tfl.layers.conv2d({ name: `${name}_c2`, filters: 6, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(x) as SymbolicTensor;
  return tfl.model({ inputs: input, outputs: x, name });
}

before(async () => {
  await chooseBackend('cpu');
});

describe('buildTransferModel', () => {
  test('cuts the bundled Darknet at its feature layer and adds pooling, logits and softmax', async () => {
    const views = buildTransferModel({ backbone: await darknet(), cutLayer: 'leaky_re_lu_15', numClasses: 5, dropout: 0.3, seed: 1, name: 't' });
    assert.deepEqual(views.features.outputs[0].shape, [null, 128]);
    assert.deepEqual(views.model.outputs[0].shape, [null, 5]);
    assert.ok(!views.model.layers.some((l) => l.name === 'conv2d_16'), 'layers after the cut are not part of the model');
    const x = tf.randomUniform([2, SIZE, SIZE, 3]);
    const probs = views.model.predict(x) as Tensor;
    const sums = tf.sum(probs, 1).dataSync();
    for (const s of sums) assert.ok(Math.abs(s - 1) < 1e-5, `probabilities sum to ${s}`);
    // The head alone on the pooled features gives the same probabilities as the whole model.
    const viaFeatures = views.head.predict(views.features.predict(x) as Tensor) as Tensor;
    assert.ok(maxDiff(probs, viaFeatures) < 1e-6);
    tf.dispose([x, probs, viaFeatures]);
  });

  test('a checkpointed model gets the same views back (transferViews)', async () => {
    const views = buildTransferModel({ backbone: smallBackbone('rt'), cutLayer: 'rt_c2', numClasses: 3, dropout: 0.5, seed: 2, name: 't' });
    let saved: tf.io.ModelArtifacts | undefined;
    await views.model.save(tf.io.withSaveHandler(async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved as tf.io.ModelArtifacts));
    assert.equal(loaded.layers.length, views.model.layers.length, 'the head views add no layers to the saved model');
    const again = transferViews(loaded);
    const x = tf.randomUniform([2, 16, 16, 3]);
    assert.ok(maxDiff(views.model.predict(x) as Tensor, again.model.predict(x) as Tensor) < 1e-6);
    assert.ok(maxDiff(again.head.predict(again.features.predict(x) as Tensor) as Tensor, again.model.predict(x) as Tensor) < 1e-6);
  });

  test('a layer inside a nested model fed the input directly (Teachable Machine layout) can be the cut', () => {
    const inner = smallBackbone('inner');
    const outer = tfl.sequential({ layers: [inner, tfl.layers.globalAveragePooling2d({ name: 'outer_pool' })] });
    const views = buildTransferModel({ backbone: outer, cutLayer: 'inner_c2', numClasses: 3, dropout: 0, seed: 1, name: 't' });
    const x = tf.randomUniform([1, 16, 16, 3]);
    const expected = tf.mean(inner.predict(x) as Tensor, [1, 2]);
    assert.ok(maxDiff(views.features.predict(x) as Tensor, expected) < 1e-6);
  });

  test('BAD CALL - a cut layer that does not exist lists the layers', async () => {
    assert.throws(
      () => buildTransferModel({ backbone: smallBackbone('m1'), cutLayer: 'nope', numClasses: 3, dropout: 0, seed: 1, name: 't' }),
      (e: Error) => e.name === 'TransferModelError' && /no layer "nope".*m1_c1, m1_bn, m1_relu, m1_c2.*--backbone-layer/.test(e.message),
    );
  });

  test('BAD CALL - an input size the backbone cannot take is a BackboneError naming the size', async () => {
    // A backbone with a Dense layer after Flatten has weights for one input size only.
    const input = tfl.input({ shape: [8, 8, 3] });
    const flat = tfl.layers.flatten({ name: 'flat' }).apply(tfl.layers.conv2d({ name: 'c', filters: 2, kernelSize: 3 }).apply(input) as SymbolicTensor) as SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: tfl.layers.dense({ name: 'fc', units: 4 }).apply(flat) as SymbolicTensor });
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    const dir = await mkdtemp(join(tmpdir(), 'pets-dense-backbone-'));
    try {
      const artifacts = saved as tf.io.ModelArtifacts;
      await writeFile(join(dir, 'model.json'), JSON.stringify({ format: 'layers-model', modelTopology: artifacts.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }] }));
      await writeFile(join(dir, 'weights.bin'), new Uint8Array(artifacts.weightData as ArrayBuffer));
      assert.equal((await openBackbone(dir, {})).inputSize, 8, 'its own size loads');
      await assert.rejects(openBackbone(dir, {}, 12), (e: Error) => e.name === 'BackboneError' && /cannot take 12x12 images/.test(e.message));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('BAD CALL - a shared layer is refused by name', () => {
    const input = tfl.input({ shape: [8, 8, 3] });
    const conv = tfl.layers.conv2d({ name: 'twice', filters: 3, kernelSize: 1 });
    const y = conv.apply(conv.apply(input) as SymbolicTensor) as SymbolicTensor;
    const last = tfl.layers.activation({ name: 'after', activation: 'relu' }).apply(y) as SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: last });
    assert.throws(
      () => buildTransferModel({ backbone: model, cutLayer: 'after', numClasses: 3, dropout: 0, seed: 1, name: 't' }),
      (e: Error) => e instanceof TransferModelError && /"twice" is called 2 times/.test(e.message),
    );
  });

  test('BAD CALL - a layer pets-export cannot translate is refused before training, with the supported list', () => {
    const input = tfl.input({ shape: [8, 8, 3] });
    const y = tfl.layers.masking({ name: 'mask', maskValue: 0 }).apply(input) as SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: y });
    assert.throws(
      () => buildTransferModel({ backbone: model, cutLayer: 'mask', numClasses: 3, dropout: 0, seed: 1, name: 't' }),
      (e: Error) => e.name === 'TransferModelError' && /"mask" \(Masking\).*Supported: .*DepthwiseConv2D/.test(e.message),
    );
  });
});

describe('stages', () => {
  test('BatchNormalization in the backbone uses its moving statistics in training passes too', () => {
    const views = buildTransferModel({ backbone: smallBackbone('bn'), cutLayer: 'bn_c2', numClasses: 3, dropout: 0, seed: 1, name: 't' });
    const x = tf.randomUniform([4, 16, 16, 3], 0, 5);
    const before = views.model.apply(x, { training: true }) as Tensor;
    assert.ok(maxDiff(before, views.model.predict(x) as Tensor) > 1e-3, 'without the fix, training mode normalizes by batch statistics');
    keepBatchNormInInference(views.model);
    keepBatchNormInInference(views.model); // idempotent
    assert.ok(maxDiff(views.model.apply(x, { training: true }) as Tensor, views.model.predict(x) as Tensor) < 1e-6);
  });

  test('the head stage trains the head only; fine-tuning adds the backbone from unfreezeFrom on', () => {
    const views = buildTransferModel({ backbone: smallBackbone('tr'), cutLayer: 'tr_c2', numClasses: 3, dropout: 0, seed: 1, name: 't' });
    const names = () => views.logits.trainableWeights.map((w) => w.originalName).sort();
    const headParams = setTrainable(views.model, 'head');
    assert.deepEqual(names(), ['logits/bias', 'logits/kernel']);
    assert.equal(headParams, 6 * 3 + 3);
    setTrainable(views.model, 'fine-tune', 'tr_c2');
    assert.deepEqual(names(), ['logits/bias', 'logits/kernel', 'tr_c2/bias', 'tr_c2/kernel']);
    setTrainable(views.model, 'fine-tune', 'tr_bn');
    assert.deepEqual(names(), ['logits/bias', 'logits/kernel', 'tr_bn/beta', 'tr_bn/gamma', 'tr_c2/bias', 'tr_c2/kernel']);
    assert.throws(() => setTrainable(views.model, 'fine-tune', 'missing'), /no layer "missing" to unfreeze from.*--unfreeze-from/);
  });

  test('a transfer run has a head stage and, with fine-tuning, a second stage at a tenth of the rate by default', () => {
    const base = { architecture: 'transfer', epochs: 5, learningRate: 1e-3, augment: null, cacheFeatures: true };
    assert.deepEqual(planStages({ ...base, fineTuneEpochs: 0, fineTuneLearningRate: null }).map((s) => [s.name, s.first, s.last, s.cachedFeatures]), [['head', 1, 5, true]]);
    const two = planStages({ ...base, fineTuneEpochs: 3, fineTuneLearningRate: null });
    assert.deepEqual(two.map((s) => [s.name, s.first, s.last]), [['head', 1, 5], ['fine-tune', 6, 8]]);
    assert.ok(Math.abs(two[1].learningRate - 1e-4) < 1e-12);
    assert.equal(planStages({ ...base, augment: {}, fineTuneEpochs: 0, fineTuneLearningRate: null })[0].cachedFeatures, false, 'augmentation runs the backbone every step');
    assert.deepEqual(planStages({ ...base, architecture: 'bn-gap-cnn', fineTuneEpochs: 0, fineTuneLearningRate: null }).map((s) => s.name), ['train']);
  });
});
