// Writes an evaluation to disk: JSON (metrics, per-class accuracy, confusion), confusion CSV and heatmap PNG.
import { join } from 'node:path';
import type { EvaluationResult } from '../evaluate.js';
import { confusionCsv } from '../evaluate.js';
import { writeFileAtomic } from '../util/atomic.js';
import { renderConfusionMatrix } from './plots.js';

export interface EvaluationFiles {
  json: string;
  csv: string;
  png: string;
}

/** Writes `<name>.json`, `<name>-confusion.csv` and `<name>-confusion.png` into dir. */
export async function writeEvaluation(dir: string, name: string, result: EvaluationResult, labels: string[]): Promise<EvaluationFiles> {
  const files = { json: join(dir, `${name}.json`), csv: join(dir, `${name}-confusion.csv`), png: join(dir, `${name}-confusion.png`) };
  const { predictions: _predictions, ...summary } = result;
  await writeFileAtomic(files.json, `${JSON.stringify({ ...summary, labels }, null, 2)}\n`);
  await writeFileAtomic(files.csv, confusionCsv(result, labels));
  const title = `Confusion matrix (${name}): accuracy ${(result.accuracy * 100).toFixed(1)}% on ${result.count} images`;
  await writeFileAtomic(files.png, await renderConfusionMatrix(result.confusion, labels, { title }));
  return files;
}
