// Evaluation of a model on a split: loss, accuracy, per-class accuracy and the confusion matrix.
import type { ModelContract } from '@pets/runtime/contract';
import { tf, type LayersModel, type Tensor } from './backend/tf.js';
import { batchIndices, makeBatch, type BatchSource, type PixelSource } from './batches.js';

/** Probabilities are clipped to [EPSILON, 1] before the log, as Keras' categorical cross-entropy does. */
const EPSILON = 1e-7;

export interface ClassResult {
  label: string;
  count: number;
  correct: number;
  /** correct / count; null when the split has no image of this class. */
  accuracy: number | null;
}

export interface EvaluationResult {
  count: number;
  /** Mean categorical cross-entropy. */
  loss: number;
  accuracy: number;
  perClass: ClassResult[];
  /** confusion[true][predicted] counts. */
  confusion: number[][];
  /** Per image: true class, predicted class and its probability. */
  predictions: { label: number; predicted: number; probability: number }[];
}

export interface EvaluateArgs {
  model: LayersModel;
  pixels: PixelSource;
  /** Class per loaded item; items 0..labels.length-1 are evaluated. */
  labels: ArrayLike<number>;
  contract: ModelContract;
  batchSize: number;
  /** Inputs other than the pixels' (a transfer head evaluated on cached features). Default: makeBatch from pixels. */
  batches?: BatchSource;
  onProgress?: (done: number, total: number) => void;
}

export async function evaluateModel(args: EvaluateArgs): Promise<EvaluationResult> {
  const { contract } = args;
  const classes = contract.labels.length;
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  const predictions: EvaluationResult['predictions'] = [];
  let lossSum = 0;
  const order = Array.from({ length: args.labels.length }, (_, i) => i);
  for (const indices of batchIndices(order, args.batchSize)) {
    const batch = args.batches ? await args.batches(indices) : await makeBatch({ indices, labels: args.labels, pixels: args.pixels, contract });
    const probs = tf.tidy(() => (args.model.predict(tf.tensor(batch.x, batch.shape)) as Tensor).dataSync());
    for (let i = 0; i < indices.length; i++) {
      const row = probs.subarray(i * classes, (i + 1) * classes);
      let predicted = 0;
      for (let c = 1; c < classes; c++) if (row[c] > row[predicted]) predicted = c;
      const label = batch.labels[i];
      lossSum -= Math.log(Math.max(row[label], EPSILON));
      confusion[label][predicted]++;
      predictions.push({ label, predicted, probability: row[predicted] });
    }
    args.onProgress?.(predictions.length, order.length);
  }
  const count = predictions.length;
  const correct = predictions.filter((p) => p.label === p.predicted).length;
  const perClass = contract.labels.map((label, c) => {
    const total = confusion[c].reduce((a, b) => a + b, 0);
    return { label, count: total, correct: confusion[c][c], accuracy: total ? confusion[c][c] / total : null };
  });
  return { count, loss: count ? lossSum / count : NaN, accuracy: count ? correct / count : NaN, perClass, confusion, predictions };
}

/** The confusion matrix as CSV: a header of predicted labels, one row per true label. */
export function confusionCsv(result: EvaluationResult, labels: string[]): string {
  const quote = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = [['true\\predicted', ...labels].map(quote).join(',')];
  result.confusion.forEach((row, i) => lines.push([quote(labels[i]), ...row.map(String)].join(',')));
  return `${lines.join('\n')}\n`;
}
