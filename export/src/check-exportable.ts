// checkExportable(): whether exportModel() can translate a model's layers, from their classes and configs
// alone (no weights read, no input size needed): cheap enough to run on a backbone before training on it.
import type { LayersModel } from '@pets/train/tfjs';
import { UnsupportedLayerError } from './errors.js';
import { checkLayer } from './onnx/layers/index.js';
import { layerGraph, type LayerGraph } from './onnx/model-graph.js';

/** Unsupported classes and settings first (the most useful thing to hear about a model), then shared layers. */
export function checkLayerGraph(graph: LayerGraph): void {
  for (const { layer } of graph.calls) checkLayer(layer);
  const [first] = graph.shared;
  if (first) {
    throw new UnsupportedLayerError(first.layer.getClassName(), first.layer.name, `it is called ${first.timesCalled} times (shared layers are not supported)`);
  }
}

/**
 * Throws UnsupportedLayerError for the first layer, in topological order with nested models walked into,
 * that exportModel() has no translation for (its class, dataFormat, padding or activation), or else for the
 * first layer or nested model called more than once. It needs no softmax head (a backbone has none).
 * exportModel() still checks the head, the input size, and the settings only one converter reads (a
 * DepthwiseConv2D's dilationRate, a Reshape's target rank, a BatchNormalization's axis).
 */
export function checkExportable(model: LayersModel): void {
  checkLayerGraph(layerGraph(model));
}
