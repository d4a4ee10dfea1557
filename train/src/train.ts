// train(): dataset -> splits -> cached pixels -> model preset -> epochs -> checkpoints, history, curves,
// then the best checkpoint on the test split. Returns or throws; printing is the CLI's job (onEvent).
import { readFile, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createContract, type ModelContract } from '@pets/runtime/contract';
import { chooseBackend, type BackendReport, type BackendRequest } from './backend/index.js';
import { tf, type LayersModel, type Optimizer, type Tensor, type Variable } from './backend/tf.js';
import { isBetter, loadCheckpoint, readIndex, saveCheckpoint, updateIndex, type CheckpointIndex } from './checkpoint.js';
import { loadDataset } from './data/dataset.js';
import { downloadDataset, type DatasetDownloadEvent, type DownloadDatasetOptions } from './dataset-download/index.js';
import { openSplits, type LoadedSplits } from './data/splits-loader.js';
import { evaluateModel, type EvaluationResult } from './evaluate.js';
import { trainEpoch } from './fit.js';
import { planMicroBatch, WASM_PASS_BUDGET_BYTES, type MicroBatchPlan } from './micro-batch.js';
import { readHistory, writeHistory, type EpochRecord } from './history.js';
import { buildModel, checkImageSize, DEFAULT_PRESET, isTransferPreset, logitsModel, presetConfig, type PresetConfig, type PresetName } from './presets.js';
import { makeBatch, rowBatches, type BatchSource } from './batches.js';
import { defaultCacheDir, type DownloadProgress } from './backbones/index.js';
import { checkUnfreezeLayer, extractFeatures, keepBatchNormInInference, scaleHeadToFeatures, setTrainable, transferViews, type TransferModel } from './transfer/model.js';
import { buildFromBackbone, openBackbone, resolveTransferConfig, type LoadedBackbone, type TransferConfig } from './transfer/setup.js';
import { planStages, type StageName } from './transfer/stages.js';
import type { SplitData } from './data/splits-loader.js';
import { writeCurves } from './report/plots.js';
import { writeEvaluation } from './report/evaluation-files.js';
import { checkAugmentConfig } from './augment.js';
import { writeFileAtomic } from './util/atomic.js';

/** Options of train(); each has a pets-train flag of the same name in kebab-case. */
export interface TrainOptions {
  /** Dataset root: the Oxford-IIIT Pet layout or one folder per class. */
  data: string;
  /**
   * Download the Oxford-IIIT Pet dataset into `data` first when that folder does not exist: true for the
   * official archives, or downloadDataset()'s options (a mirror, its md5s). Default false.
   */
  download?: boolean | Omit<DownloadDatasetOptions, 'out' | 'onEvent'>;
  /** Run directory for checkpoints, history, curves and evaluation. */
  out: string;
  /** Preset: a transfer model (mobilenet, darknet) or a reference study model (model1-5). Default DEFAULT_PRESET. */
  preset?: PresetName;
  /**
   * Transfer presets: the backbone, a known name (`pets-train backbones`), a model.json path or folder, or
   * an http(s) URL (downloaded once into cacheDir). Default: the preset's bundled backbone.
   */
  backbone?: string;
  /** Transfer: the layer whose output is the features. Default: the known backbone's, else its last global pooling or feature map. */
  backboneLayer?: string;
  /** Transfer: the backbone's preprocessing when it is not a known one: unit, symmetric or imagenet. */
  normalize?: string;
  /** Transfer: bundle digest (sha256) the backbone's files must have. Default: the known one, if any. */
  backboneSha256?: string;
  /** Transfer: folder for downloaded backbones. Default defaultCacheDir() (PETS_CACHE_DIR, else the user's cache folder). */
  cacheDir?: string;
  /** Transfer: epochs of stage 2, fine-tuning the backbone from unfreezeFrom on. Default 0. */
  fineTune?: number;
  /** Transfer: learning rate of stage 2. Default learningRate / 10. */
  fineTuneLr?: number;
  /** Transfer: the first backbone layer stage 2 trains. Default: the known backbone's. */
  unfreezeFrom?: string;
  /** Transfer head on cached features: train on each image and its mirror image. Default: the preset's (true). */
  mirrorFeatures?: boolean;
  /**
   * Transfer head stage without augmentation: compute the frozen backbone's features once per image (true)
   * or run the backbone forward at every step (false: the same result up to float32 rounding, slower; it
   * needs no feature memory). Default true.
   */
  cacheFeatures?: boolean;
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
  | { type: 'backbone'; name: string; source: string; sha256: string; cut: string; layers: number; params: number }
  | { type: 'download'; progress: DownloadProgress }
  | { type: 'dataset-download'; event: DatasetDownloadEvent }
  | { type: 'features'; done: number; total: number }
  | { type: 'stage'; stage: StageName; first: number; last: number; learningRate: number; trainableParams: number; cachedFeatures: boolean }
  | { type: 'stage-end'; stage: StageName; seconds: number }
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
  /** Transfer presets: the backbone and its stages' settings; null for the reference presets. */
  transfer: TransferConfig | null;
}

