// One training epoch: seeded shuffle, batches (augmented when configured), Adam steps on the softmax
// cross-entropy of the logits (a batch's gradients optionally accumulated over micro-batches), running
// loss and accuracy.
import type { ModelContract } from '@pets/runtime/contract';
import { tf, type LayersModel, type Optimizer, type Scalar, type Tensor, type Variable } from './backend/tf.js';
import type { AugmentConfig } from './augment.js';
import { batchIndices, makeBatch, type Batch, type BatchSource, type PixelSource } from './batches.js';
import { createRng, deriveSeed } from './util/random.js';

/** Seeds derived per epoch, so a run resumed at an epoch boundary draws exactly what it would have. */
const STREAM = { shuffle: 1, augment: 2, dropout: 3 } as const;

export interface StepResult {
  loss: number;
  correct: number;
}

/** Trainable variables of a model, in a fixed order (the optimizer's state follows it). */
export function trainableVariables(model: LayersModel): Variable[] {
  return model.trainableWeights.map((w) => w.read() as Variable);
}

export interface StepOptions {
  /**
   * Images per forward and backward pass. A larger batch is split into passes of this many (the last may
   * be smaller) whose gradients, each scaled by its share of the batch, are summed into one optimizer
   * step: the same step as one pass up to float32 summation order, except that BatchNormalization
   * normalizes by each pass's own statistics and updates its moving statistics once per pass (as every
   * gradient-accumulation setup does). Default: the whole batch in one pass.
   */
  microBatch?: number;
  /** Called before each forward pass with its index (trainEpoch seeds dropout there). */
  beforePass?: (pass: number) => void;
}

/** Forward and backward over batch rows [start, end); the loss is the mean over those rows. */
function gradientPass(logits: LayersModel, variables: Variable[], batch: Batch, [start, end]: [number, number], classes: number): StepResult & { grads: Tensor[] } {
  return tf.tidy(() => {
    const [n, ...image] = batch.shape;
    const perImage = batch.x.length / n;
    const whole = start === 0 && end === n;
    const x = tf.tensor(whole ? batch.x : batch.x.subarray(start * perImage, end * perImage), [end - start, ...image]);
    const labels = tf.tensor1d(whole ? batch.labels : batch.labels.subarray(start, end), 'int32');
    let out: Tensor | undefined;
    const { value, grads } = tf.variableGrads(() => {
      out = tf.keep(logits.apply(x, { training: true }) as Tensor);
      return tf.losses.softmaxCrossEntropy(tf.oneHot(labels, classes), out) as Scalar;
    }, variables);
    const kept = out as Tensor;
    const correct = tf.sum(tf.cast(tf.equal(tf.argMax(kept, -1), labels), 'int32'));
    const result = { loss: value.dataSync()[0], correct: correct.dataSync()[0], grads: variables.map((v) => tf.keep(grads[v.name])) };
    kept.dispose(); // kept out of variableGrads' scope, so tidy would not release it
    return result;
  });
}

/**
 * One optimizer step on a batch. `logits` is a model sharing weights with the trained one whose output
 * is the pre-softmax layer; computing the loss from logits is the numerically stable form. `loss` is the
 * batch mean.
 */
export function trainStep(
  logits: LayersModel,
  optimizer: Optimizer,
  variables: Variable[],
  batch: Batch,
  classes: number,
  options: StepOptions = {},
): StepResult {
  const n = batch.labels.length;
  const size = options.microBatch ?? n;
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`"microBatch" must be a positive integer; got ${size}.`);
  let sum: Tensor[] | undefined;
  let loss = 0;
  let correct = 0;
  try {
    for (let start = 0, pass = 0; start < n; start += size, pass++) {
      const end = Math.min(n, start + size);
      options.beforePass?.(pass);
      const result = gradientPass(logits, variables, batch, [start, end], classes);
      correct += result.correct;
      if (end - start === n) {
        [sum, loss] = [result.grads, result.loss];
        break;
      }
      const share = (end - start) / n;
      loss += result.loss * share;
      const scaled = tf.tidy(() => result.grads.map((g, i) => (sum ? tf.add(sum[i], tf.mul(g, share)) : tf.mul(g, share))));
      tf.dispose([...result.grads, ...(sum ?? [])]);
      sum = scaled;
    }
    const grads = sum as Tensor[];
    optimizer.applyGradients(Object.fromEntries(variables.map((v, i) => [v.name, grads[i]])));
    return { loss, correct };
  } finally {
    if (sum) tf.dispose(sum);
  }
}

