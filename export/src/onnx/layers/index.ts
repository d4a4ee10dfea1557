// One converter per supported tfjs layer class; anything else is an UnsupportedLayerError naming it.
import { UnsupportedLayerError } from '../../errors.js';
import type { Value } from '../graph-builder.js';
import { convertActivation, convertReLU, convertSoftmax } from './activation.js';
import type { LayerContext, LayerConverter } from './context.js';
import { convertConv2D } from './conv.js';
import { convertDense, convertDropout, convertFlatten } from './core.js';
import { convertBatchNormalization } from './normalization.js';
import { convertAveragePooling2D, convertGlobalAveragePooling2D, convertMaxPooling2D } from './pooling.js';

const CONVERTERS: Record<string, LayerConverter> = {
  Conv2D: convertConv2D,
  BatchNormalization: convertBatchNormalization,
  Activation: convertActivation,
  ReLU: convertReLU,
  Softmax: convertSoftmax,
  MaxPooling2D: convertMaxPooling2D,
  AveragePooling2D: convertAveragePooling2D,
  GlobalAveragePooling2D: convertGlobalAveragePooling2D,
  Flatten: convertFlatten,
  Dense: convertDense,
  Dropout: convertDropout,
};

/** Throws UnsupportedLayerError for a class without a converter (InputLayer is handled by the caller). */
export function checkSupported(className: string, layerName: string): void {
  if (!Object.hasOwn(CONVERTERS, className)) throw new UnsupportedLayerError(className, layerName);
}

export function convertLayer(ctx: LayerContext): Value {
  checkSupported(ctx.className, ctx.layer.name);
  return CONVERTERS[ctx.className](ctx);
}

export { batchNormParams } from './normalization.js';
export { SUPPORTED_ACTIVATIONS } from './activation.js';
export type { LayerContext, LayerWeight } from './context.js';
