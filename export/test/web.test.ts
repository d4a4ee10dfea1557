// The exported model in onnxruntime-web's wasm backend (what the browser demo runs), here in Node:
// the same probabilities as tfjs, like onnxruntime-node.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as ortWeb from 'onnxruntime-web';
import { compareOutputs, exportModel, MAX_OPSET, MIN_OPSET, tfjsReference, verificationInputs, type VerificationInputs } from '../src/index.js';
import { briefTraining, contractFor, PETS_MINI, presetModel, randomizeBatchNorm, ready, sampleLabels } from './fixtures.js';

let labels: string[];
let photos: VerificationInputs;
before(async () => {
  await ready();
  // In Node the wasm backend runs single-threaded (no cross-origin-isolated workers); its .wasm files are
  // found next to the package's own entry without setting wasmPaths.
  ortWeb.env.wasm.numThreads = 1;
  labels = await sampleLabels();
  photos = await verificationInputs({ contract: contractFor(labels, 32), count: 4, data: PETS_MINI, dataExplicit: true, testFraction: 0.2, seed: 42 });
});

async function runWeb(bytes: Uint8Array, inputs: VerificationInputs) {
  const session = await ortWeb.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  try {
    const out = await session.run({ image: new ortWeb.Tensor('float32', inputs.x, inputs.shape) });
    return { probabilities: out.probabilities.data as Float32Array, logits: out.logits.data as Float32Array };
  } finally {
    await session.release();
  }
}

describe('onnxruntime-web (wasm) in Node', () => {
  for (const preset of ['model1', 'model2'] as const) {
    test(`${preset}: float32 within 1e-5 of tfjs, float16 within 1e-2`, async () => {
      const model = presetModel(preset, 32, labels.length, 13);
      briefTraining(model);
      randomizeBatchNorm(model);
      const contract = contractFor(labels, 32);
      const reference = tfjsReference(model, photos.x, photos.shape);
      const full = compareOutputs(reference, await runWeb(exportModel(model, contract).bytes, photos), photos.shape[0]);
      assert.ok(full.maxAbsDiff <= 1e-5 && full.maxLogitRelErr <= 1e-5, JSON.stringify(full));
      assert.equal(full.top1Agree, full.images);
      const half = compareOutputs(reference, await runWeb(exportModel(model, contract, { fp16: true }).bytes, photos), photos.shape[0]);
      assert.ok(half.maxAbsDiff <= 1e-2, JSON.stringify(half));
      model.dispose();
    });
  }

  test('runs both ends of the opset range', async () => {
    const model = presetModel('model3', 32, labels.length, 2);
    const reference = tfjsReference(model, photos.x, photos.shape);
    for (const opset of [MIN_OPSET, MAX_OPSET]) {
      const m = compareOutputs(reference, await runWeb(exportModel(model, contractFor(labels, 32), { opset }).bytes, photos), photos.shape[0]);
      assert.ok(m.maxAbsDiff <= 1e-5 && m.maxLogitRelErr <= 1e-5, `opset ${opset}: ${JSON.stringify(m)}`);
    }
    model.dispose();
  });
});
