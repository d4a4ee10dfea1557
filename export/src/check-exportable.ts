// checkExportable(): whether exportModel() can translate a model's layers, from their classes and configs
// alone (no weights read, no input size needed): cheap enough to run on a backbone before training on it.
import type { LayersModel } from '@pets/train/tfjs';
import { checkLayer } from './onnx/layers/index.js';
import { layerGraph, type LayerGraph } from './onnx/model-graph.js';

/** Throws UnsupportedLayerError for the first call, in graph order, of a class or setting without a translation. */
export function checkLayerGraph(graph: LayerGraph): void {
  for (const { layer } of graph.calls) checkLayer(layer);
}

/**
 * Throws UnsupportedLayerError for the first layer, in topological order with nested models walked into,
 * that exportModel() has no translation for (its class, dataFormat, padding or activation). Shared layers and
 * nested models are fine. It needs no softmax head (a backbone has none). exportModel() still checks the
 * head, the input size, and the settings only one converter reads (a Conv2D's groups, a
 * merge's input ranks, a Softmax's axis).
 */
export function checkExportable(model: LayersModel): void {
  checkLayerGraph(layerGraph(model));
}
