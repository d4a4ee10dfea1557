// Runs a tfjs model over a batch a few images at a time, to bound memory at 224x224, and collects its
// probabilities and logits: the loop shared by the Layers and the graph-model references.
import { tf, type Tensor } from '@pets/train/tfjs';
import { concatFloat32 } from '../util/concat.js';

export interface TfjsOutputs {
  probabilities: Float32Array;
  logits: Float32Array;
}

/** Images per tfjs call. */
const CHUNK = 8;

/**
 * `run` gets [count, ...rest] slices of x ([n, ...rest]) and returns that chunk's probabilities and
 * logits; its intermediate tensors are disposed (it runs inside tf.tidy).
 */
export function chunkedOutputs(x: Float32Array, shape: readonly number[], run: (batch: Tensor) => { probabilities: Tensor; logits: Tensor }): TfjsOutputs {
  const [n, ...rest] = shape;
  const perImage = rest.reduce((a, b) => a * b, 1);
  const probabilities: Float32Array[] = [];
  const logits: Float32Array[] = [];
  for (let start = 0; start < n; start += CHUNK) {
    const count = Math.min(CHUNK, n - start);
    const out = tf.tidy(() => run(tf.tensor(x.subarray(start * perImage, (start + count) * perImage), [count, ...rest])));
    probabilities.push(out.probabilities.dataSync() as Float32Array);
    logits.push(out.logits.dataSync() as Float32Array);
    tf.dispose([out.probabilities, out.logits]);
  }
  return { probabilities: concatFloat32(probabilities), logits: concatFloat32(logits) };
}

