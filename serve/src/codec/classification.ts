// Triton's classification extension (server/docs/protocol/extension_classification.md): an output
// requested with "parameters": {"classification": k} comes back as a BYTES tensor [batch, k] of
// "<value>:<index>:<label>" strings, the k highest values first. The ranking is the runtime's own.
import { topPredictions } from '@pets/runtime';
import { badRequest } from '../errors.js';

/** The requested count, checked: a positive integer, at most the number of classes. */
export function classificationCount(value: unknown, output: string, classes: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw badRequest(`Output "${output}": "classification" must be a positive integer; got ${JSON.stringify(value)}.`);
  }
  return Math.min(value, classes);
}

/** The shortest decimal text that reads back to the same float32 (3.3, not 3.299999952316284). */
export function float32Text(value: number): string {
  for (let digits = 1; digits < 9; digits++) {
    const text = String(Number(value.toPrecision(digits)));
    if (Math.fround(Number(text)) === value) return text;
  }
  return String(Number(value.toPrecision(9)));
}

/** One image's top-k as "value:index:label", the value as float32Text() writes it. */
export function classificationStrings(values: Float32Array, labels: string[], k: number): string[] {
  return topPredictions(values, labels, k).map((p) => `${float32Text(p.probability)}:${p.index}:${p.label}`);
}
