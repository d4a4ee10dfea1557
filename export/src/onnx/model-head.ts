// Finds the model's head: the exported graph outputs both the probabilities and the logits before them, so
// the exporter must know where the softmax is (a separate Activation/Softmax layer, as in every pets
// preset, or a Dense with a fused softmax activation, also inside a nested model), or that there is none
// and the model's output is the logits, which the exporter then follows with a Softmax of its own.
import type { Layer, LayersModel } from '@pets/train/tfjs';
import { ExportError } from '../errors.js';
import { layerGraph, type LayerCall, type LayerGraph } from './model-graph.js';

/**
 * What the model's output is: 'probabilities' (it ends in a softmax: refused otherwise), 'logits' (it
 * does not: the export adds the softmax) or 'auto' (a softmax head if there is one, else logits when the
 * last layer is linear; other outputs, such as a sigmoid's, are refused).
 */
export type OutputsMode = 'probabilities' | 'logits' | 'auto';
export const OUTPUTS_MODES: readonly OutputsMode[] = ['probabilities', 'logits', 'auto'];

export interface ModelHead {
  /** The layer whose output is the model's output. */
  layer: Layer;
  /** Its call in the flattened graph. */
  call: LayerCall;
  /**
   * 'layer': an Activation('softmax') or Softmax layer whose input (`call.inputs[0]`) is the logits;
   * 'fused': a Dense with activation softmax, whose output without it is the logits;
   * 'logits': no softmax, the model's output is the logits.
   */
  kind: 'layer' | 'fused' | 'logits';
}

/** Kept for callers of the earlier name: a head with a softmax. */
export type SoftmaxHead = ModelHead;

/** The call producing the model's output. */
export function outputCall(model: LayersModel, graph: LayerGraph = layerGraph(model)): LayerCall {
  if (model.outputs.length !== 1) {
    throw new ExportError(`The model has ${model.outputs.length} outputs; a pets model has one, the class probabilities.`);
  }
  const call = graph.calls.find((c) => c.output === graph.output);
  if (!call) throw new ExportError('The model outputs its input; a pets model has layers that compute class probabilities.');
  return call;
}

/** Layers whose output is an activation's (so not logits) even with no `activation` config entry. */
const ACTIVATION_LAYERS = new Set(['Activation', 'Softmax', 'ReLU', 'LeakyReLU', 'PReLU', 'ELU', 'ThresholdedReLU']);

function describe(layer: Layer): string {
  const config = layer.getConfig();
  return `"${layer.name}" (${layer.getClassName()}${config.activation ? `, activation ${String(config.activation)}` : ''})`;
}

function softmaxKind(layer: Layer): 'layer' | 'fused' | undefined {
  const className = layer.getClassName();
  const config = layer.getConfig();
  if (className === 'Activation' && config.activation === 'softmax') return 'layer';
  // tfjs' Softmax layer defaults to axis 1, the last axis of [N, classes].
  const axis = config.axis ?? 1;
  const lastAxis = (layer.outputShape as number[]).length - 1;
  if (className === 'Softmax' && (axis === -1 || axis === lastAxis)) return 'layer';
  if (className === 'Dense' && config.activation === 'softmax') return 'fused';
  return undefined;
}

export function findHead(model: LayersModel, graph: LayerGraph = layerGraph(model), mode: OutputsMode = 'auto'): ModelHead {
  if (!OUTPUTS_MODES.includes(mode)) throw new RangeError(`Unsupported outputs "${String(mode)}". Expected one of: ${OUTPUTS_MODES.join(', ')}.`);
  const call = outputCall(model, graph);
  const { layer } = call;
  if (mode === 'logits') return { layer, call, kind: 'logits' };
  const kind = softmaxKind(layer);
  if (kind) return { layer, call, kind };
  if (mode === 'probabilities') {
    throw new ExportError(
      `The model's output layer ${describe(layer)} is not a softmax: pets-export needs class probabilities from a softmax, ` +
        'to export them together with the logits before it (a model that outputs logits: outputs "logits", --logits).',
    );
  }
  const activation = layer.getConfig().activation;
  if (ACTIVATION_LAYERS.has(layer.getClassName()) || (activation !== undefined && activation !== 'linear')) {
    throw new ExportError(
      `The model's output layer ${describe(layer)} is neither a softmax nor linear logits; ` +
        'to export its output as logits followed by a softmax anyway, pass outputs "logits" (--logits).',
    );
  }
  return { layer, call, kind: 'logits' };
}

/** The softmax head (mode 'probabilities'): refuses a model without one. */
export function findSoftmaxHead(model: LayersModel, graph: LayerGraph = layerGraph(model)): ModelHead {
  return findHead(model, graph, 'probabilities');
}
