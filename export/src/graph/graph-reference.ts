// What the tfjs graph model itself says for a batch (tfjs-converter's executor, the verification reference):
// its probabilities and the logits before its softmax.
import { tf } from '@pets/train/tfjs';
import type { TfjsOutputs } from '../verify/tfjs-reference.js';
import type { GraphHead } from './graph-head.js';
import type { GraphModel } from './tfjs-converter.js';

/** Images per tfjs call, to bound memory at 224x224. */
const CHUNK = 8;

/** Runs `model` on x ([n, H, W, 3]); `head` from graphHead(). */
export function graphModelReference(model: GraphModel, head: GraphHead, x: Float32Array, shape: readonly number[]): TfjsOutputs {
  const [n, ...rest] = shape;
  const perImage = rest.reduce((a, b) => a * b, 1);
  const probabilities: number[] = [];
  const logits: number[] = [];
  for (let start = 0; start < n; start += CHUNK) {
    const count = Math.min(CHUNK, n - start);
    const batch = tf.tensor(x.subarray(start * perImage, (start + count) * perImage), [count, ...rest]);
    const names = head.softmax ? [head.logits, head.output] : [head.logits];
    const result = model.execute(batch, names); // one name: a Tensor, not a list
    const outputs = Array.isArray(result) ? result : [result];
    const p = head.softmax ? outputs[1] : tf.softmax(outputs[0]);
    probabilities.push(...(p.dataSync() as Float32Array));
    logits.push(...(outputs[0].dataSync() as Float32Array));
    tf.dispose([batch, p, ...outputs]);
  }
  return { probabilities: Float32Array.from(probabilities), logits: Float32Array.from(logits) };
}
