// evaluateRun(): a run's checkpoint on one split of the run's dataset (the same split training made),
// with the results written under <run>/evaluation/.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { chooseBackend, type BackendReport, type BackendRequest } from './backend/index.js';
import { CheckpointError, loadCheckpoint, resolveCheckpoint } from './checkpoint.js';
import { loadDataset } from './data/dataset.js';
import { openSplits, SPLIT_NAMES, type SplitName } from './data/splits-loader.js';
import { evaluateModel, type EvaluationResult } from './evaluate.js';
import { writeEvaluation, type EvaluationFiles } from './report/evaluation-files.js';
import type { RunConfig } from './train.js';

export { SPLIT_NAMES, type SplitName };

/** Options of evaluateRun(). */
export interface EvaluateRunOptions {
  /** Run directory written by train(). */
  run: string;
  /** best, last or epoch-N. Default best. */
  checkpoint?: string;
  /** Split of the run's dataset. Default test. */
  split?: SplitName;
  /** Dataset root; default the one the run trained on. */
  data?: string;
  /** tfjs backend. Default auto. */
  backend?: BackendRequest;
  /** Memory for decoded pixels in MiB. Default 2048. */
  cacheMb?: number;
  onWarning?: (message: string) => void;
}

export interface EvaluateRunResult {
  result: EvaluationResult;
  files: EvaluationFiles;
  backend: BackendReport;
  labels: string[];
}

export async function evaluateRun(options: EvaluateRunOptions): Promise<EvaluateRunResult> {
  const runDir = resolve(options.run);
  const split = options.split ?? 'test';
  if (!SPLIT_NAMES.includes(split)) throw new RangeError(`Unsupported split "${split}". Expected one of: ${SPLIT_NAMES.join(', ')}.`);
  const which = options.checkpoint ?? 'best';
  let config: RunConfig;
  try {
    config = JSON.parse(await readFile(join(runDir, 'config.json'), 'utf8')) as RunConfig;
  } catch (error) {
    throw new CheckpointError(`${runDir} is not a pets-train run (cannot read config.json: ${(error as Error).message}).`);
  }
  const backend = await chooseBackend(options.backend ?? 'auto');
  const checkpoint = await loadCheckpoint(await resolveCheckpoint(runDir, which));
  checkpoint.optimizerWeights.forEach((w) => w.tensor.dispose());
  const dataset = await loadDataset(options.data ?? config.data);
  const { contract } = checkpoint;
  if (dataset.labels.join('\n') !== contract.labels.join('\n')) {
    throw new CheckpointError(`The dataset's ${dataset.labels.length} labels differ from the checkpoint's ${contract.labels.length}; evaluate on the dataset the run trained on.`);
  }
  const splits = await openSplits(dataset, { ...config, imageSize: contract.imageSize.height }, {
    cacheBytes: (options.cacheMb ?? 2048) * 2 ** 20,
    spillDir: join(runDir, '.cache-evaluate'),
    only: [split],
    onWarning: options.onWarning,
  });
  try {
    const result = await evaluateModel({ model: checkpoint.model, ...splits[split], contract, batchSize: config.batchSize });
    const files = await writeEvaluation(join(runDir, 'evaluation'), `${split}-${which}`, result, contract.labels);
    return { result, files, backend, labels: contract.labels };
  } finally {
    checkpoint.model.dispose();
    await splits.close();
  }
}
