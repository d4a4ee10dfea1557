// What train asks before training on a backbone: SUPPORTED_LAYER_CLASSES (the converter table, and the
// list train keeps in train/src/transfer/exportable.ts) and checkExportable(), which reads layer configs only.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { before, describe, test } from 'node:test';
import { tfl, type Layer, type LayersModel, type SymbolicTensor } from '@pets/train/tfjs';
import { checkExportable, SUPPORTED_ACTIVATIONS, SUPPORTED_LAYER_CLASSES, UnsupportedLayerError } from '../src/index.js';
import { readFile } from 'node:fs/promises';
import { BACKBONE_CUTS, loadBackbone, ready, REPO_ROOT, type BackboneName } from './fixtures.js';

before(ready);

function assertRefused(model: LayersModel, className: string, layerName: string, pattern: RegExp) {
  assert.throws(() => checkExportable(model), (error: UnsupportedLayerError) => {
    assert.ok(error instanceof UnsupportedLayerError);
    assert.equal(error.className, className);
    assert.equal(error.layerName, layerName);
    assert.match(error.message, pattern);
    return true;
  });
}

/** A nested Sequential holding `layer` after a supported convolution, inside an outer Sequential. */
function nestedAround(layer: Layer): LayersModel {
  const inner = tfl.sequential({ name: 'inner', layers: [tfl.layers.conv2d({ filters: 4, kernelSize: 3, inputShape: [8, 8, 3], name: 'fine' }), layer] });
  return tfl.sequential({ layers: [inner, tfl.layers.flatten({}), tfl.layers.dense({ units: 2, activation: 'softmax' })] });
}

describe('SUPPORTED_LAYER_CLASSES', () => {
  test('the README lists exactly the supported layers and activations', async () => {
    const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
    const listed = (prefix: string) => (new RegExp(`^${prefix}: (.+)\\.$`, 'm').exec(readme)?.[1] ?? '').split(', ');
    // On a change, the README lines to paste are in the messages.
    assert.deepEqual(listed('Supported layers'), [...SUPPORTED_LAYER_CLASSES], `Supported layers: ${SUPPORTED_LAYER_CLASSES.join(', ')}.`);
    assert.deepEqual(listed('Supported activations'), [...SUPPORTED_ACTIVATIONS], `Supported activations: ${SUPPORTED_ACTIVATIONS.join(', ')}.`);
  });

  test('is the sorted converter table, and what train checks backbones against', async () => {
    assert.deepEqual([...SUPPORTED_LAYER_CLASSES], [...SUPPORTED_LAYER_CLASSES].sort());
    for (const name of ['Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'Conv2DTranspose', 'BatchNormalization', 'LayerNormalization', 'LeakyReLU', 'Reshape', 'MaxPooling2D', 'GlobalAveragePooling2D', 'Dense', 'Concatenate', 'Add']) {
      assert.ok(SUPPORTED_LAYER_CLASSES.includes(name), name);
    }
    // train cannot import the exporter (export depends on train), so it keeps a copy; it must not drift.
    const trainList = join(REPO_ROOT, 'train', 'dist', 'src', 'transfer', 'exportable.js');
    const { EXPORTABLE_LAYER_CLASSES } = (await import(pathToFileURL(trainList).href)) as { EXPORTABLE_LAYER_CLASSES: readonly string[] };
    assert.deepEqual([...EXPORTABLE_LAYER_CLASSES].sort(), [...SUPPORTED_LAYER_CLASSES]);
  });
});

describe('checkExportable', () => {
  for (const name of Object.keys(BACKBONE_CUTS) as BackboneName[]) {
    test(`accepts the whole bundled ${name} and its cut at ${BACKBONE_CUTS[name]} (no softmax head needed)`, async () => {
      const backbone = await loadBackbone(name);
      checkExportable(backbone);
      checkExportable(tfl.model({ inputs: backbone.inputs, outputs: backbone.getLayer(BACKBONE_CUTS[name]).output as SymbolicTensor }));
      backbone.dispose();
    });
  }

  test('reads configs only: it still answers for a model whose weights are disposed', () => {
    const model = nestedAround(tfl.layers.leakyReLU({ alpha: 0.1 }));
    model.dispose();
    checkExportable(model);
  });

  test('BAD CALL - an unsupported class inside a nested model is named, with the supported list', () => {
    const model = nestedAround(tfl.layers.masking({ maskValue: 0, name: 'mask' }));
    assertRefused(model, 'Masking', 'mask', /Layer "mask" has class Masking.*Supported: Activation, .*LeakyReLU, .*ZeroPadding2D\./);
    model.dispose();
  });

  test('BAD CALL - settings without a translation: an activation, channels-first data', () => {
    // Every activation tfjs-layers 4.22 registers has a translation: a newer one is simulated in the config.
    const act = tfl.layers.activation({ activation: 'selu', name: 'future' });
    const newer = nestedAround(act);
    const config = act.getConfig();
    act.getConfig = () => ({ ...config, activation: 'silu_v2' });
    assertRefused(newer, 'Activation', 'future', /Layer "future" \(Activation\) cannot be exported: activation "silu_v2" has no ONNX translation/);
    newer.dispose();
    const channelsFirst = nestedAround(tfl.layers.maxPooling2d({ poolSize: 2, dataFormat: 'channelsFirst', name: 'nchw_pool' }));
    assertRefused(channelsFirst, 'MaxPooling2D', 'nchw_pool', /dataFormat "channelsFirst"/);
    channelsFirst.dispose();
  });

  test('BAD CALL - an unsupported class after a shared layer is named', () => {
    const input = tfl.input({ shape: [8, 8, 3] });
    const shared = tfl.layers.conv2d({ filters: 3, kernelSize: 1, name: 'shared' });
    const late = tfl.layers.masking({ name: 'mask' }).apply(shared.apply(shared.apply(input)) as SymbolicTensor) as SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: late });
    assertRefused(model, 'Masking', 'mask', /has class Masking/);
    model.dispose();
  });
});
