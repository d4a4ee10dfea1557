// What the tfjs graph model itself says for a batch (tfjs-converter's executor, the verification reference):
// its probabilities and the logits before its softmax.
import { tf } from '@pets/train/tfjs';
import { chunkedOutputs, type TfjsOutputs } from '../verify/chunked-outputs.js';
import type { GraphHead } from './graph-head.js';
import type { GraphModel } from './tfjs-converter.js';

/** Runs `model` on x ([n, H, W, 3]); `head` from graphHead(). */
export function graphModelReference(model: GraphModel, head: GraphHead, x: Float32Array, shape: readonly number[]): TfjsOutputs {
  return chunkedOutputs(x, shape, (batch) => {
    const result = model.execute(batch, head.softmax ? [head.logits, head.output] : [head.logits]); // one name: a Tensor, not a list
    const [logits, probabilities] = Array.isArray(result) ? result : [result];
    return { probabilities: head.softmax ? probabilities : tf.softmax(logits), logits };
  });
}
