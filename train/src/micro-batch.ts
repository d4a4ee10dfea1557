// How many images one forward and backward pass takes: the user's --micro-batch, or, where memory is
// bounded (tfjs' wasm heap cannot grow past 4 GiB), the fewest equal passes whose estimated memory fits.
import type { LayersModel } from './backend/tf.js';

/** The wasm heap's 4 GiB less room for allocator fragmentation and the data of the next batch. */
export const WASM_PASS_BUDGET_BYTES = 3 * 2 ** 30;

/**
 * Peak heap per image of a training pass, as a multiple of the bytes of all layer outputs for one
 * image. Measured on wasm for model3 at 224 (train/scripts/bench-train.ts --memory): about 4.9 (a pass
 * keeps each layer's output and BatchNormalization's intermediates for the gradient, and the backward
 * pass allocates as much again); rounded up so the estimate errs on the safe side.
 */
const PASS_BYTES_PER_OUTPUT_BYTE = 5.5;

/** Weights, gradients and Adam's two moments: four float32 copies of the parameters. */
const BYTES_PER_PARAMETER = 16;

export interface MicroBatchPlan {
  /** Images per pass (the last pass of a batch may take fewer). */
  size: number;
  /** Passes per full batch. */
  passes: number;
  /** Estimated peak memory of one pass over the whole batch, in bytes. */
  wholeBatchBytes: number;
  /** Why: the user asked for it, the whole batch fits, or it was split to fit the budget. */
  reason: 'requested' | 'fits' | 'split';
}

const outputElements = (shape: unknown): number =>
  Array.isArray(shape) && shape.every((d) => d === null || typeof d === 'number')
    ? (shape as (number | null)[]).slice(1).reduce<number>((a, d) => a * (d ?? 1), 1)
    : Array.isArray(shape)
      ? shape.reduce<number>((a, s) => a + outputElements(s), 0)
      : 0;

/** Estimated peak memory in bytes of one training pass over `images` images. */
export function estimatePassBytes(model: LayersModel, images: number): number {
  const perImage = model.layers.reduce((sum, layer) => sum + outputElements(layer.outputShape), 0) * 4;
  return model.countParams() * BYTES_PER_PARAMETER + images * perImage * PASS_BYTES_PER_OUTPUT_BYTE;
}

/**
 * The pass size for batches of `batchSize`: `requested` when given (at most the batch), else the whole
 * batch when its estimate fits `budgetBytes`, else the batch split into the fewest near-equal passes
 * that fit (one image per pass at the least).
 */
export function planMicroBatch(model: LayersModel, batchSize: number, requested: number | null | undefined, budgetBytes: number): MicroBatchPlan {
  if (requested !== null && requested !== undefined && !(Number.isInteger(requested) && requested > 0)) {
    throw new RangeError(`"microBatch" must be a positive integer; got ${requested}.`);
  }
  const wholeBatchBytes = estimatePassBytes(model, batchSize);
  const plan = (size: number, reason: MicroBatchPlan['reason']): MicroBatchPlan => ({ size, passes: Math.ceil(batchSize / size), wholeBatchBytes, reason });
  if (requested) return plan(Math.min(requested, batchSize), 'requested');
  if (wholeBatchBytes <= budgetBytes) return plan(batchSize, 'fits');
  let passes = 2;
  while (passes < batchSize && estimatePassBytes(model, Math.ceil(batchSize / passes)) > budgetBytes) passes++;
  return plan(Math.ceil(batchSize / passes), 'split');
}
