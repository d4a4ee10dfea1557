// The layer classes pets-export translates, so that a backbone it could not export is refused before
// training, not after. The exporter's converter table is the source; export/test/exportable.test.ts checks
// that this list equals it (train cannot import the exporter, which depends on train).
import type { Layer, LayersModel } from '../backend/tf.js';
import { TransferModelError, flatLayers } from './model.js';

export const EXPORTABLE_LAYER_CLASSES: readonly string[] = [
  'Activation',
  'Add',
  'AlphaDropout',
  'Average',
  'AveragePooling2D',
  'BatchNormalization',
  'Concatenate',
  'Conv2D',
  'Conv2DTranspose',
  'Cropping2D',
  'Dense',
  'DepthwiseConv2D',
  'Dropout',
  'ELU',
  'Flatten',
  'GaussianDropout',
  'GaussianNoise',
  'GlobalAveragePooling2D',
  'GlobalMaxPooling2D',
  'LayerNormalization',
  'LeakyReLU',
  'MaxPooling2D',
  'Maximum',
  'Minimum',
  'Multiply',
  'PReLU',
  'Permute',
  'ReLU',
  'RepeatVector',
  'Rescaling',
  'Reshape',
  'SeparableConv2D',
  'Softmax',
  'SpatialDropout1D',
  'ThresholdedReLU',
  'UpSampling2D',
  'ZeroPadding2D',
];

const STRUCTURAL = new Set(['InputLayer', 'Sequential', 'Model', 'Functional']);

/** Throws TransferModelError naming the first layer whose class pets-export cannot translate. */
export function checkExportableLayers(model: LayersModel): void {
  const bad = flatLayers(model).filter((l: Layer) => !STRUCTURAL.has(l.getClassName()) && !EXPORTABLE_LAYER_CLASSES.includes(l.getClassName()));
  if (bad.length === 0) return;
  const named = bad.slice(0, 5).map((l) => `"${l.name}" (${l.getClassName()})`).join(', ');
  throw new TransferModelError(
    `The backbone has layers pets-export cannot translate to ONNX: ${named}${bad.length > 5 ? ` and ${bad.length - 5} more` : ''}. ` +
      `Supported: ${EXPORTABLE_LAYER_CLASSES.join(', ')}. Cut before them with --backbone-layer, or use another backbone.`,
  );
}
