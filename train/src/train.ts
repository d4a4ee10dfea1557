// train(): dataset -> splits -> cached pixels -> model preset -> epochs -> checkpoints, history, curves,
// then the best checkpoint on the test split. Returns or throws; printing is the CLI's job (onEvent).
import { readFile, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createContract, type ModelContract } from '@pets/runtime/contract';
import { chooseBackend, type BackendReport, type BackendRequest } from './backend/index.js';
import { tf, type LayersModel, type Optimizer, type Variable } from './backend/tf.js';
import { isBetter, loadCheckpoint, readIndex, saveCheckpoint, updateIndex, type CheckpointIndex } from './checkpoint.js';
import { loadDataset } from './data/dataset.js';
import { openSplits, type LoadedSplits } from './data/splits-loader.js';
import { evaluateModel, type EvaluationResult } from './evaluate.js';
import { trainEpoch } from './fit.js';
import { planMicroBatch, WASM_PASS_BUDGET_BYTES, type MicroBatchPlan } from './micro-batch.js';
import { readHistory, writeHistory, type EpochRecord } from './history.js';
import { buildModel, checkImageSize, logitsModel, presetConfig, type PresetConfig, type PresetName } from './presets.js';
import { writeCurves } from './report/plots.js';
import { writeEvaluation } from './report/evaluation-files.js';
import { checkAugmentConfig } from './augment.js';
import { writeFileAtomic } from './util/atomic.js';

/** Options of train(); each has a pets-train flag of the same name in kebab-case. */
export interface TrainOptions {
  /** Dataset root: the Oxford-IIIT Pet layout or one folder per class. */
  data: string;
  /** Run directory for checkpoints, history, curves and evaluation. */
  out: string;
  /** Reference study preset. Default model5. */
  preset?: PresetName;
  /** tfjs backend. Default auto. */
  backend?: BackendRequest;
  /** Threads of the wasm backend's XNNPACK kernels; results do not depend on it. Default: the cores, at most 8. */
  threads?: number;
  /** Overrides of the preset's defaults. */
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  imageSize?: number;
  /**
   * Images per forward and backward pass; larger batches are split and their gradients accumulated into
   * one step (with BatchNormalization, statistics are then per pass). May change on --resume. Default:
   * the whole batch, unless the backend is wasm and one pass would not fit its heap (see micro-batch.ts).
   */
  microBatch?: number;
  dropout?: number;
  /** false turns the preset's augmentation off; true turns the reference augmentation on. */
  augment?: boolean;
  /** Fraction of trainval held out for validation, per class. Default 0.2. */
  valFraction?: number;
  /** Fraction of the data held out for testing when the dataset has no test split. Default 0.2. */
  testFraction?: number;
  /** Seed of the split, initial weights, shuffling, augmentation and dropout. Default 42. */
  seed?: number;
  /** Stop after this many epochs without a better validation result; 0 never stops early. Default 0. */
  earlyStopping?: number;
  /** Continue the run in `out` from its last checkpoint. Default false. */
  resume?: boolean;
  /** Memory for decoded pixels in MiB; what does not fit spills to a file in the run directory. Default 2048. */
  cacheMb?: number;
  /** Keep every epoch's checkpoint instead of only best and last. Default false. */
  keepCheckpoints?: boolean;
  /** Use at most this many images per split (quick trials). Default: all. */
  limit?: number;
  /** Progress and results as they happen. */
  onEvent?: (event: TrainEvent) => void;
}

export type TrainEvent =
  | { type: 'backend'; report: BackendReport }
  | { type: 'dataset'; splits: LoadedSplits }
  | { type: 'micro-batch'; plan: MicroBatchPlan }
  | { type: 'warning'; message: string }
  | { type: 'cache'; done: number; total: number }
  | { type: 'resume'; epoch: number }
  | { type: 'epoch-start'; epoch: number; epochs: number; steps: number }
  | { type: 'step'; epoch: number; step: number; steps: number; loss: number; accuracy: number }
  | { type: 'epoch-end'; record: EpochRecord; best: boolean }
  | { type: 'early-stop'; epoch: number; patience: number }
  | { type: 'test'; result: EvaluationResult };

/** The resolved run configuration, saved as config.json and reused by --resume. */
export interface RunConfig extends PresetConfig {
  preset: PresetName;
  data: string;
  valFraction: number;
  testFraction: number;
  seed: number;
  earlyStopping: number;
  limit: number | null;
  /** Images per pass as requested; null: decided per run from the backend (micro-batch.ts). */
  microBatch: number | null;
}

export interface TrainResult {
  runDir: string;
  config: RunConfig;
  history: EpochRecord[];
  best: CheckpointIndex['best'];
  test: EvaluationResult | null;
}

/** A user error in the options or the run directory; the message names the fix. */
export class TrainOptionsError extends Error {
  override name = 'TrainOptionsError';
}

