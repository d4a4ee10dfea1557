// What the tfjs model itself says for a batch: its probabilities and the logits before its softmax head.
import { tf, type LayersModel, type Tensor } from '@pets/train/tfjs';
import { layerGraph, type LayerGraph } from '../onnx/model-graph.js';
import { findHead, type OutputsMode } from '../onnx/model-head.js';
import { chunkedOutputs, type TfjsOutputs } from './chunked-outputs.js';

export type { TfjsOutputs } from './chunked-outputs.js';

/**
 * The tensor `target` of the flattened graph for a batch: each layer applied in inference mode, nested models
 * walked into (the logits of a head inside a nested model are no tensor of the outer model to predict).
 */
function runUntil(graph: LayerGraph, batch: Tensor, target: number): Tensor {
  const values = new Map<number, Tensor>([[graph.inputs[0], batch]]);
  for (const call of graph.calls) {
    if (values.has(target)) break;
    const inputs = call.inputs.map((id) => values.get(id) as Tensor);
    values.set(call.output, call.layer.apply(inputs.length === 1 ? inputs[0] : inputs, { training: false }) as Tensor);
  }
  const value = values.get(target);
  if (!value) throw new Error('Internal error: the logits were not computed');
  return value;
}

/**
 * Runs `model` on x ([n, H, W, 3]) in inference mode. `outputs` as exportModel()'s (default 'auto'): for a
 * model that outputs logits, the probabilities are tfjs' softmax of them.
 */
export function tfjsReference(model: LayersModel, x: Float32Array, shape: readonly number[], outputs: OutputsMode = 'auto'): TfjsOutputs {
  const graph = layerGraph(model);
  const head = findHead(model, graph, outputs);
  return chunkedOutputs(x, shape, (batch) => {
    if (head.kind === 'logits') {
      const out = model.predict(batch) as Tensor;
      return { probabilities: tf.softmax(out), logits: out };
    }
    let hidden = runUntil(graph, batch, head.call.inputs[0]);
    if (head.kind === 'fused') {
      // The Dense's own matmul and bias, without its softmax.
      const [kernel, bias] = head.layer.getWeights();
      hidden = bias ? tf.add(tf.matMul(hidden, kernel), bias) : tf.matMul(hidden, kernel);
    }
    return { probabilities: model.predict(batch) as Tensor, logits: hidden };
  });
}