/** Wall-clock seconds of each part of a run (this process's part of it, when resumed). */
export interface StageTiming {
  stage: StageName | 'features';
  seconds: number;
}

export interface TrainResult {
  runDir: string;
  config: RunConfig;
  history: EpochRecord[];
  best: CheckpointIndex['best'];
  test: EvaluationResult | null;
  timings: StageTiming[];
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
  const preset = options.preset ?? DEFAULT_PRESET;
  const base = presetConfig(preset);
  for (const key of ['epochs', 'batchSize', 'imageSize', 'limit', 'cacheMb', 'microBatch', 'threads'] as const) positive(key, options[key], true);
  positive('learningRate', options.learningRate, false);
  positive('fineTuneLr', options.fineTuneLr, false);
  if (options.fineTune !== undefined && !(Number.isInteger(options.fineTune) && options.fineTune >= 0)) {
    throw new RangeError(`"fineTune" must be an integer >= 0; got ${options.fineTune}.`);
  }
  if (!isTransferPreset(preset)) {
    const transferOnly = (['backbone', 'backboneLayer', 'normalize', 'backboneSha256', 'fineTune', 'fineTuneLr', 'unfreezeFrom', 'mirrorFeatures'] as const).filter((k) => options[k] !== undefined);
    if (transferOnly.length > 0) {
      throw new TrainOptionsError(`"${transferOnly[0]}" is for transfer presets; preset ${preset} trains from scratch. Use --preset mobilenet or darknet (or leave --preset out).`);
    }
  }
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
    backbone: options.backbone ?? base.backbone,
    fineTuneEpochs: options.fineTune ?? base.fineTuneEpochs,
    mirrorFeatures: options.mirrorFeatures ?? base.mirrorFeatures,
    transfer: null, // completed once the backbone is loaded (transfer/setup.ts)
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
    if (saved.architecture === 'transfer' && saved.fineTuneEpochs > 0 && options.epochs !== undefined && options.epochs !== saved.epochs) {
      throw new TrainOptionsError(`--epochs sets where a transfer run's head stage ends (epoch ${saved.epochs}), which a run with fine-tuning keeps; extend it with --fine-tune instead.`);
    }
    return {
      ...saved,
      epochs: options.epochs ?? saved.epochs,
      fineTuneEpochs: options.fineTune ?? saved.fineTuneEpochs ?? 0,
      earlyStopping: options.earlyStopping ?? saved.earlyStopping,
      microBatch: options.microBatch ?? saved.microBatch ?? null,
      transfer: saved.transfer ?? null,
    };
  }
  if (await exists(configPath)) {
    throw new TrainOptionsError(`${runDir} already holds a run. Use --resume to continue it, or choose another --out.`);
  }
  return resolveConfig(options);
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

/** The model being trained, with the views transfer stages need. */
interface ModelState {
  model: LayersModel;
  /** Transfer runs: views sharing the model's layers (transfer/model.ts); undefined for reference presets. */
  views: TransferModel | undefined;
  startEpoch: number;
  index: CheckpointIndex | undefined;
  /** Optimizer state of the last checkpoint, handed to the stage it belongs to. */
  optimizerWeights: { name: string; tensor: Tensor }[] | undefined;
}