/** Raised when one pass does not fit in the backend's memory; the message says how to make it fit. */
export class BatchMemoryError extends Error {
  override name = 'BatchMemoryError';
}

const OUT_OF_MEMORY = /out of memory|memory access out of bounds|\bOOM\b|Cannot enlarge memory|Array buffer allocation failed|could not allocate|Invalid typed array length|allocation failed/i;

function guardMemory<T>(step: () => T, batchSize: number, contract: ModelContract, microBatch: number | undefined): T {
  try {
    return step();
  } catch (error) {
    if (!OUT_OF_MEMORY.test(String((error as Error)?.message ?? error))) throw error;
    const { height, width } = contract.imageSize;
    const pass = Math.min(batchSize, microBatch ?? batchSize);
    throw new BatchMemoryError(
      `A pass of ${pass} images at ${width}x${height} does not fit in memory (${(error as Error).message.split('\n')[0]}); split batches into smaller passes with --micro-batch (e.g. ${Math.max(1, Math.ceil(pass / 2))}), or lower --batch-size or --image-size.`,
      { cause: error },
    );
  }
}

export interface EpochArgs {
  epoch: number;
  seed: number;
  model: LayersModel;
  logits: LayersModel;
  optimizer: Optimizer;
  pixels: PixelSource;
  labels: ArrayLike<number>;
  contract: ModelContract;
  batchSize: number;
  /** Images per forward and backward pass (StepOptions.microBatch). Default: the whole batch. */
  microBatch?: number;
  augment: AugmentConfig | null;
  /** Inputs other than the pixels' (a transfer head trained on cached features). Default: makeBatch from pixels. */
  batches?: BatchSource;
  onStep?: (step: number, steps: number, running: { loss: number; accuracy: number }) => void;
}

/** Trains one epoch over all items; returns the mean loss and accuracy over its batches. */
export async function trainEpoch(args: EpochArgs): Promise<{ loss: number; accuracy: number }> {
  const { contract } = args;
  const order = createRng(deriveSeed(args.seed, args.epoch, STREAM.shuffle)).shuffle(
    Array.from({ length: args.labels.length }, (_, i) => i),
  );
  const augmentRng = createRng(deriveSeed(args.seed, args.epoch, STREAM.augment));
  const dropoutRng = createRng(deriveSeed(args.seed, args.epoch, STREAM.dropout));
  const dropouts = args.model.layers.filter((layer) => layer.getClassName() === 'Dropout');
  const variables = trainableVariables(args.logits);
  const batches = batchIndices(order, args.batchSize);
  let lossSum = 0;
  let correct = 0;
  let seen = 0;
  for (const [step, indices] of batches.entries()) {
    const batch = args.batches ? await args.batches(indices) : await makeBatch({
      indices,
      labels: args.labels,
      pixels: args.pixels,
      contract,
      augment: args.augment ? { config: args.augment, rng: augmentRng } : undefined,
    });
    // tfjs' Dropout reads its seed at call time; unseeded it would draw from Math.random. One seed per
    // pass, so that the passes of a split batch draw different masks.
    const beforePass = () => {
      for (const layer of dropouts) (layer as unknown as { seed?: number }).seed = dropoutRng.int(2 ** 31);
    };
    const options = { microBatch: args.microBatch, beforePass };
    const result = guardMemory(() => trainStep(args.logits, args.optimizer, variables, batch, contract.labels.length, options), indices.length, contract, args.microBatch);
    lossSum += result.loss * indices.length;
    correct += result.correct;
    seen += indices.length;
    args.onStep?.(step + 1, batches.length, { loss: lossSum / seen, accuracy: correct / seen });
  }
  for (const layer of dropouts) (layer as unknown as { seed?: number }).seed = undefined;
  return { loss: lossSum / seen, accuracy: correct / seen };
}
