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

/**
 * One image's top-k as "value:index:label". The value is the float32 output as JavaScript prints it
 * (shortest text that reads back to the same number), not Triton's six decimals.
 */
export function classificationStrings(values: Float32Array, labels: string[], k: number): string[] {
  return topPredictions(values, labels, k).map((p) => `${p.probability}:${p.index}:${p.label}`);
}