async function initialState(runDir: string, config: RunConfig, numClasses: number, backbone: LoadedBackbone | undefined, resume: boolean): Promise<ModelState> {
  // A run killed before its first checkpoint resumes from the start.
  if (!resume || !(await exists(join(runDir, 'checkpoints', 'index.json')))) {
    if (backbone && config.transfer) {
      const views = buildFromBackbone({ backbone, transfer: config.transfer, imageSize: config.imageSize, numClasses, dropout: config.dropout, seed: config.seed });
      return { model: views.model, views, startEpoch: 1, index: undefined, optimizerWeights: undefined };
    }
    const model = buildModel({ ...config, numClasses, seed: config.seed });
    return { model, views: undefined, startEpoch: 1, index: undefined, optimizerWeights: undefined };
  }
  const index = await readIndex(join(runDir, 'checkpoints'));
  const last = await loadCheckpoint(join(runDir, 'checkpoints', index.last.dir));
  const views = config.transfer ? transferViews(last.model) : undefined;
  return { model: last.model, views, startEpoch: index.last.epoch + 1, index, optimizerWeights: last.optimizerWeights };
}

/** Loads the backbone of a transfer run (its checkpoint holds it once there is one: then it is not needed). */
async function prepareBackbone(runDir: string, config: RunConfig, options: TrainOptions, emit: (event: TrainEvent) => void): Promise<LoadedBackbone | undefined> {
  if (config.architecture !== 'transfer' || !config.backbone) return undefined;
  if (options.resume && (await exists(join(runDir, 'checkpoints', 'index.json')))) return undefined;
  const resolveOptions = {
    cacheDir: options.cacheDir ?? defaultCacheDir(),
    sha256: config.transfer?.backboneSha256 ?? options.backboneSha256,
    onProgress: (progress: DownloadProgress) => emit({ type: 'download', progress }),
  };
  // The backbone's own input size unless another one was asked for (or saved, on --resume).
  const askedSize = options.resume ? config.imageSize : options.imageSize;
  const backbone = await openBackbone(config.backbone, resolveOptions, askedSize);
  config.transfer ??= resolveTransferConfig(
    {
      backbone: config.backbone,
      backboneLayer: options.backboneLayer,
      normalize: options.normalize,
      unfreezeFrom: options.unfreezeFrom,
      fineTuneLearningRate: options.fineTuneLr ?? config.learningRate / 10,
      backboneSha256: options.backboneSha256,
    },
    backbone,
  );
  if (askedSize === undefined && backbone.inputSize !== null) config.imageSize = backbone.inputSize;
  return backbone;
}

/**
 * Features of every item of a split, computed once by the frozen backbone (transfer head stage). With
 * `mirror`, rows n..2n-1 hold the features of the items' mirror images and the labels repeat.
 */
async function featureRows(
  views: TransferModel,
  split: SplitData,
  contract: ModelContract,
  batchSize: number,
  mirror: boolean,
  onBatch: (n: number) => void,
): Promise<{ batches: BatchSource; labels: Int32Array }> {
  const width = views.features.outputs[0].shape[1] as number;
  const n = split.labels.length;
  const rows = new Float32Array((mirror ? 2 : 1) * n * width);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let first = 0; first < n; first += batchSize) {
    const indices = order.slice(first, first + batchSize);
    const batch = await makeBatch({ indices, labels: split.labels, pixels: split.pixels, contract });
    rows.set(extractFeatures(views.features, batch.x, batch.shape), first * width);
    if (mirror) rows.set(extractFeatures(views.features, batch.x, batch.shape, { mirror: true }), (n + first) * width);
    onBatch(indices.length);
  }
  const labels = mirror ? Int32Array.from({ length: 2 * n }, (_, i) => split.labels[i % n]) : split.labels;
  return { batches: rowBatches(rows, width, labels), labels };
}

/** What one stage trains and evaluates: the logits view, its inputs, and the model the validation runs. */
interface StageRunner {
  logits: LayersModel;
  train?: BatchSource;
  /** Labels of the training rows (cached features may hold each image twice: as is and mirrored). */
  trainLabels: ArrayLike<number>;
  val?: BatchSource;
  valModel: LayersModel;
}

