// One training epoch: seeded shuffle, batches (augmented when configured), Adam steps on the softmax
// cross-entropy of the logits, running loss and accuracy.
import type { ModelContract } from '@pets/runtime/contract';
import { tf, type LayersModel, type Optimizer, type Scalar, type Tensor, type Variable } from './backend/tf.js';
import type { AugmentConfig } from './augment.js';
import { batchIndices, makeBatch, type Batch, type PixelSource } from './batches.js';
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

/**
 * One optimizer step on a batch. `logits` is a model sharing weights with the trained one whose output
 * is the pre-softmax layer; computing the loss from logits is the numerically stable form.
 */
export function trainStep(logits: LayersModel, optimizer: Optimizer, variables: Variable[], batch: Batch, classes: number): StepResult {
  return tf.tidy(() => {
    const x = tf.tensor4d(batch.x, batch.shape);
    const y = tf.oneHot(tf.tensor1d(batch.labels, 'int32'), classes);
    let out: Tensor | undefined;
    const { value, grads } = tf.variableGrads(() => {
      out = tf.keep(logits.apply(x, { training: true }) as Tensor);
      return tf.losses.softmaxCrossEntropy(y, out) as Scalar;
    }, variables);
    optimizer.applyGradients(grads);
    const kept = out as Tensor;
    const correct = tf.sum(tf.cast(tf.equal(tf.argMax(kept, -1), tf.tensor1d(batch.labels, 'int32')), 'int32'));
    const result = { loss: value.dataSync()[0], correct: correct.dataSync()[0] };
    kept.dispose(); // kept out of variableGrads' scope, so tidy would not release it
    return result;
  });
}

/** Raised when one batch does not fit in the backend's memory; the message says how to make it fit. */
export class BatchMemoryError extends Error {
  override name = 'BatchMemoryError';
}

const OUT_OF_MEMORY = /out of memory|\bOOM\b|Cannot enlarge memory|Array buffer allocation failed|could not allocate|Invalid typed array length|allocation failed/i;

function guardMemory<T>(step: () => T, batchSize: number, contract: ModelContract): T {
  try {
    return step();
  } catch (error) {
    if (!OUT_OF_MEMORY.test(String((error as Error)?.message ?? error))) throw error;
    const { height, width } = contract.imageSize;
    throw new BatchMemoryError(
      `A batch of ${batchSize} images at ${width}x${height} does not fit in memory (${(error as Error).message.split('\n')[0]}); lower --batch-size (e.g. ${Math.max(1, Math.floor(batchSize / 2))}) or --image-size.`,
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
  augment: AugmentConfig | null;
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
    const batch = await makeBatch({
      indices,
      labels: args.labels,
      pixels: args.pixels,
      contract,
      augment: args.augment ? { config: args.augment, rng: augmentRng } : undefined,
    });
    // tfjs' Dropout reads its seed at call time; unseeded it would draw from Math.random.
    for (const layer of dropouts) (layer as unknown as { seed?: number }).seed = dropoutRng.int(2 ** 31);
    const result = guardMemory(() => trainStep(args.logits, args.optimizer, variables, batch, contract.labels.length), indices.length, contract);
    lossSum += result.loss * indices.length;
    correct += result.correct;
    seen += indices.length;
    args.onStep?.(step + 1, batches.length, { loss: lossSum / seen, accuracy: correct / seen });
  }
  for (const layer of dropouts) (layer as unknown as { seed?: number }).seed = undefined;
  return { loss: lossSum / seen, accuracy: correct / seen };
}
