// The parity run: the checkpoint a model was exported from (tfjs) and the ONNX model on every provider,
// fed the same input tensors (the run's split, preprocessed exactly as training did), compared image by
// image. Inputs are processed in chunks so the full test split at 224 never sits in memory at once.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createClassifier, ExecutionProviderError, ModelContractError, type ModelDtype, type NodeClassifier } from '@pets/runtime';
import * as web from '@pets/runtime/web';
import { chooseBackend, loadCheckpoint, loadDataset, logitsModel, makeBatch, openSplits, resolveCheckpoint, type BackendRequest, type RunConfig, type SplitName } from '@pets/train';
import { tf, type Tensor } from '@pets/train/tfjs';
import { concatFloat32, INT8_MIN_TOP1_AGREEMENT, TOLERANCE } from '@pets/export';
import { CHROMIUM_PATH, openBrowserRuntime, type BrowserRuntime } from './browser.js';
import { compareOutputs, skipped, type Outputs, type ProviderReport, type Tolerance } from './compare.js';

export const PARITY_PROVIDERS = ['cpu', 'cuda', 'web-wasm', 'webgpu'] as const;
export type ParityProvider = (typeof PARITY_PROVIDERS)[number];

/** Options of runParity(); each has a pets-parity flag. */
export interface ParityOptions {
  /** Run directory the model was exported from. */
  run: string;
  /** The exported .onnx model. */
  model: string;
  /** Dataset root; default the run's. */
  data?: string;
  /** Split to compare on. Default test. */
  split?: SplitName;
  /** Checkpoint of the run; default the one the model's provenance names, else best. */
  checkpoint?: string;
  /** Providers to compare. Default all four. */
  providers?: ParityProvider[];
  /** At most this many images (per class-stratified draw). Default all. */
  limit?: number;
  /** At most this many images on webgpu (a software adapter takes seconds per image). Default 8. */
  webgpuLimit?: number;
  /** tfjs backend for the reference. Default auto. */
  backend?: BackendRequest;
  /** A stricter max |Δp| than the defaults. */
  maxAbsProbability?: number;
  onProgress?: (message: string) => void;
}

export interface ParityReport {
  model: string;
  run: string;
  checkpoint: string;
  split: SplitName;
  images: number;
  fp16: boolean;
  /** The model's precision (the runtime's info.dtype). */
  dtype: ModelDtype;
  referenceBackend: string;
  providers: ProviderReport[];
  passed: boolean;
  date: string;
}

/**
 * Default tolerances: fp32 1e-5 (cpu, web-wasm) or 1e-4 (cuda, webgpu); fp16 2e-2 (TOLERANCE.fp16, see
 * export/src/verify/verify.ts) with >= 99% top-1 outside near-ties, which for fp16 are images whose top two
 * reference probabilities are closer than twice the limit (both may move by the limit, in opposite ways).
 * int8 (QDQ): top-1 agreement >= INT8_MIN_TOP1_AGREEMENT (98%), as pets-export verifies it; its max |Δp|
 * is reported, not limited.
 */
export function defaultTolerance(provider: ParityProvider, dtype: boolean | ModelDtype, stricter?: number): Tolerance {
  if (dtype === 'int8') return { maxAbsProbability: stricter ?? 1, minTop1Agreement: INT8_MIN_TOP1_AGREEMENT, nearTie: 1e-4 };
  const fp16 = dtype === true || dtype === 'fp16';
  const base = fp16 ? TOLERANCE.fp16 : provider === 'cpu' || provider === 'web-wasm' ? 1e-5 : 1e-4;
  const maxAbsProbability = stricter !== undefined ? Math.min(base, stricter) : base;
  return { maxAbsProbability, minTop1Agreement: fp16 ? 0.99 : 1, nearTie: fp16 ? 2 * TOLERANCE.fp16 : 1e-4 };
}

const CHUNK = 16;

/** Joins per-batch outputs into one array. */
export const concat = concatFloat32;

/** A classifier's probabilities and logits for preprocessed images x, joined. */
export async function onnxOutputs(classifier: NodeClassifier | web.WebClassifier, x: Float32Array): Promise<Outputs> {
  const outs = await classifier.infer(x);
  return {
    probabilities: concat(outs.map((o) => o.probabilities)),
    logits: outs.every((o) => o.logits) ? concat(outs.map((o) => o.logits as Float32Array)) : null,
  };
}