export async function train(options: TrainOptions): Promise<TrainResult> {
  const emit = options.onEvent ?? (() => {});
  const runDir = resolve(options.out);
  const config = await prepareRunDir(runDir, options);
  const createdRunDir = !(await exists(runDir));
  if (options.download && !(await exists(config.data))) {
    await downloadDataset({ ...(options.download === true ? {} : options.download), out: config.data, onEvent: (event) => emit({ type: 'dataset-download', event }) });
  }
  const dataset = await loadDataset(config.data);
  const backend = await chooseBackend(options.backend ?? 'auto', { threads: options.threads });
  emit({ type: 'backend', report: backend });
  const backbone = await prepareBackbone(runDir, config, options, emit);
  const splits = await openSplits(dataset, config, {
    cacheBytes: (options.cacheMb ?? 2048) * 2 ** 20,
    spillDir: join(runDir, '.cache'),
    onWarning: (message) => emit({ type: 'warning', message }),
    onProgress: (done, total) => emit({ type: 'cache', done, total }),
  });
  const timings: StageTiming[] = [];
  let state: ModelState | undefined;
  try {
    emit({ type: 'dataset', splits });
    const contract = createContract({ labels: dataset.labels, imageSize: config.imageSize, normalization: config.transfer?.normalization });
    state = await initialState(runDir, config, contract.labels.length, backbone, options.resume ?? false);
    const { model, views } = state;
    if (views) {
      if (config.fineTuneEpochs > 0) checkUnfreezeLayer(model, config.transfer?.unfreezeFrom);
      keepBatchNormInInference(model);
      if (state.startEpoch === 1) {
        // A fresh head starts at the scale of its backbone's features, measured on the first training images.
        const probe = splits.train.labels.length > 0 ? Array.from({ length: Math.min(config.batchSize, splits.train.labels.length) }, (_, i) => i) : [];
        if (probe.length > 0) {
          const batch = await makeBatch({ indices: probe, labels: splits.train.labels, pixels: splits.train.pixels, contract });
          scaleHeadToFeatures(views, extractFeatures(views.features, batch.x, batch.shape));
        }
      }
      const backboneLayers = model.layers.length;
      emit({ type: 'backbone', name: config.backbone ?? '', source: backbone?.source ?? 'checkpoint', sha256: config.transfer?.backboneSha256 ?? '', cut: config.transfer?.backboneLayer ?? '', layers: backboneLayers, params: model.countParams() });
    }
    // Written once the data and the backbone are known to load, so a failed start leaves nothing behind;
    // rewritten on --resume, which may lengthen the run.
    await writeFileAtomic(join(runDir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
    if (options.resume) emit({ type: 'resume', epoch: state.startEpoch - 1 });
    const historyPath = join(runDir, 'history.json');
    const { startEpoch } = state;
    const history = (await readHistory(historyPath)).filter((r) => r.epoch < startEpoch);
    let index = state.index;
    const stages = planStages({ ...config, fineTuneLearningRate: config.transfer?.fineTuneLearningRate ?? null, cacheFeatures: options.cacheFeatures ?? true });
    const lastEpoch = stages[stages.length - 1].last;
    let features: { train: BatchSource; trainLabels: Int32Array; val: BatchSource } | undefined;
    let stopped = false;
    for (const stage of stages) {
      if (stopped || stage.last < state.startEpoch) continue;
      const first = Math.max(stage.first, state.startEpoch);
      const trainableParams = views ? setTrainable(model, stage.name === 'fine-tune' ? 'fine-tune' : 'head', config.transfer?.unfreezeFrom ?? undefined) : model.countParams();
      emit({ type: 'stage', stage: stage.name, first, last: stage.last, learningRate: Number(stage.learningRate.toPrecision(6)), trainableParams, cachedFeatures: stage.cachedFeatures });
      const optimizer = tf.train.adam(stage.learningRate);
      // The last checkpoint's optimizer state continues its own stage; a new stage starts a new optimizer.
      if (state.optimizerWeights && state.startEpoch - 1 >= stage.first && first === state.startEpoch) {
        await optimizer.setWeights(state.optimizerWeights);
        restoreAdamPowers(optimizer);
      }
      if (views && stage.cachedFeatures && !features) {
        const started = performance.now();
        const total = splits.train.labels.length + splits.val.labels.length;
        let done = 0;
        const onBatch = (n: number) => emit({ type: 'features', done: (done += n), total });
        const train = await featureRows(views, splits.train, contract, config.batchSize, config.mirrorFeatures, onBatch);
        const val = await featureRows(views, splits.val, contract, config.batchSize, false, onBatch);
        features = { train: train.batches, trainLabels: train.labels, val: val.batches };
        timings.push({ stage: 'features', seconds: (performance.now() - started) / 1000 });
      }
      const runner: StageRunner =
        views && stage.cachedFeatures && features
          ? { logits: views.headLogits, train: features.train, trainLabels: features.trainLabels, val: features.val, valModel: views.head }
          : { logits: views?.logits ?? logitsModel(model), trainLabels: splits.train.labels, valModel: model };
      // Only wasm has a hard memory ceiling; other backends run the whole batch unless asked otherwise.
      let microBatch: number | undefined;
      if (!runner.train) {
        const plan = planMicroBatch(model, config.batchSize, config.microBatch, backend.name === 'wasm' ? WASM_PASS_BUDGET_BYTES : Infinity);
        emit({ type: 'micro-batch', plan });
        microBatch = plan.size;
      }
      const stageStarted = performance.now();
      for (let epoch = first; epoch <= stage.last; epoch++) {
        // Early stopping ends the run; in a transfer run it watches the last stage only.
        if (stage.last === lastEpoch && config.earlyStopping > 0 && index && epoch - 1 - index.best.epoch >= config.earlyStopping) {
          emit({ type: 'early-stop', epoch: epoch - 1, patience: config.earlyStopping });
          stopped = true;
          break;
        }
        const started = performance.now();
        const steps = Math.ceil(runner.trainLabels.length / config.batchSize);
        emit({ type: 'epoch-start', epoch, epochs: lastEpoch, steps });
        const fit = await trainEpoch({
          epoch,
          seed: config.seed,
          model,
          logits: runner.logits,
          optimizer,
          pixels: splits.train.pixels,
          labels: runner.trainLabels,
          contract,
          batchSize: config.batchSize,
          microBatch,
          augment: config.augment,
          batches: runner.train,
          onStep: (step, total, running) => emit({ type: 'step', epoch, step, steps: total, ...running }),
        });
        const val = await evaluateModel({ model: runner.valModel, ...splits.val, contract, batchSize: config.batchSize, batches: runner.val });
        const record: EpochRecord = {
          epoch,
          loss: fit.loss,
          accuracy: fit.accuracy,
          valLoss: val.loss,
          valAccuracy: val.accuracy,
          seconds: (performance.now() - started) / 1000,
          learningRate: stage.learningRate,
          ...(views ? { stage: stage.name } : {}),
        };
        history.push(record);
        // Order matters for kill -9: history first (a resume trims epochs past `last`), then the
        // checkpoint directory, then the index that makes it `last`.
        await writeHistory(historyPath, history);
        const dir = await saveCheckpoint({
          checkpointsDir: join(runDir, 'checkpoints'),
          model,
          optimizer,
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
      optimizer.dispose();
      const seconds = (performance.now() - stageStarted) / 1000;
      timings.push({ stage: stage.name, seconds });
      emit({ type: 'stage-end', stage: stage.name, seconds });
    }
    if (!index) throw new TrainOptionsError(`Nothing to train: the run is already at epoch ${lastEpoch}. Raise --epochs to continue.`);
    let test: EvaluationResult | null = null;
    if (splits.test.labels.length > 0) {
      const best = await loadCheckpoint(join(runDir, 'checkpoints', index.best.dir));
      best.optimizerWeights.forEach((w) => w.tensor.dispose());
      test = await evaluateModel({ model: best.model, ...splits.test, contract, batchSize: config.batchSize });
      best.model.dispose();
      await writeEvaluation(join(runDir, 'evaluation'), 'test-best', test, contract.labels);
      emit({ type: 'test', result: test });
    }
    return { runDir, config, history, best: index.best, test, timings };
  } finally {
    state?.optimizerWeights?.forEach((w) => w.tensor.dispose());
    state?.model.dispose();
    await splits.close();
    await rm(join(runDir, '.cache'), { recursive: true, force: true });
    if (createdRunDir && !(await exists(join(runDir, 'config.json')))) await rm(runDir, { recursive: true, force: true });
  }
}
