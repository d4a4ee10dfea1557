// Assembles model input batches from cached 8-bit pixels: optional augmentation, then the contract's
// normalization (the same function the runtime uses), into one NHWC Float32Array.
import { inputShape, type ModelContract } from '@pets/runtime/contract';
import { normalize } from '@pets/runtime/preprocess';
import { applyAugment, sampleAugment, type AugmentConfig } from './augment.js';
import type { Rng } from './util/random.js';

/** Gives the model-sized RGB pixels of dataset items by position in the loaded list. */
export type PixelSource = (indices: number[]) => Promise<Uint8Array[]>;

export interface Batch {
  /** [n, H, W, 3] normalized input (or [n, F] cached features). */
  x: Float32Array;
  shape: number[];
  /** Class index per image. */
  labels: Int32Array;
}

export interface BatchArgs {
  indices: number[];
  labels: ArrayLike<number>;
  pixels: PixelSource;
  contract: ModelContract;
  /** Augment with this config, drawing from rng; none when absent. */
  augment?: { config: AugmentConfig; rng: Rng };
}

export async function makeBatch(args: BatchArgs): Promise<Batch> {
  const { indices, contract } = args;
  const shape = inputShape(contract, indices.length);
  const { width, height } = contract.imageSize;
  const perImage = width * height * 3;
  const x = new Float32Array(indices.length * perImage);
  const scratch = args.augment ? new Float32Array(perImage) : undefined;
  const images = await args.pixels(indices);
  images.forEach((rgb, i) => {
    const source = args.augment && scratch ? applyAugment(rgb, width, height, sampleAugment(args.augment.config, args.augment.rng), scratch) : rgb;
    normalize(source, contract, x, i * perImage);
  });
  const labels = Int32Array.from(indices, (index) => args.labels[index]);
  return { x, shape, labels };
}

/** Gives the model input of dataset items by position in the loaded list (images, or cached features). */
export type BatchSource = (indices: number[]) => Promise<Batch>;

/** Batches of precomputed rows (e.g. a frozen backbone's features): rows[i] is item i's input. */
export function rowBatches(rows: Float32Array, width: number, labels: ArrayLike<number>): BatchSource {
  return async (indices) => {
    const x = new Float32Array(indices.length * width);
    indices.forEach((item, i) => x.set(rows.subarray(item * width, (item + 1) * width), i * width));
    return { x, shape: [indices.length, width], labels: Int32Array.from(indices, (index) => labels[index]) };
  };
}

/** Splits 0..n-1 (in the given order) into consecutive batches of at most batchSize. */
export function batchIndices(order: number[], batchSize: number): number[][] {
  const batches: number[][] = [];
  for (let i = 0; i < order.length; i += batchSize) batches.push(order.slice(i, i + batchSize));
  return batches;
}
