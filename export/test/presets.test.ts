// Every reference preset, exported and run by onnxruntime-node, against tfjs on the same inputs: with
// their initial (random) weights and after a few training steps, on random inputs and on real photos.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { PRESET_NAMES, PRESETS } from '@pets/train';
import { tf } from '@pets/train/tfjs';
import { decodeModel, exportModel, verificationInputs, type VerificationInputs } from '../src/index.js';
import { checkModel, opCounts } from './onnx-checker.js';
import { briefTraining, contractFor, parity, PETS_MINI, presetModel, randomInputs, ready, sampleLabels } from './fixtures.js';

const SIZE = 32;
/** The presets buildModel() builds; the transfer presets' backbones are exported in backbones.test.ts. */
const SCRATCH_PRESETS = PRESET_NAMES.filter((preset) => PRESETS[preset].architecture !== 'transfer');
/** float32 export: probabilities within 1e-5 (the exporter's own limit); logits within 1e-5 of their scale. */
const TOL = { probabilities: 1e-5, logitsRelative: 1e-5 };

let labels: string[];
let photos: VerificationInputs;
let noise: VerificationInputs;

before(async () => {
  await ready();
  labels = await sampleLabels();
  const contract = contractFor(labels, SIZE);
  photos = await verificationInputs({ contract, count: 6, data: PETS_MINI, dataExplicit: true, testFraction: 0.2, seed: 42 });
  noise = randomInputs(contract, 4, 3);
});

describe('every preset exports to ONNX with tfjs\' outputs', () => {
  for (const preset of SCRATCH_PRESETS) {
    test(`${preset}: random and briefly trained weights, random inputs and test photos`, async () => {
      const tensorsBefore = tf.memory().numTensors;
      const model = presetModel(preset, SIZE, labels.length, SCRATCH_PRESETS.indexOf(preset) + 1);
      const contract = contractFor(labels, SIZE);
      for (const stage of ['random', 'trained'] as const) {
        if (stage === 'trained') briefTraining(model);
        const { bytes } = exportModel(model, contract);
        const onnx = decodeModel(bytes);
        checkModel(onnx);
        assert.equal(opCounts(onnx).Transpose, 1, 'exactly one Transpose, after the input');
        for (const [name, inputs] of [['random inputs', noise], ['test photos', photos]] as const) {
          const m = await parity(model, bytes, inputs);
          const where = `${preset} ${stage} weights, ${name}`;
          assert.ok(m.maxAbsDiff <= TOL.probabilities, `${where}: max |Δp| ${m.maxAbsDiff}`);
          assert.ok(m.maxLogitRelErr <= TOL.logitsRelative, `${where}: logits rel err ${m.maxLogitRelErr}`);
          assert.equal(m.top1Agree, m.images, `${where}: same top-1`);
        }
      }
      model.dispose();
      assert.equal(tf.memory().numTensors, tensorsBefore, 'no tensor leaked');
    });
  }
});
