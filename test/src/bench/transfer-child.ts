// One transfer-learning measurement in a fresh process on a given tfjs backend, for a bundled backbone at
// its input size: the frozen backbone's feature extraction, one head epoch on cached features of the full
// dataset's size, a fine-tuning step, or the exported model's inference in onnxruntime-node and
// onnxruntime-web. Prints one JSON line: { rows: [{ name, perImage, note }] }.
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { createContract, ONNX_NAMES } from '@pets/runtime/contract';
import {
  chooseBackend, findKnownBackbone, keepBatchNormInInference, openBackbone, buildTransferModel, rowBatches, setTrainable, trainEpoch, trainStep,
  type BackendRequest,
} from '@pets/train';
import { tf, type Tensor } from '@pets/train/tfjs';
import { exportModel } from '@pets/export';
import { measure, perUnit, summarize } from './stats.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    backbone: { type: 'string', default: 'mobilenet_v1_0.75_224' },
    mode: { type: 'string', default: 'features' },
    runs: { type: 'string', default: '3' },
  },
});
const known = findKnownBackbone(values.backbone as string);
if (!known) throw new Error(`unknown backbone ${values.backbone}`);
const report = await chooseBackend(values.backend as BackendRequest);
const size = known.inputSize;
const classes = 37;
const runs = Number(values.runs);
const backbone = await openBackbone(known.name, {});
const views = buildTransferModel({ backbone: backbone.model, cutLayer: known.featureLayer, numClasses: classes, dropout: 0.5, seed: 1, name: 'bench' });
keepBatchNormInInference(views.model);
const input = (batch: number) => new Float32Array(batch * size * size * 3).map((_, i) => ((i * 2654435761) % 997) / 997 - 0.5);
const where = `${report.name}${report.threads ? `, ${report.threads} threads` : ''}`;
const rows: { name: string; perImage: ReturnType<typeof summarize>; note?: string }[] = [];

if (values.mode === 'features') {
  const batch = 16;
  const x = tf.tensor4d(input(batch), [batch, size, size, 3]);
  const timing = await measure(() => tf.tidy(() => (views.features.predict(x) as Tensor).dataSync()), { warmup: 1, runs });
  rows.push({ name: `tfjs ${where}: ${known.name} feature extraction (frozen backbone + pooling) @${size}, batch ${batch}`, perImage: perUnit(timing, batch) });
} else if (values.mode === 'head') {
  // The full dataset's training split: 3,680 trainval images less 20% validation, each also mirrored.
  const images = 2 * 2944;
  const width = views.features.outputs[0].shape[1] as number;
  const rowsData = new Float32Array(images * width).map((_, i) => ((i * 2654435761) % 997) / 997);
  const labels = Int32Array.from({ length: images }, (_, i) => i % classes);
  setTrainable(views.model, 'head');
  const optimizer = tf.train.adam(3e-3);
  const contract = createContract({ labels: Array.from({ length: classes }, (_, i) => `c${i}`), imageSize: size });
  let epoch = 0;
  const timing = await measure(
    () => trainEpoch({ epoch: ++epoch, seed: 1, model: views.model, logits: views.headLogits, optimizer, pixels: async () => [], labels, contract, batchSize: 32, augment: null, batches: rowBatches(rowsData, width, labels) }),
    { warmup: 1, runs },
  );
  rows.push({ name: `tfjs ${where}: ${known.name} head epoch on cached features, 5,888 rows (the full dataset's train split and mirror images), batch 32`, perImage: timing, note: 'ms per epoch, not per image' });
} else if (values.mode === 'fine-tune') {
  const batch = 16;
  const trainable = setTrainable(views.model, 'fine-tune', known.unfreezeFrom);
  const optimizer = tf.train.adam(3e-4);
  const variables = views.logits.trainableWeights.map((w) => w.read() as tf.Variable);
  const data = { x: input(batch), shape: [batch, size, size, 3], labels: Int32Array.from({ length: batch }, (_, i) => i % classes) };
  const timing = await measure(() => trainStep(views.logits, optimizer, variables, data, classes), { warmup: 1, runs });
  rows.push({ name: `tfjs ${where}: ${known.name} fine-tuning step from ${known.unfreezeFrom} (${trainable.toLocaleString('en-US')} weights train) @${size}, batch ${batch}`, perImage: perUnit(timing, batch) });
} else if (values.mode === 'onnx') {
  const contract = createContract({ labels: Array.from({ length: classes }, (_, i) => `c${i}`), imageSize: size, normalization: known.normalization });
  const bytes = exportModel(views.model, contract).bytes;
  const node = await ort.InferenceSession.create(bytes);
  const web = await ortWeb.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  for (const batch of [1, 16]) {
    const x = input(batch);
    const t = await measure(() => node.run({ [ONNX_NAMES.input]: new ort.Tensor('float32', x, [batch, size, size, 3]) }), { warmup: 2, runs: runs + 4 });
    rows.push({ name: `onnxruntime-node CPU, exported ${known.name} transfer model, batch ${batch}`, perImage: perUnit(t, batch), note: `${(bytes.length / 2 ** 20).toFixed(1)} MiB` });
    const w = await measure(() => web.run({ [ONNX_NAMES.input]: new ortWeb.Tensor('float32', x, [batch, size, size, 3]) }), { warmup: 2, runs: runs + 4 });
    rows.push({ name: `onnxruntime-web wasm in Node (${ortWeb.env.wasm.numThreads ?? 'default'} threads), exported ${known.name} transfer model, batch ${batch}`, perImage: perUnit(w, batch) });
  }
  await Promise.all([node.release(), web.release()]);
} else {
  throw new Error(`unknown mode ${values.mode}`);
}
console.log(JSON.stringify({ rows }));
