// The bundled ImageNet backbones (data/backbones/) cut at their feature layers, with pets' head on top,
// exported at 224x224 and run by onnxruntime-node against tfjs on test photos: BatchNormalization folded
// into the convolutions and kept as nodes, float32 and float16; and MobileNet nested as Teachable Machine does.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { createContract, type ModelContract } from '@pets/runtime/contract';
import { tfl, type SymbolicTensor } from '@pets/train/tfjs';
import { checkExportable, compareOutputs, decodeModel, exportModel, tfjsReference, TOLERANCE, verificationInputs } from '../src/index.js';
import { checkModel, opCounts } from './onnx-checker.js';
import { BACKBONE_CUTS, loadBackbone, PETS_MINI, ready, runOrt, sampleLabels, transferModel, type BackboneName } from './fixtures.js';

/** Each backbone's preprocessing (its PROVENANCE.md) and how many BatchNormalizations follow a convolution. */
const BACKBONES: Record<BackboneName, { normalization: ModelContract['normalization']; batchNorms: number }> = {
  'mobilenet_v1_0.75_224': { normalization: { scale: 1 / 127.5, mean: [1, 1, 1], std: [1, 1, 1] }, batchNorms: 27 },
  'darknet-tiny': { normalization: { scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1] }, batchNorms: 15 },
};
/** Photos per check: each costs a 224x224 forward pass in tfjs on CI's two cores. */
const PHOTOS = 4;
/** float32 logits within this fraction of their largest magnitude. */
const LOGITS_RELATIVE = 1e-5;

let labels: string[];
before(async () => {
  await ready();
  labels = await sampleLabels();
});

describe('bundled backbones with a pets head', () => {
  for (const [name, cut] of Object.entries(BACKBONE_CUTS) as [BackboneName, string][]) {
    test(`${name} cut at ${cut}: float32 within ${TOLERANCE.fp32} of tfjs (BatchNorm folded and kept), float16 within ${TOLERANCE.fp16}`, async (t) => {
      const backbone = await loadBackbone(name);
      const model = transferModel(backbone, cut, labels.length);
      checkExportable(model);
      const contract = createContract({ labels, imageSize: 224, normalization: BACKBONES[name].normalization });
      const photos = await verificationInputs({ contract, count: PHOTOS, data: PETS_MINI, dataExplicit: true, testFraction: 0.2, seed: 42 });
      const start = performance.now();
      const reference = tfjsReference(model, photos.x, photos.shape);
      t.diagnostic(`tfjs reference: ${(performance.now() - start).toFixed(0)} ms for ${photos.shape[0]} photos`);
      const variants = [
        { variant: 'float32, BatchNorm folded', options: {}, tolerance: TOLERANCE.fp32, folded: BACKBONES[name].batchNorms },
        { variant: 'float32, BatchNorm kept', options: { foldBatchNorm: false }, tolerance: TOLERANCE.fp32, folded: 0 },
        { variant: 'float16, BatchNorm folded', options: { fp16: true }, tolerance: TOLERANCE.fp16, folded: BACKBONES[name].batchNorms },
      ];
      for (const { variant, options, tolerance, folded } of variants) {
        const exported = exportModel(model, contract, options);
        const onnx = decodeModel(exported.bytes);
        checkModel(onnx);
        assert.equal(exported.foldedBatchNorms, folded, `${variant}: folded BatchNormalizations`);
        assert.equal(opCounts(onnx).BatchNormalization ?? 0, BACKBONES[name].batchNorms - folded, `${variant}: BatchNormalization nodes`);
        assert.equal(opCounts(onnx).Transpose, 1, `${variant}: one Transpose, after the input`);
        const m = compareOutputs(reference, await runOrt(exported.bytes, photos), photos.shape[0]);
        t.diagnostic(`${variant}: max |Δp| ${m.maxAbsDiff.toExponential(2)}, max logit rel err ${m.maxLogitRelErr.toExponential(2)}, top-1 ${m.top1Agree}/${m.images}`);
        assert.ok(m.maxAbsDiff <= tolerance, `${variant}: max |Δp| ${m.maxAbsDiff}`);
        // The logits too, which do not flatten differences the way a near-uniform softmax does.
        assert.ok(m.maxLogitRelErr <= (tolerance === TOLERANCE.fp32 ? LOGITS_RELATIVE : tolerance), `${variant}: logits rel err ${m.maxLogitRelErr}`);
        assert.equal(m.top1Agree, m.images, `${variant}: same top-1`);
      }
      model.dispose(); // and with it the backbone's layers
    });
  }

  test("Teachable Machine's layout around the bundled MobileNet: sequential[truncated MobileNet, sequential head], float32", async (t) => {
    const name = 'mobilenet_v1_0.75_224';
    const backbone = await loadBackbone(name);
    const truncated = tfl.model({ inputs: backbone.inputs, outputs: backbone.getLayer(BACKBONE_CUTS[name]).output as SymbolicTensor });
    const head = tfl.sequential({
      layers: [
        tfl.layers.globalAveragePooling2d({ inputShape: truncated.outputs[0].shape.slice(1) as number[] }),
        tfl.layers.dense({ units: labels.length, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 5 }) }),
      ],
    });
    const model = tfl.sequential({ layers: [truncated, head] });
    const contract = createContract({ labels, imageSize: 224, normalization: BACKBONES[name].normalization });
    const photos = await verificationInputs({ contract, count: 2, data: PETS_MINI, dataExplicit: true, testFraction: 0.2, seed: 7 });
    const exported = exportModel(model, contract);
    assert.equal(exported.foldedBatchNorms, BACKBONES[name].batchNorms);
    const m = compareOutputs(tfjsReference(model, photos.x, photos.shape), await runOrt(exported.bytes, photos), photos.shape[0]);
    t.diagnostic(`max |Δp| ${m.maxAbsDiff.toExponential(2)}, max logit rel err ${m.maxLogitRelErr.toExponential(2)}`);
    assert.ok(m.maxAbsDiff <= TOLERANCE.fp32 && m.maxLogitRelErr <= LOGITS_RELATIVE, JSON.stringify(m));
    model.dispose();
  });
});
