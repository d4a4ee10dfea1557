// Checkpoints: one directory per saved epoch, created atomically, plus an index naming `best` and `last`.
// A checkpoint directory holds the tfjs Layers model (model.json + weights.bin, the format
// tf.loadLayersModel reads), the optimizer state, the input contract and what produced it.
import { createHash } from 'node:crypto';
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseContract, serializeContract, type ModelContract } from '@pets/runtime/contract';
import { tf, tfl, type LayersModel, type NamedTensorMap, type Optimizer, type Tensor, type io } from './backend/tf.js';
import { writeDirectoryAtomic, writeFileAtomic } from './util/atomic.js';
import type { EpochMetrics } from './history.js';

export const CHECKPOINT_FILES = {
  model: 'model.json',
  weights: 'weights.bin',
  optimizer: 'optimizer.json',
  optimizerWeights: 'optimizer.bin',
  contract: 'contract.json',
  info: 'checkpoint.json',
} as const;

/** What checkpoint.json records. */
export interface CheckpointInfo {
  epoch: number;
  metrics: EpochMetrics;
  /** sha256 of weights.bin. */
  weightsSha256: string;
  backend: string;
  createdAt: string;
  /** The run's resolved configuration (as in the run's config.json), so a checkpoint stands alone. */
  config?: Record<string, unknown>;
}

/** checkpoints/index.json: which directories are `best` and `last`. */
export interface CheckpointIndex {
  best: { dir: string; epoch: number; valAccuracy: number; valLoss: number };
  last: { dir: string; epoch: number };
}

/** Raised when a checkpoint is missing or unreadable; the message says which file and what to do. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

export const checkpointDirName = (epoch: number): string => `epoch-${String(epoch).padStart(4, '0')}`;

/** True when `a` beats `b`: higher validation accuracy, ties broken by lower validation loss. */
export function isBetter(a: { valAccuracy: number; valLoss: number }, b: { valAccuracy: number; valLoss: number } | undefined): boolean {
  if (!b) return true;
  if (a.valAccuracy !== b.valAccuracy) return a.valAccuracy > b.valAccuracy;
  return a.valLoss < b.valLoss;
}

async function modelArtifacts(model: LayersModel): Promise<io.ModelArtifacts> {
  let saved: io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!saved) throw new Error('tfjs did not hand over the model artifacts');
  return saved;
}

const toBytes = (data: io.WeightData): Uint8Array => new Uint8Array(tf.io.CompositeArrayBuffer.join(data));

export interface SaveCheckpointArgs {
  checkpointsDir: string;
  model: LayersModel;
  optimizer: Optimizer;
  contract: ModelContract;
  epoch: number;
  metrics: EpochMetrics;
  backend: string;
  config?: Record<string, unknown>;
}

/** Writes checkpoints/epoch-NNNN atomically and returns its directory name. */
export async function saveCheckpoint(args: SaveCheckpointArgs): Promise<string> {
  const dir = checkpointDirName(args.epoch);
  const artifacts = await modelArtifacts(args.model);
  const weights = toBytes(artifacts.weightData ?? new ArrayBuffer(0));
  // Adam names its first and second moments after the same variable: number them to keep both.
  const optimizerWeights = (await args.optimizer.getWeights()).map((w, i) => ({ name: `${i}:${w.name}`, tensor: w.tensor }));
  const optimizerState = await tf.io.encodeWeights(optimizerWeights);
  const info: CheckpointInfo = {
    epoch: args.epoch,
    metrics: args.metrics,
    weightsSha256: createHash('sha256').update(weights).digest('hex'),
    backend: args.backend,
    createdAt: new Date().toISOString(),
    ...(args.config ? { config: args.config } : {}),
  };
  const modelJson = {
    format: 'layers-model',
    generatedBy: artifacts.generatedBy,
    convertedBy: null,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: [CHECKPOINT_FILES.weights], weights: artifacts.weightSpecs }],
  };
  const target = join(args.checkpointsDir, dir);
  // An epoch is saved again only when a run killed before indexing it resumes; the index never names it.
  await rm(target, { recursive: true, force: true });
  await writeDirectoryAtomic(target, async (tmp) => {
    await writeFileAtomic(join(tmp, CHECKPOINT_FILES.model), JSON.stringify(modelJson));
    await writeFileAtomic(join(tmp, CHECKPOINT_FILES.weights), weights);
    await writeFileAtomic(join(tmp, CHECKPOINT_FILES.optimizer), JSON.stringify({ specs: optimizerState.specs }));
    await writeFileAtomic(join(tmp, CHECKPOINT_FILES.optimizerWeights), toBytes(optimizerState.data));
    await writeFileAtomic(join(tmp, CHECKPOINT_FILES.contract), serializeContract(args.contract));
    await writeFileAtomic(join(tmp, CHECKPOINT_FILES.info), `${JSON.stringify(info, null, 2)}\n`);
  });
  return dir;
}

