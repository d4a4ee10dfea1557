// The parity run for a model pets did not train (pets-parity --tfjs): the TensorFlow.js model.json it was
// exported from is the reference, fed the same input tensors as every ONNX provider: photos from a folder,
// decoded and preprocessed by the runtime as the exported contract says.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { createClassifier, type NodeClassifier } from '@pets/runtime';
import { inputShape } from '@pets/runtime/contract';
import { decodeImage } from '@pets/runtime/node-decode';
import { preprocess } from '@pets/runtime/preprocess';
import * as web from '@pets/runtime/web';
import { foreignReference, loadTfjsModel, readTfjsBundle } from '@pets/export';
import { chooseBackend } from '@pets/train';
import { CHROMIUM_PATH, openBrowserRuntime, type BrowserRuntime } from './browser.js';
import { compareOutputs, skipped, type Outputs, type ProviderReport } from './compare.js';
import { concat, defaultTolerance, onnxOutputs, type ParityProvider, type ParityReport } from './run-parity.js';

/** A parity report whose reference is a model.json: `tfjs` and the photo folder instead of a run's split. */
export type TfjsParityReport = Omit<ParityReport, 'run' | 'checkpoint' | 'split'> & { tfjs: string; imagesDir: string };

export interface TfjsParityOptions {
  /** model.json (or its folder) the ONNX model was exported from. */
  tfjs: string;
  /** The exported .onnx model. */
  model: string;
  /** Folder of photos. */
  images: string;
  /** Providers to compare (cuda is not offered here). Default cpu, web-wasm, webgpu. */
  providers?: ParityProvider[];
  /** At most this many images. Default all. */
  limit?: number;
  /** At most this many images on webgpu. Default 8. */
  webgpuLimit?: number;
  maxAbsProbability?: number;
  onProgress?: (message: string) => void;
}

const CHUNK = 8;
const IMAGE_FILE = /\.(jpe?g|png|webp|gif|avif|tiff?)$/i;

export async function runTfjsParity(options: TfjsParityOptions): Promise<TfjsParityReport> {
  const log = options.onProgress ?? (() => {});
  const wanted = new Set(options.providers ?? ['cpu', 'web-wasm', 'webgpu']);
  const modelBytes = new Uint8Array(await readFile(options.model));
  const backend = await chooseBackend('auto');
  const cpu = await createClassifier({ model: modelBytes, executionProviders: ['cpu'] });
  const { contract } = cpu.info;
  const provenance = cpu.info.provenance ?? {};
  const dtype = cpu.info.dtype ?? 'fp32'; // a local classifier always reads it from the file
  const fp16 = dtype === 'fp16';
  const files = (await readdir(options.images)).filter((f) => IMAGE_FILE.test(f)).sort().slice(0, options.limit).map((f) => join(options.images, f));
  const loaded = await loadTfjsModel(await readTfjsBundle(options.tfjs));
  const nodeClassifiers = new Map<ParityProvider, NodeClassifier | web.WebClassifier>();
  if (wanted.has('cpu')) nodeClassifiers.set('cpu', cpu);
  if (wanted.has('web-wasm')) nodeClassifiers.set('web-wasm', await web.createClassifier({ model: modelBytes, executionProviders: ['wasm'], threads: 1 }));
  let browser: BrowserRuntime | undefined;
  const reports: ProviderReport[] = [];
  try {
    if (wanted.has('webgpu')) {
      if (existsSync(CHROMIUM_PATH)) browser = await openBrowserRuntime(modelBytes, { webgpu: true });
      else reports.push(skipped('webgpu', `no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set PETS_CHROMIUM)`, defaultTolerance('webgpu', dtype)));
    }
    const per = inputShape(contract, 1).reduce((a, b) => a * b, 1);
    const ref: Outputs[] = [];
    const got = new Map<ParityProvider, Outputs[]>();
    const inputs: Float32Array[] = [];
    for (let first = 0; first < files.length; first += CHUNK) {
      const chunk = files.slice(first, first + CHUNK);
      const x = concat(await Promise.all(chunk.map(async (f) => preprocess(await decodeImage(f), contract))));
      ref.push(foreignReference(loaded, x, inputShape(contract, chunk.length), provenance.logits === true));
      for (const [provider, classifier] of nodeClassifiers) got.set(provider, [...(got.get(provider) ?? []), await onnxOutputs(classifier, x)]);
      if (first < (options.webgpuLimit ?? 8)) inputs.push(x);
      log(`${Math.min(first + CHUNK, files.length)}/${files.length} images`);
    }
    const names = files.map((f) => basename(f));
    const reference = { probabilities: concat(ref.map((o) => o.probabilities)), logits: concat(ref.map((o) => o.logits as Float32Array)) };
    for (const [provider, outputs] of got) {
      const candidate = { probabilities: concat(outputs.map((o) => o.probabilities)), logits: outputs.every((o) => o.logits) ? concat(outputs.map((o) => o.logits as Float32Array)) : null };
      reports.push(compareOutputs(provider, names, reference, candidate, defaultTolerance(provider, dtype, options.maxAbsProbability)));
    }
    if (browser) {
      const count = Math.min(files.length, options.webgpuLimit ?? 8);
      log(`webgpu: ${count} images in Chromium`);
      const tolerance = defaultTolerance('webgpu', dtype, options.maxAbsProbability);
      const classes = contract.labels.length;
      try {
        const out = await browser.infer('webgpu', concat(inputs).subarray(0, count * per), count, 4);
        const head = { probabilities: reference.probabilities.subarray(0, count * classes), logits: reference.logits.subarray(0, count * classes) };
        reports.push(compareOutputs('webgpu', names.slice(0, count), head, out, tolerance));
      } catch (error) {
        if (!/ExecutionProviderError|cannot run/.test((error as Error).message)) throw error;
        reports.push(skipped('webgpu', (error as Error).message.split('\n')[0], tolerance));
      }
    }
    return {
      model: resolve(options.model), tfjs: resolve(options.tfjs), imagesDir: resolve(options.images), images: files.length,
      fp16, dtype, referenceBackend: backend.name, providers: reports, passed: reports.every((r) => r.status !== 'fail'), date: new Date().toISOString(),
    };
  } finally {
    await browser?.close();
    for (const classifier of nodeClassifiers.values()) await classifier.dispose();
    if (!nodeClassifiers.has('cpu')) await cpu.dispose();
    loaded.model.dispose();
  }
}
