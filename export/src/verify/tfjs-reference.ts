// What the tfjs model itself says for a batch: its probabilities and the logits before its softmax head.
import { tf, tfl, type LayersModel, type SymbolicTensor, type Tensor } from '@pets/train/tfjs';
import { findSoftmaxHead } from '../onnx/model-head.js';

export interface TfjsOutputs {
  probabilities: Float32Array;
  logits: Float32Array;
}

/** Images per tfjs call, to bound memory at 224x224. */
const CHUNK = 8;

/** Runs `model` on x ([n, H, W, 3]) in inference mode. */
export function tfjsReference(model: LayersModel, x: Float32Array, shape: readonly number[]): TfjsOutputs {
  const head = findSoftmaxHead(model);
  // A model over the same layers whose output is the head's input (no weights are copied).
  const trunk = tfl.model({ inputs: model.inputs, outputs: head.layer.input as SymbolicTensor });
  const [n, ...rest] = shape;
  const perImage = rest.reduce((a, b) => a * b, 1);
  const probabilities: number[] = [];
  const logits: number[] = [];
  for (let start = 0; start < n; start += CHUNK) {
    const count = Math.min(CHUNK, n - start);
    const [p, l] = tf.tidy(() => {
      const batch = tf.tensor(x.subarray(start * perImage, (start + count) * perImage), [count, ...rest]);
      let hidden = trunk.predict(batch) as Tensor;
      if (head.kind === 'fused') {
        // The Dense's own matmul and bias, without its softmax.
        const [kernel, bias] = head.layer.getWeights();
        hidden = bias ? tf.add(tf.matMul(hidden, kernel), bias) : tf.matMul(hidden, kernel);
      }
      return [model.predict(batch) as Tensor, hidden];
    });
    probabilities.push(...(p.dataSync() as Float32Array));
    logits.push(...(l.dataSync() as Float32Array));
    tf.dispose([p, l]);
  }
  return { probabilities: Float32Array.from(probabilities), logits: Float32Array.from(logits) };
}