/** A standalone ArrayBuffer holding exactly the bytes of a Buffer (which may view a larger pool). */
function arrayBufferOf(bytes: Buffer): ArrayBuffer {
  return new Uint8Array(bytes).buffer;
}

async function readChecked(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new CheckpointError(`Cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`);
  }
}

function parseJson<T>(bytes: Buffer, path: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (error) {
    throw new CheckpointError(`${path} is not valid JSON (${(error as Error).message}); the checkpoint is damaged.`);
  }
}

export async function readIndex(checkpointsDir: string): Promise<CheckpointIndex> {
  const path = join(checkpointsDir, 'index.json');
  return parseJson<CheckpointIndex>(await readChecked(path, 'checkpoint index'), path);
}

/** Points `best`/`last` at new directories (atomic), then removes directories no longer referenced. */
export async function updateIndex(checkpointsDir: string, index: CheckpointIndex, keepAll: boolean): Promise<void> {
  await writeFileAtomic(join(checkpointsDir, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
  if (keepAll) return;
  const keep = new Set([index.best.dir, index.last.dir]);
  for (const entry of await readdir(checkpointsDir)) {
    if (/^epoch-\d+$/.test(entry) && !keep.has(entry)) await rm(join(checkpointsDir, entry), { recursive: true, force: true });
  }
}

/** Resolves 'best', 'last' or 'epoch-N' to a checkpoint directory. */
export async function resolveCheckpoint(runDir: string, which: string): Promise<string> {
  const checkpointsDir = join(runDir, 'checkpoints');
  const epochMatch = /^epoch-(\d+)$/.exec(which);
  if (epochMatch) return join(checkpointsDir, checkpointDirName(Number(epochMatch[1])));
  if (which !== 'best' && which !== 'last') {
    throw new RangeError(`Unsupported checkpoint "${which}". Expected one of: best, last, epoch-N.`);
  }
  const index = await readIndex(checkpointsDir);
  return join(checkpointsDir, index[which].dir);
}

export interface LoadedCheckpoint {
  model: LayersModel;
  contract: ModelContract;
  info: CheckpointInfo;
  /** The optimizer state, to hand to optimizer.setWeights(); dispose the tensors when unused. */
  optimizerWeights: { name: string; tensor: Tensor }[];
}

export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  const file = (name: string) => join(dir, name);
  const modelJson = parseJson<{ modelTopology: object; weightsManifest: { weights: io.WeightsManifestEntry[] }[] }>(
    await readChecked(file(CHECKPOINT_FILES.model), 'model'),
    file(CHECKPOINT_FILES.model),
  );
  const weights = await readChecked(file(CHECKPOINT_FILES.weights), 'weights');
  const info = parseJson<CheckpointInfo>(await readChecked(file(CHECKPOINT_FILES.info), 'checkpoint info'), file(CHECKPOINT_FILES.info));
  const sha = createHash('sha256').update(weights).digest('hex');
  if (sha !== info.weightsSha256) {
    throw new CheckpointError(`${file(CHECKPOINT_FILES.weights)} does not match its recorded sha256; the checkpoint is damaged.`);
  }
  const contract = parseContract((await readChecked(file(CHECKPOINT_FILES.contract), 'contract')).toString('utf8'));
  const weightData = arrayBufferOf(weights);
  let model: LayersModel;
  try {
    model = await tfl.loadLayersModel(
      tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: modelJson.weightsManifest[0].weights, weightData }),
    );
  } catch (error) {
    throw new CheckpointError(`Cannot load the model in ${dir}: ${(error as Error).message}`);
  }
  const optimizerJson = parseJson<{ specs: io.WeightsManifestEntry[] }>(
    await readChecked(file(CHECKPOINT_FILES.optimizer), 'optimizer state'),
    file(CHECKPOINT_FILES.optimizer),
  );
  const optimizerBytes = await readChecked(file(CHECKPOINT_FILES.optimizerWeights), 'optimizer weights');
  const decoded: NamedTensorMap = tf.io.decodeWeights(arrayBufferOf(optimizerBytes), optimizerJson.specs);
  const optimizerWeights = optimizerJson.specs.map((spec) => ({ name: spec.name.replace(/^\d+:/, ''), tensor: decoded[spec.name] }));
  return { model, contract, info, optimizerWeights };
}
