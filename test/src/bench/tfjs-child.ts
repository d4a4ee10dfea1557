// One tfjs measurement in a fresh process (so each backend starts clean and peak RSS is its own):
// model3 training steps or inference at a given size and batch. Prints one JSON line.
import { parseArgs } from 'node:util';
import { buildModel, chooseBackend, logitsModel, trainStep, PRESETS, type BackendRequest } from '@pets/train';
import { tf, type Tensor } from '@pets/train/tfjs';
import { measure, perUnit } from './stats.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    mode: { type: 'string', default: 'train' },
    size: { type: 'string', default: '224' },
    batch: { type: 'string', default: '16' },
    runs: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
  },
});
const size = Number(values.size);
const batch = Number(values.batch);
const report = await chooseBackend(values.backend as BackendRequest);
const preset = PRESETS.model3;
const model = buildModel({ architecture: preset.architecture, dropout: preset.dropout, imageSize: size, numClasses: 37, seed: 1 });
const x = new Float32Array(batch * size * size * 3).map((_, i) => ((i * 2654435761) % 997) / 997);
let timing;
if (values.mode === 'train') {
  const logits = logitsModel(model);
  const optimizer = tf.train.adam(1e-3);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const data = { x, shape: [batch, size, size, 3] as [number, number, number, number], labels: Int32Array.from({ length: batch }, (_, i) => i % 37) };
  timing = await measure(() => trainStep(logits, optimizer, variables, data, 37), { warmup: Number(values.warmup), runs: Number(values.runs) });
} else {
  const input = tf.tensor4d(x, [batch, size, size, 3]);
  timing = await measure(() => tf.tidy(() => (model.predict(input) as Tensor).dataSync()), { warmup: Number(values.warmup), runs: Number(values.runs) });
  input.dispose();
}
const rssMb = process.resourceUsage().maxRSS / 1024;
// Multiply-adds of the convolutions and dense layers, x2 for FLOPs; a training step counts as 3 forwards.
let forwardFlops = 0;
for (const layer of model.layers) {
  const kernel = (layer.getWeights()[0]?.shape ?? []) as number[];
  const out = layer.outputShape as number[];
  if (layer.getClassName() === 'Conv2D') forwardFlops += 2 * kernel[0] * kernel[1] * kernel[2] * kernel[3] * out[1] * out[2];
  if (layer.getClassName() === 'Dense') forwardFlops += 2 * kernel[0] * kernel[1];
}
const gflopPerImage = (forwardFlops * (values.mode === 'train' ? 3 : 1)) / 1e9;
console.log(JSON.stringify({ backend: report.name, detail: report.tfjsName, mode: values.mode, size, batch, perImage: perUnit(timing, batch), rssMb, gflopPerImage }));