function positive(name: string, value: number | undefined, integer: boolean): void {
  if (value === undefined) return;
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new RangeError(`"${name}" must be a positive ${integer ? 'integer' : 'number'}; got ${value}.`);
  }
}

export function resolveConfig(options: TrainOptions): RunConfig {
  const preset = options.preset ?? 'model5';
  const base = presetConfig(preset);
  for (const key of ['epochs', 'batchSize', 'imageSize', 'limit', 'cacheMb', 'microBatch', 'threads'] as const) positive(key, options[key], true);
  positive('learningRate', options.learningRate, false);
  for (const key of ['valFraction', 'testFraction'] as const) {
    const v = options[key];
    if (v !== undefined && !(v > 0 && v < 1)) throw new RangeError(`"${key}" must be in (0, 1); got ${v}.`);
  }
  if (options.dropout !== undefined && !(options.dropout >= 0 && options.dropout < 1)) {
    throw new RangeError(`"dropout" must be in [0, 1); got ${options.dropout}.`);
  }
  const config: RunConfig = {
    ...base,
    preset,
    data: resolve(options.data),
    epochs: options.epochs ?? base.epochs,
    batchSize: options.batchSize ?? base.batchSize,
    learningRate: options.learningRate ?? base.learningRate,
    imageSize: options.imageSize ?? base.imageSize,
    dropout: options.dropout ?? base.dropout,
    augment: options.augment === false ? null : options.augment === true ? (base.augment ?? presetConfig('model4').augment) : base.augment,
    valFraction: options.valFraction ?? 0.2,
    testFraction: options.testFraction ?? 0.2,
    seed: options.seed ?? 42,
    earlyStopping: options.earlyStopping ?? 0,
    limit: options.limit ?? null,
    microBatch: options.microBatch ?? null,
  };
  if (config.augment) checkAugmentConfig(config.augment);
  checkImageSize(config);
  return config;
}

const exists = (path: string) => stat(path).then(() => true, () => false);

async function prepareRunDir(runDir: string, options: TrainOptions): Promise<RunConfig> {
  const configPath = join(runDir, 'config.json');
  if (options.resume) {
    if (!(await exists(configPath))) {
      throw new TrainOptionsError(`Cannot resume: ${configPath} does not exist. Start the run without --resume.`);
    }
    const saved = JSON.parse(await readFile(configPath, 'utf8')) as RunConfig;
    positive('microBatch', options.microBatch, true);
    // A resumed run keeps its configuration; only how long it runs, and how a batch is split to fit in
    // memory (which may differ between machines), may change.
    return {
      ...saved,
      epochs: options.epochs ?? saved.epochs,
      earlyStopping: options.earlyStopping ?? saved.earlyStopping,
      microBatch: options.microBatch ?? saved.microBatch ?? null,
    };
  }
  if (await exists(configPath)) {
    throw new TrainOptionsError(`${runDir} already holds a run. Use --resume to continue it, or choose another --out.`);
  }
  return resolveConfig(options);
}

interface ModelState {
  model: LayersModel;
  optimizer: Optimizer;
  startEpoch: number;
  index: CheckpointIndex | undefined;
}

/**
 * tfjs' Adam.setWeights recomputes beta^(t+1) with pow(), while training reaches it by multiplying in
 * float32 once per step; the two differ in the last bit and a resumed run would drift from an
 * uninterrupted one. Recompute them the way training does (tfjs 4.22's private accBeta1/accBeta2).
 */
function restoreAdamPowers(optimizer: Optimizer): void {
  const adam = optimizer as unknown as { iterations: number; beta1: number; beta2: number; accBeta1?: Variable; accBeta2?: Variable };
  if (!adam.accBeta1 || !adam.accBeta2) return;
  const power = (beta: number) => {
    let acc = Math.fround(beta);
    for (let i = 0; i < adam.iterations; i++) acc = Math.fround(acc * Math.fround(beta));
    return acc;
  };
  tf.tidy(() => {
    adam.accBeta1?.assign(tf.scalar(power(adam.beta1)));
    adam.accBeta2?.assign(tf.scalar(power(adam.beta2)));
  });
}

async function initialState(runDir: string, config: RunConfig, contract: ModelContract, resume: boolean): Promise<ModelState> {
  const optimizer = tf.train.adam(config.learningRate);
  // A run killed before its first checkpoint resumes from the start.
  if (!resume || !(await exists(join(runDir, 'checkpoints', 'index.json')))) {
    const model = buildModel({ ...config, numClasses: contract.labels.length, seed: config.seed });
    return { model, optimizer, startEpoch: 1, index: undefined };
  }
  const index = await readIndex(join(runDir, 'checkpoints'));
  const last = await loadCheckpoint(join(runDir, 'checkpoints', index.last.dir));
  await optimizer.setWeights(last.optimizerWeights);
  restoreAdamPowers(optimizer);
  last.optimizerWeights.forEach((w) => w.tensor.dispose());
  return { model: last.model, optimizer, startEpoch: index.last.epoch + 1, index };
}

