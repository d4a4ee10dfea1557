// Models used as layers of other models, as Teachable Machine saves them (a Sequential holding a truncated
// MobileNet and a Sequential head): flattened into one ONNX graph, also after a save/load round trip; a
// nested model or a layer called twice gives one set of nodes per call.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { createContract } from '@pets/runtime/contract';
import { tf, tfl, type LayersModel, type SymbolicTensor } from '@pets/train/tfjs';
import { checkExportable, decodeModel, exportModel, TOLERANCE } from '../src/index.js';
import { buildTransferModel } from '@pets/train';
import { checkModel, opCounts } from './onnx-checker.js';
import { parity, randomInputs, randomizeBatchNorm, ready } from './fixtures.js';

before(ready);

const labels = ['a', 'b', 'c', 'd'];
const contract = createContract({ labels, imageSize: { height: 11, width: 9 } });

/** A small MobileNet-like functional model with a classifier of its own, like a downloaded backbone. */
function miniMobileNet(): LayersModel {
  const input = tfl.input({ shape: [11, 9, 3], name: 'image' });
  let x = tfl.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'conv1' }).apply(input) as SymbolicTensor;
  x = tfl.layers.batchNormalization({ name: 'conv1_bn' }).apply(x) as SymbolicTensor;
  x = tfl.layers.activation({ activation: 'relu6', name: 'conv1_relu' }).apply(x) as SymbolicTensor;
  x = tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false, name: 'conv_dw_1' }).apply(x) as SymbolicTensor;
  x = tfl.layers.batchNormalization({ name: 'conv_dw_1_bn' }).apply(x) as SymbolicTensor;
  x = tfl.layers.activation({ activation: 'relu6', name: 'conv_dw_1_relu' }).apply(x) as SymbolicTensor;
  x = tfl.layers.conv2d({ filters: 8, kernelSize: 1, useBias: false, name: 'conv_pw_1' }).apply(x) as SymbolicTensor;
  x = tfl.layers.batchNormalization({ name: 'conv_pw_1_bn' }).apply(x) as SymbolicTensor;
  x = tfl.layers.activation({ activation: 'relu6', name: 'conv_pw_1_relu' }).apply(x) as SymbolicTensor;
  // Past the cut: ImageNet's classifier.
  x = tfl.layers.globalAveragePooling2d({ name: 'global_pool' }).apply(x) as SymbolicTensor;
  x = tfl.layers.dense({ units: 10, activation: 'softmax', name: 'imagenet' }).apply(x) as SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: x, name: 'mini_mobilenet' });
  randomizeBatchNorm(model, 4);
  return model;
}

/** Teachable Machine's layout: sequential[ sequential[ truncated backbone ], sequential(head) ]. */
function teachableMachine(): LayersModel {
  const backbone = miniMobileNet();
  const truncated = tfl.model({ inputs: backbone.inputs, outputs: backbone.getLayer('conv_pw_1_relu').output as SymbolicTensor, name: 'truncated' });
  const wrapped = tfl.sequential({ layers: [truncated], name: 'features' });
  const head = tfl.sequential({
    name: 'head',
    layers: [
      tfl.layers.flatten({ inputShape: truncated.outputs[0].shape.slice(1) as number[], name: 'head_flatten' }),
      tfl.layers.dense({ units: 5, activation: 'relu', name: 'head_hidden' }),
      tfl.layers.dense({ units: labels.length, activation: 'softmax', name: 'head_probs' }),
    ],
  });
  return tfl.sequential({ layers: [wrapped, head], name: 'teachable' });
}

async function assertExportsLikeTfjs(model: LayersModel, seed: number): Promise<ReturnType<typeof decodeModel>> {
  const inputs = randomInputs(contract, 3, seed);
  let folded: ReturnType<typeof decodeModel> | undefined;
  for (const options of [{}, { foldBatchNorm: false }, { fp16: true }]) {
    const { bytes } = exportModel(model, contract, options);
    const onnx = decodeModel(bytes);
    checkModel(onnx);
    folded ??= onnx;
    const m = await parity(model, bytes, inputs);
    const tolerance = options.fp16 ? TOLERANCE.fp16 : TOLERANCE.fp32;
    assert.ok(m.maxAbsDiff <= tolerance && m.maxLogitRelErr <= tolerance, `${JSON.stringify(options)}: ${JSON.stringify(m)}`);
  }
  return folded as ReturnType<typeof decodeModel>;
}

/** The same model through model.save() and loadLayersModel(), as a model.json on disk is read. */
async function roundTrip(model: LayersModel): Promise<LayersModel> {
  let saved: Parameters<typeof tf.io.fromMemory>[0] | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return tfl.loadLayersModel(tf.io.fromMemory(saved as Parameters<typeof tf.io.fromMemory>[0]));
}

