// Finds the model's softmax head: the exported graph outputs both the probabilities and the logits
// before them, so the layer that applies the softmax must be known (a separate Activation/Softmax
// layer, as in every pets preset, or a Dense with a fused softmax activation).
import type { Layer, LayersModel, SymbolicTensor } from '@pets/train/tfjs';
import { ExportError } from '../errors.js';

export interface SoftmaxHead {
  /** The layer whose output is the model's probabilities. */
  layer: Layer;
  /** 'layer': an Activation('softmax') or Softmax layer whose input is the logits; 'fused': a Dense with activation softmax. */
  kind: 'layer' | 'fused';
}

export function outputLayer(model: LayersModel): Layer {
  if (model.outputs.length !== 1) {
    throw new ExportError(`The model has ${model.outputs.length} outputs; a pets model has one, the class probabilities.`);
  }
  return (model.outputs[0] as SymbolicTensor).sourceLayer as Layer;
}

export function findSoftmaxHead(model: LayersModel): SoftmaxHead {
  const layer = outputLayer(model);
  const className = layer.getClassName();
  const config = layer.getConfig();
  // tfjs' Softmax layer defaults to axis 1, the last axis of [N, classes].
  const axis = config.axis ?? 1;
  const lastAxis = (layer.outputShape as number[]).length - 1;
  if (className === 'Softmax' && (axis === -1 || axis === lastAxis)) return { layer, kind: 'layer' };
  if (className === 'Activation' && config.activation === 'softmax') return { layer, kind: 'layer' };
  if (className === 'Dense' && config.activation === 'softmax') return { layer, kind: 'fused' };
  throw new ExportError(
    `The model's output layer "${layer.name}" (${className}${config.activation ? `, activation ${String(config.activation)}` : ''}) is not a softmax: ` +
      'pets-export needs class probabilities from a softmax, to export them together with the logits before it.',
  );
}
