// Runs a tfjs model over a batch a few images at a time, to bound memory at 224x224, and collects its
// probabilities and logits: the loop shared by the Layers and the graph-model references.
import { tf, type Tensor } from '@pets/train/tfjs';

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
  return { probabilities: concat(probabilities), logits: concat(logits) };
}

function concat(parts: Float32Array[]): Float32Array {
  const all = new Float32Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.length;
  }
  return all;
}