describe('nested models', () => {
  test("Teachable Machine's layout exports as one flat graph with tfjs' outputs, before and after a save/load round trip", async () => {
    const model = teachableMachine();
    checkExportable(model);
    const onnx = await assertExportsLikeTfjs(model, 1);
    // Three convolutions with their BatchNormalizations folded; the head's fused softmax is the graph's.
    assert.deepEqual(opCounts(onnx), { Transpose: 1, Conv: 3, Clip: 3, Flatten: 1, Gemm: 2, Relu: 1, Softmax: 1 });
    assert.ok(!onnx.graph.node.some((n) => n.name.startsWith('global_pool') || n.name.startsWith('imagenet')), 'nothing past the cut');
    const loaded = await roundTrip(model);
    assert.deepEqual(
      loaded.layers.map((l) => l.getClassName()),
      ['Sequential', 'Sequential'],
    );
    await assertExportsLikeTfjs(loaded, 2);
    model.dispose();
    loaded.dispose();
  });

  test('a nested model called on a functional input, with the softmax head inside another nested model', async () => {
    const backbone = miniMobileNet();
    const features = tfl.model({ inputs: backbone.inputs, outputs: backbone.getLayer('conv_dw_1_relu').output as SymbolicTensor, name: 'features' });
    const headInput = tfl.input({ shape: features.outputs[0].shape.slice(1) as number[] });
    let h = tfl.layers.globalAveragePooling2d({ name: 'pool' }).apply(headInput) as SymbolicTensor;
    h = tfl.layers.dense({ units: labels.length, name: 'logits' }).apply(h) as SymbolicTensor;
    h = tfl.layers.softmax({ name: 'probs' }).apply(h) as SymbolicTensor;
    const head = tfl.model({ inputs: headInput, outputs: h, name: 'head' });
    const image = tfl.input({ shape: [11, 9, 3] });
    const mid = tfl.layers.conv2d({ filters: 6, kernelSize: 1, name: 'adapter' }).apply(features.apply(image) as SymbolicTensor) as SymbolicTensor;
    const model = tfl.model({ inputs: image, outputs: head.apply(mid) as SymbolicTensor });
    // The adapter makes the head's input 6 channels, as features' output is.
    const onnx = await assertExportsLikeTfjs(model, 3);
    assert.deepEqual(opCounts(onnx), { Transpose: 1, Conv: 3, Clip: 2, GlobalAveragePool: 1, Flatten: 1, Gemm: 1, Softmax: 1 });
    model.dispose();
  });
});

describe('shared layers in nested models', () => {
  test('a nested model called twice: each call gets its own nodes, with tfjs numbers', async () => {
    const block = tfl.sequential({ name: 'block', layers: [tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', inputShape: [11, 9, 3], name: 'block_conv' })] });
    const image = tfl.input({ shape: [11, 9, 3] });
    const twice = block.apply(block.apply(image) as SymbolicTensor) as SymbolicTensor;
    const pooled = tfl.layers.globalAveragePooling2d({}).apply(twice) as SymbolicTensor;
    const model = tfl.model({ inputs: image, outputs: tfl.layers.dense({ units: labels.length, activation: 'softmax' }).apply(pooled) as SymbolicTensor });
    checkExportable(model);
    const onnx = await assertExportsLikeTfjs(model, 4);
    assert.equal(opCounts(onnx).Conv, 2);
    assert.deepEqual(onnx.graph.initializer.map((t) => t.name).filter((n) => n.startsWith('block_conv/')).sort(), ['block_conv/B', 'block_conv/W'], 'the weights once, read by both calls');
    model.dispose();
  });

  test('a layer called twice inside a nested model, and a layer shared across branches that meet again', async () => {
    const inner = tfl.input({ shape: [11, 9, 3] });
    const conv = tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', name: 'reused' });
    const block = tfl.model({ inputs: inner, outputs: conv.apply(conv.apply(inner)) as SymbolicTensor, name: 'block' });
    const image = tfl.input({ shape: [11, 9, 3] });
    const features = block.apply(image) as SymbolicTensor;
    // One 1x1 Conv applied to a branch and to the sum after it: its second call waits for the Add.
    const mix = tfl.layers.conv2d({ filters: 3, kernelSize: 1, name: 'mix' });
    const branch = mix.apply(features) as SymbolicTensor;
    const joined = tfl.layers.add({ name: 'join' }).apply([features, branch]) as SymbolicTensor;
    const again = mix.apply(joined) as SymbolicTensor;
    const pooled = tfl.layers.globalAveragePooling2d({}).apply(again) as SymbolicTensor;
    const model = tfl.model({ inputs: image, outputs: tfl.layers.dense({ units: labels.length, activation: 'softmax' }).apply(pooled) as SymbolicTensor });
    const onnx = await assertExportsLikeTfjs(model, 5);
    assert.equal(opCounts(onnx).Conv, 4);
    model.dispose();
  });
});

describe('layers also called by another model', () => {
  test('a pets transfer model exports in the process that built it: its head views are other models', async () => {
    const views = buildTransferModel({ backbone: miniMobileNet(), cutLayer: 'conv_pw_1_relu', numClasses: labels.length, dropout: 0.5, seed: 3, name: 'transfer' });
    assert.ok(views.model.getLayer('logits').inboundNodes.length > 1, 'the head layers are shared with the feature-head views');
    await assertExportsLikeTfjs(views.model, 12);
    assert.doesNotThrow(() => checkExportable(views.model));
  });
});