export async function train(options: TrainOptions): Promise<TrainResult> {
  const emit = options.onEvent ?? (() => {});
  const runDir = resolve(options.out);
  const config = await prepareRunDir(runDir, options);
  const createdRunDir = !(await exists(runDir));
  const dataset = await loadDataset(config.data);
  const backend = await chooseBackend(options.backend ?? 'auto', { threads: options.threads });
  emit({ type: 'backend', report: backend });
  const splits = await openSplits(dataset, config, {
    cacheBytes: (options.cacheMb ?? 2048) * 2 ** 20,
    spillDir: join(runDir, '.cache'),
    onWarning: (message) => emit({ type: 'warning', message }),
    onProgress: (done, total) => emit({ type: 'cache', done, total }),
  });
  try {
    emit({ type: 'dataset', splits });
    // Written once the data is known to load, so a failed start leaves nothing behind.
    if (!options.resume) await writeFileAtomic(join(runDir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
    const contract = createContract({ labels: dataset.labels, imageSize: config.imageSize });
    const state = await initialState(runDir, config, contract, options.resume ?? false);
    if (options.resume) emit({ type: 'resume', epoch: state.startEpoch - 1 });
    const historyPath = join(runDir, 'history.json');
    const history = (await readHistory(historyPath)).filter((r) => r.epoch < state.startEpoch);
    let index = state.index;
    const logits = logitsModel(state.model);
    // Only wasm has a hard memory ceiling; other backends run the whole batch unless asked otherwise.
    const microBatch = planMicroBatch(state.model, config.batchSize, config.microBatch, backend.name === 'wasm' ? WASM_PASS_BUDGET_BYTES : Infinity);
    emit({ type: 'micro-batch', plan: microBatch });
    for (let epoch = state.startEpoch; epoch <= config.epochs; epoch++) {
      if (config.earlyStopping > 0 && index && epoch - 1 - index.best.epoch >= config.earlyStopping) {
        emit({ type: 'early-stop', epoch: epoch - 1, patience: config.earlyStopping });
        break;
      }
      const started = performance.now();
      const steps = Math.ceil(splits.train.labels.length / config.batchSize);
      emit({ type: 'epoch-start', epoch, epochs: config.epochs, steps });
      const fit = await trainEpoch({
        epoch,
        seed: config.seed,
        model: state.model,
        logits,
        optimizer: state.optimizer,
        pixels: splits.train.pixels,
        labels: splits.train.labels,
        contract,
        batchSize: config.batchSize,
        microBatch: microBatch.size,
        augment: config.augment,
        onStep: (step, total, running) => emit({ type: 'step', epoch, step, steps: total, ...running }),
      });
      const val = await evaluateModel({ model: state.model, ...splits.val, contract, batchSize: config.batchSize });
      const record: EpochRecord = {
        epoch,
        loss: fit.loss,
        accuracy: fit.accuracy,
        valLoss: val.loss,
        valAccuracy: val.accuracy,
        seconds: (performance.now() - started) / 1000,
        learningRate: config.learningRate,
      };
      history.push(record);
      // Order matters for kill -9: history first (a resume trims epochs past `last`), then the
      // checkpoint directory, then the index that makes it `last`.
      await writeHistory(historyPath, history);
      const dir = await saveCheckpoint({
        checkpointsDir: join(runDir, 'checkpoints'),
        model: state.model,
        optimizer: state.optimizer,
        contract,
        epoch,
        metrics: record,
        backend: backend.name,
        config: { ...config },
      });
      const best = isBetter(record, index?.best);
      index = {
        best: best ? { dir, epoch, valAccuracy: record.valAccuracy, valLoss: record.valLoss } : (index as CheckpointIndex).best,
        last: { dir, epoch },
      };
      await updateIndex(join(runDir, 'checkpoints'), index, options.keepCheckpoints ?? false);
      await writeCurves(runDir, history);
      emit({ type: 'epoch-end', record, best });
    }
    if (!index) throw new TrainOptionsError(`Nothing to train: the run is already at epoch ${config.epochs}. Raise --epochs to continue.`);
    state.model.dispose();
    state.optimizer.dispose();
    let test: EvaluationResult | null = null;
    if (splits.test.labels.length > 0) {
      const best = await loadCheckpoint(join(runDir, 'checkpoints', index.best.dir));
      best.optimizerWeights.forEach((w) => w.tensor.dispose());
      test = await evaluateModel({ model: best.model, ...splits.test, contract, batchSize: config.batchSize });
      best.model.dispose();
      await writeEvaluation(join(runDir, 'evaluation'), 'test-best', test, contract.labels);
      emit({ type: 'test', result: test });
    }
    return { runDir, config, history, best: index.best, test };
  } finally {
    await splits.close();
    await rm(join(runDir, '.cache'), { recursive: true, force: true });
    if (createdRunDir && !(await exists(join(runDir, 'config.json')))) await rm(runDir, { recursive: true, force: true });
  }
}
