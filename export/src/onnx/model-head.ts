// Finds the model's softmax head: the exported graph outputs both the probabilities and the logits
// before them, so the layer that applies the softmax must be known (a separate Activation/Softmax
// layer, as in every pets preset, or a Dense with a fused softmax activation), also inside a nested model.
import type { Layer, LayersModel } from '@pets/train/tfjs';
import { ExportError } from '../errors.js';
import { layerGraph, type LayerCall, type LayerGraph } from './model-graph.js';

export interface SoftmaxHead {
  /** The layer whose output is the model's probabilities. */
  layer: Layer;
  /** Its call in the flattened graph: `inputs[0]` is the logits of a 'layer' head, `output` those of a 'fused' one (before the softmax). */
  call: LayerCall;
  /** 'layer': an Activation('softmax') or Softmax layer whose input is the logits; 'fused': a Dense with activation softmax. */
  kind: 'layer' | 'fused';
}

/** The call producing the model's output. */
export function outputCall(model: LayersModel, graph: LayerGraph = layerGraph(model)): LayerCall {
  if (model.outputs.length !== 1) {
    throw new ExportError(`The model has ${model.outputs.length} outputs; a pets model has one, the class probabilities.`);
  }
  const call = graph.calls.find((c) => c.output === graph.output);
  if (!call) throw new ExportError('The model outputs its input; a pets model has layers that compute class probabilities.');
  return call;
}

export function findSoftmaxHead(model: LayersModel, graph: LayerGraph = layerGraph(model)): SoftmaxHead {
  const call = outputCall(model, graph);
  const { layer } = call;
  const className = layer.getClassName();
  const config = layer.getConfig();
  // tfjs' Softmax layer defaults to axis 1, the last axis of [N, classes].
  const axis = config.axis ?? 1;
  const lastAxis = (layer.outputShape as number[]).length - 1;
  if (className === 'Softmax' && (axis === -1 || axis === lastAxis)) return { layer, call, kind: 'layer' };
  if (className === 'Activation' && config.activation === 'softmax') return { layer, call, kind: 'layer' };
  if (className === 'Dense' && config.activation === 'softmax') return { layer, call, kind: 'fused' };
  throw new ExportError(
    `The model's output layer "${layer.name}" (${className}${config.activation ? `, activation ${String(config.activation)}` : ''}) is not a softmax: ` +
      'pets-export needs class probabilities from a softmax, to export them together with the logits before it.',
  );
}
