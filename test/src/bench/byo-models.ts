// npm run bench rows for models pets did not train (pets-export --tfjs): the three nsfwjs models are
// exported (time of export + verification), then onnxruntime-node CPU and tfjs (the backend the export
// chose, wasm without tfjs-node) classify the same preprocessed photo at batch 1, side by side.
// Run alone: node test/dist/src/bench/byo-models.js [--quick]
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClassifier } from '@pets/runtime';
import { decodeImage } from '@pets/runtime/node-decode';
import { preprocess } from '@pets/runtime/preprocess';
import { exportTfjsModel, loadTfjsModel, readTfjsBundle } from '@pets/export';
import { tf, type Tensor } from '@pets/train/tfjs';
import { SAMPLE } from '../cli-run.js';
import { NSFWJS_MODELS, NSFWJS_VERSION, unpackNsfwjsModel } from '../nsfwjs-models.js';
import type { Row } from './inference.js';
import { measureSideBySide, summarize } from './stats.js';

export async function byoModelRows(quick: boolean, progress: (message: string) => void): Promise<{ rows: Row[]; skipped: string[] }> {
  const rows: Row[] = [];
  const skipped: string[] = [];
  const root = await mkdtemp(join(tmpdir(), 'pets-bench-byo-'));
  const photo = await decodeImage(join(SAMPLE, 'images', 'Bengal_109.jpg'));
  try {
    for (const model of NSFWJS_MODELS) {
      const name = `nsfwjs ${NSFWJS_VERSION} ${model.title} (${model.format}, ${model.imageSize}px)`;
      try {
        progress(`byo: ${name} export`);
        const modelJson = await unpackNsfwjsModel(model, join(root, model.name));
        const out = join(root, `${model.name}.onnx`);
        const start = performance.now();
        const exported = await exportTfjsModel({ tfjs: modelJson, out, labels: join(root, model.name, 'labels.txt'), normalize: 'unit', verifyImages: 4 });
        const exportMs = performance.now() - start;
        rows.push({ group: 'byo-model', name: `${name}: pets-export --tfjs (export + verify on 4 photos)`, perImage: summarize([exportMs]), note: `${(exported.bytes / 2 ** 20).toFixed(1)} MiB, max |Δp| ${exported.verification.maxAbsDiff.toExponential(1)}; whole command, ms` });
        progress(`byo: ${name} inference`);
        const x = preprocess(photo, exported.contract);
        const shape = [1, model.imageSize, model.imageSize, 3];
        const classifier = await createClassifier({ model: new Uint8Array(await readFile(out)), executionProviders: ['cpu'] });
        const loaded = await loadTfjsModel(await readTfjsBundle(modelJson));
        try {
          const input = tf.tensor(x, shape);
          const timings = await measureSideBySide({
            ort: () => classifier.infer(x),
            tfjs: () => tf.tidy(() => (loaded.model.predict(input) as Tensor).dataSync()),
          }, { rounds: quick ? 2 : 5, perRound: quick ? 1 : 3 });
          input.dispose();
          const ratio = timings.tfjs.median / timings.ort.median;
          rows.push({ group: 'byo-model', name: `${name}: onnxruntime-node CPU, batch 1`, perImage: timings.ort, note: `${ratio.toFixed(1)}x faster than tfjs ${tf.getBackend()} beside it` });
          rows.push({ group: 'byo-model', name: `${name}: tfjs ${tf.getBackend()} predict, batch 1`, perImage: timings.tfjs });
        } finally {
          await classifier.dispose();
          loaded.model.dispose();
        }
      } catch (error) {
        skipped.push(`byo-model ${name}: ${(error as Error).message.split('\n')[0]}`);
      }
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  return { rows, skipped };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { rows, skipped } = await byoModelRows(process.argv.includes('--quick'), (m) => process.stderr.write(`${m}\n`));
  for (const r of rows) process.stdout.write(`${r.name}: ${r.perImage.median.toFixed(1)} ms (${r.perImage.min.toFixed(1)}-${r.perImage.max.toFixed(1)}, ${r.perImage.runs} runs)${r.note ? `; ${r.note}` : ''}\n`);
  for (const s of skipped) process.stdout.write(`skipped: ${s}\n`);
}
