// One converter per supported tfjs layer class; anything else is an UnsupportedLayerError naming it. The
// table is the list of what is supported: SUPPORTED_LAYER_CLASSES and the errors' "Supported: ..." come from it.
import type { Layer } from '@pets/train/tfjs';
import { UnsupportedLayerError } from '../../errors.js';
import type { Value } from '../graph-builder.js';
import { checkActivation, convertActivation, convertLeakyReLU, convertReLU, convertSoftmax } from './activation.js';
import { checkChannelsLast, unsupported, type LayerContext, type LayerConverter, type LayerRef } from './context.js';
import { convertConv2D, convertDepthwiseConv2D, paddingMode } from './conv.js';
import { convertDense, convertDropout, convertFlatten, convertReshape } from './core.js';
import { convertBatchNormalization } from './normalization.js';
import { convertAveragePooling2D, convertGlobalAveragePooling2D, convertMaxPooling2D } from './pooling.js';

const CONVERTERS: Record<string, LayerConverter> = {
  Conv2D: convertConv2D,
  DepthwiseConv2D: convertDepthwiseConv2D,
  BatchNormalization: convertBatchNormalization,
  Activation: convertActivation,
  ReLU: convertReLU,
  LeakyReLU: convertLeakyReLU,
  Softmax: convertSoftmax,
  MaxPooling2D: convertMaxPooling2D,
  AveragePooling2D: convertAveragePooling2D,
  GlobalAveragePooling2D: convertGlobalAveragePooling2D,
  Flatten: convertFlatten,
  Reshape: convertReshape,
  Dense: convertDense,
  Dropout: convertDropout,
};

/**
 * The layer classes with a converter, sorted. Besides these a model may hold InputLayers and nested models
 * (Sequential or functional models used as a layer), which the exporter walks through (onnx/model-graph.ts).
 */
export const SUPPORTED_LAYER_CLASSES: readonly string[] = Object.freeze(Object.keys(CONVERTERS).sort());

/** Throws UnsupportedLayerError for a class without a converter. */
export function checkSupported(className: string, layerName: string): void {
  if (!Object.hasOwn(CONVERTERS, className)) throw new UnsupportedLayerError(className, layerName, undefined, SUPPORTED_LAYER_CLASSES);
}

/**
 * What can be refused without weights or shapes: the class, and the config entries every converter reads
 * the same way (dataFormat, padding, a fused activation). Converters check the rest when they run.
 */
export function checkLayer(layer: Layer): void {
  const ref: LayerRef = { layer, className: layer.getClassName(), config: layer.getConfig() };
  checkSupported(ref.className, layer.name);
  checkChannelsLast(ref);
  if (ref.config.padding !== undefined) paddingMode(ref.config.padding, (reason) => unsupported(ref, reason));
  if (ref.config.activation !== undefined) checkActivation(ref, String(ref.config.activation));
}

export function convertLayer(ctx: LayerContext): Value {
  checkSupported(ctx.className, ctx.layer.name);
  return CONVERTERS[ctx.className](ctx);
}

export { batchNormParams } from './normalization.js';
export { SUPPORTED_ACTIVATIONS } from './activation.js';
export type { LayerContext, LayerWeight } from './context.js';
