// One converter per supported tfjs layer class; anything else is an UnsupportedLayerError naming it. The
// table is the list of what is supported: SUPPORTED_LAYER_CLASSES and the errors' "Supported: ..." come from it.
import type { Layer } from '@pets/train/tfjs';
import { UnsupportedLayerError } from '../../errors.js';
import type { Value } from '../graph-builder.js';
import { checkActivation, convertActivation, convertELU, convertLeakyReLU, convertPReLU, convertReLU, convertSoftmax, convertThresholdedReLU } from './activation.js';
import { checkChannelsLast, unsupported, type LayerContext, type LayerConverter, type LayerRef } from './context.js';
import { convertConv2D, convertConv2DTranspose, convertDepthwiseConv2D, convertSeparableConv2D, paddingMode } from './conv.js';
import { convertDense, convertFlatten, convertIdentity, convertPermute, convertRepeatVector, convertRescaling, convertReshape } from './core.js';
import { convertAdd, convertAverage, convertConcatenate, convertMaximum, convertMinimum, convertMultiply } from './merge.js';
import { convertBatchNormalization, convertLayerNormalization } from './normalization.js';
import { convertAveragePooling2D, convertGlobalAveragePooling2D, convertGlobalMaxPooling2D, convertMaxPooling2D } from './pooling.js';
import { convertCropping2D, convertUpSampling2D, convertZeroPadding2D } from './spatial.js';

const CONVERTERS: Record<string, LayerConverter> = {
  Conv2D: convertConv2D,
  Conv2DTranspose: convertConv2DTranspose,
  DepthwiseConv2D: convertDepthwiseConv2D,
  SeparableConv2D: convertSeparableConv2D,
  Dense: convertDense,
  BatchNormalization: convertBatchNormalization,
  LayerNormalization: convertLayerNormalization,
  Activation: convertActivation,
  ReLU: convertReLU,
  LeakyReLU: convertLeakyReLU,
  PReLU: convertPReLU,
  ELU: convertELU,
  ThresholdedReLU: convertThresholdedReLU,
  Softmax: convertSoftmax,
  MaxPooling2D: convertMaxPooling2D,
  AveragePooling2D: convertAveragePooling2D,
  GlobalAveragePooling2D: convertGlobalAveragePooling2D,
  GlobalMaxPooling2D: convertGlobalMaxPooling2D,
  ZeroPadding2D: convertZeroPadding2D,
  Cropping2D: convertCropping2D,
  UpSampling2D: convertUpSampling2D,
  Flatten: convertFlatten,
  Reshape: convertReshape,
  Permute: convertPermute,
  RepeatVector: convertRepeatVector,
  Rescaling: convertRescaling,
  Add: convertAdd,
  Multiply: convertMultiply,
  Average: convertAverage,
  Maximum: convertMaximum,
  Minimum: convertMinimum,
  Concatenate: convertConcatenate,
  // The identity at inference (tfjs-layers has no SpatialDropout2D class, nor a Subtract layer).
  Dropout: convertIdentity,
  SpatialDropout1D: convertIdentity,
  AlphaDropout: convertIdentity,
  GaussianDropout: convertIdentity,
  GaussianNoise: convertIdentity,
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
  if (ref.config.padding !== undefined && ref.className !== 'ZeroPadding2D') paddingMode(ref.config.padding, (reason) => unsupported(ref, reason));
  if (ref.config.activation !== undefined) checkActivation(ref, String(ref.config.activation));
}

export function convertLayer(ctx: LayerContext): Value {
  checkSupported(ctx.className, ctx.layer.name);
  return CONVERTERS[ctx.className](ctx);
}

export { batchNormParams, normalizesChannels } from './normalization.js';
export { SUPPORTED_ACTIVATIONS } from './activation.js';
export type { LayerContext, LayerWeight } from './context.js';
