// What tfjs itself says for a foreign model on a batch: probabilities and logits, as the export must
// reproduce them. A softmax output gives both (logits from the tensor before it); any other output is
// taken as logits, as the exporter does, and tfjs' softmax of it is the reference probabilities.
import { tf, type LayersModel, type Tensor } from '@pets/train/tfjs';
import { graphDefOf, graphHead, graphModelReference } from '../graph/index.js';
import { findSoftmaxHead } from '../onnx/model-head.js';
import { tfjsReference, type TfjsOutputs } from '../verify/tfjs-reference.js';
import type { LoadedTfjsModel } from './load.js';

const CHUNK = 8;

function softmaxHead(model: LayersModel): boolean {
  try {
    findSoftmaxHead(model);
    return true;
  } catch {
    return false;
  }
}

function chunked(x: Float32Array, shape: readonly number[], run: (batch: Tensor) => [Tensor, Tensor]): TfjsOutputs {
  const [n, ...rest] = shape;
  const per = rest.reduce((a, b) => a * b, 1);
  const probabilities: Float32Array[] = [];
  const logits: Float32Array[] = [];
  for (let start = 0; start < n; start += CHUNK) {
    const count = Math.min(CHUNK, n - start);
    const [p, l] = tf.tidy(() => run(tf.tensor(x.subarray(start * per, (start + count) * per), [count, ...rest])));
    probabilities.push(p.dataSync() as Float32Array);
    logits.push(l.dataSync() as Float32Array);
    tf.dispose([p, l]);
  }
  const cat = (parts: Float32Array[]) => Float32Array.from(parts.flatMap((a) => [...a]));
  return { probabilities: cat(probabilities), logits: cat(logits) };
}

/**
 * Reference outputs of a loaded tfjs model on x ([n, H, W, 3], already normalized). `logits`: the model's
 * output is logits whatever its last op (pets-export --logits).
 */
export function foreignReference(loaded: LoadedTfjsModel, x: Float32Array, shape: readonly number[], logits = false): TfjsOutputs {
  if (loaded.format === 'layers') {
    const { model } = loaded;
    if (!logits && softmaxHead(model)) return tfjsReference(model, x, shape);
    return chunked(x, shape, (batch) => {
      const out = model.predict(batch) as Tensor;
      return [tf.softmax(out), out];
    });
  }
  const head = graphHead(loaded.model, graphDefOf(loaded.model), logits ? 'logits' : 'auto');
  return graphModelReference(loaded.model, head, x, shape);
}