export async function runParity(options: ParityOptions): Promise<ParityReport> {
  const log = options.onProgress ?? (() => {});
  const runDir = resolve(options.run);
  const split = options.split ?? 'test';
  const wanted = new Set(options.providers ?? PARITY_PROVIDERS);
  const modelBytes = new Uint8Array(await readFile(options.model));
  const backend = await chooseBackend(options.backend ?? 'auto');
  const cpu = await createClassifier({ model: modelBytes, executionProviders: ['cpu'] });
  const provenance = cpu.info.provenance ?? {};
  const fp16 = provenance.fp16 === true;
  const dtype = cpu.info.dtype ?? 'fp32'; // a local classifier always reads it from the file
  const checkpointName = options.checkpoint ?? (typeof provenance.checkpoint === 'string' ? provenance.checkpoint : 'best');
  const reference = await loadCheckpoint(await resolveCheckpoint(runDir, checkpointName));
  reference.optimizerWeights.forEach((w) => w.tensor.dispose());
  if (JSON.stringify(reference.contract) !== JSON.stringify(cpu.info.contract)) {
    throw new ModelContractError(`${options.model} was not exported from ${runDir} (${checkpointName}): their input contracts differ.`);
  }
  const config = JSON.parse(await readFile(join(runDir, 'config.json'), 'utf8')) as RunConfig;
  const dataset = await loadDataset(options.data ?? config.data);
  const splits = await openSplits(dataset, { ...config, limit: options.limit ?? null }, { cacheBytes: 2 ** 31, spillDir: join(runDir, '.cache-parity'), only: [split] });
  const { items, labels } = splits[split];
  const names = items.map((item) => item.id);
  const logits = logitsModel(reference.model);

  const skippedReports: ProviderReport[] = [];
  const nodeClassifiers = new Map<ParityProvider, NodeClassifier | web.WebClassifier>();
  if (wanted.has('cpu')) nodeClassifiers.set('cpu', cpu);
  if (wanted.has('cuda')) {
    try {
      nodeClassifiers.set('cuda', await createClassifier({ model: modelBytes, executionProviders: ['cuda'] }));
    } catch (error) {
      if (!(error instanceof ExecutionProviderError)) throw error;
      skippedReports.push(skipped('cuda', error.message, defaultTolerance('cuda', dtype)));
    }
  }
  if (wanted.has('web-wasm')) nodeClassifiers.set('web-wasm', await web.createClassifier({ model: modelBytes, executionProviders: ['wasm'], threads: 1 }));
  let browser: BrowserRuntime | undefined;
  if (wanted.has('webgpu')) {
    if (existsSync(CHROMIUM_PATH)) browser = await openBrowserRuntime(modelBytes, { webgpu: true });
    else skippedReports.push(skipped('webgpu', `no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set PETS_CHROMIUM)`, defaultTolerance('webgpu', dtype)));
  }

  const ref: Outputs[] = [];
  const got = new Map<string, Outputs[]>();
  const webgpuCount = Math.min(names.length, options.webgpuLimit ?? 8);
  const webgpuInputs: Float32Array[] = [];
  try {
    for (let first = 0; first < names.length; first += CHUNK) {
      const indices = Array.from({ length: Math.min(CHUNK, names.length - first) }, (_, i) => first + i);
      const batch = await makeBatch({ indices, labels, pixels: splits[split].pixels, contract: reference.contract });
      const [p, l] = tf.tidy(() => {
        const x = tf.tensor(batch.x, batch.shape);
        return [(reference.model.predict(x) as Tensor).dataSync() as Float32Array, (logits.predict(x) as Tensor).dataSync() as Float32Array];
      });
      ref.push({ probabilities: p, logits: l });
      for (const [provider, classifier] of nodeClassifiers) {
        got.set(provider, [...(got.get(provider) ?? []), await onnxOutputs(classifier, batch.x)]);
      }
      if (first < webgpuCount) webgpuInputs.push(batch.x.subarray(0, (Math.min(webgpuCount, first + indices.length) - first) * (batch.x.length / indices.length)));
      log(`${Math.min(first + CHUNK, names.length)}/${names.length} images`);
    }
    const reference_ = { probabilities: concat(ref.map((o) => o.probabilities)), logits: concat(ref.map((o) => o.logits as Float32Array)) };
    const reports: ProviderReport[] = [];
    for (const provider of PARITY_PROVIDERS) {
      if (!wanted.has(provider)) continue;
      const outputs = got.get(provider);
      if (outputs) {
        const candidate = { probabilities: concat(outputs.map((o) => o.probabilities)), logits: outputs.every((o) => o.logits) ? concat(outputs.map((o) => o.logits as Float32Array)) : null };
        reports.push(compareOutputs(provider, names, reference_, candidate, defaultTolerance(provider, dtype, options.maxAbsProbability)));
      } else if (provider === 'webgpu' && browser) {
        log(`webgpu: ${webgpuCount} images in Chromium`);
        const tolerance = defaultTolerance('webgpu', dtype, options.maxAbsProbability);
        try {
          const out = await browser.infer('webgpu', concat(webgpuInputs), webgpuCount, 4);
          const classes = reference.contract.labels.length;
          const head = { probabilities: reference_.probabilities.subarray(0, webgpuCount * classes), logits: reference_.logits.subarray(0, webgpuCount * classes) };
          reports.push(compareOutputs('webgpu', names.slice(0, webgpuCount), head, out, tolerance));
        } catch (error) {
          // No WebGPU adapter in this browser: reported as skipped with the reason, never as a pass.
          if (!/ExecutionProviderError|cannot run/.test((error as Error).message)) throw error;
          reports.push(skipped('webgpu', (error as Error).message.split('\n')[0], tolerance));
        }
      } else {
        reports.push(...skippedReports.filter((r) => r.provider === provider));
      }
    }
    return {
      model: resolve(options.model),
      run: runDir,
      checkpoint: checkpointName,
      split,
      images: names.length,
      fp16,
      dtype,
      referenceBackend: backend.name,
      providers: reports,
      passed: reports.every((r) => r.status !== 'fail'),
      date: new Date().toISOString(),
    };
  } finally {
    await browser?.close();
    for (const classifier of nodeClassifiers.values()) await classifier.dispose();
    if (!nodeClassifiers.has('cpu')) await cpu.dispose();
    reference.model.dispose();
    await splits.close();
  }
}
