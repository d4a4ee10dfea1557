// The reference study's five models as presets: architecture plus training defaults. Every default can be
// overridden from the command line; the layer tables are checked against the study's parameter counts.
import { DEFAULT_IMAGE_SIZE } from '@pets/runtime/contract';
import { tfl, type Layer, type LayersModel } from './backend/tf.js';
import type { AugmentConfig } from './augment.js';
import { DEFAULT_AUGMENT } from './augment.js';

/** The reference study's models, trained from scratch. */
export const REFERENCE_PRESETS = ['model1', 'model2', 'model3', 'model4', 'model5'] as const;
/** Transfer learning: a pretrained backbone with a new head (train/src/transfer/). */
export const TRANSFER_PRESETS = ['mobilenet', 'darknet'] as const;
export const PRESET_NAMES = [...TRANSFER_PRESETS, ...REFERENCE_PRESETS] as const;
export type PresetName = (typeof PRESET_NAMES)[number];
/** The preset pets-train uses when none is given: the transfer preset that scored best (docs/transfer.md). */
export const DEFAULT_PRESET: PresetName = 'mobilenet';
export const ARCHITECTURES = ['plain-cnn', 'bn-gap-cnn', 'transfer'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];
/** The architectures buildModel() builds from scratch. */
export type ScratchArchitecture = Exclude<Architecture, 'transfer'>;

/** Everything a preset fixes; each field has a matching pets-train flag. */
export interface PresetConfig {
  /** model1: plain CNN with Flatten + Dense 256; model2-5: BatchNorm + global average pooling. */
  architecture: Architecture;
  /** Dropout rate before the classifier; 0 for none. */
  dropout: number;
  /** Augmentation of training images, or null for none. */
  augment: AugmentConfig | null;
  /** Adam learning rate. */
  learningRate: number;
  /** Images per optimizer step. */
  batchSize: number;
  /** Input side in pixels. */
  imageSize: number;
  /** Maximum epochs (transfer: of stage 1, the head on a frozen backbone). */
  epochs: number;
  /** transfer: the backbone, a known name, a model.json path or URL; null for the reference presets. */
  backbone: string | null;
  /** transfer: epochs of stage 2, fine-tuning the top of the backbone; 0 for none. */
  fineTuneEpochs: number;
  /**
   * transfer, head on cached features: also cache each training image's mirror image, and train every
   * epoch on both (a horizontal-flip augmentation computed once). false for the reference presets.
   */
  mirrorFeatures: boolean;
}

const BASE = { learningRate: 1e-3, batchSize: 32, imageSize: DEFAULT_IMAGE_SIZE, epochs: 50, backbone: null, fineTuneEpochs: 0, mirrorFeatures: false };
// Transfer heads train on features computed once per image (no augmentation), so epochs cost little.
const TRANSFER = { ...BASE, architecture: 'transfer', dropout: 0.5, augment: null, epochs: 60, learningRate: 3e-3, mirrorFeatures: true } as const;

export const PRESETS: Record<PresetName, PresetConfig> = {
  model1: { ...BASE, architecture: 'plain-cnn', dropout: 0, augment: null },
  model2: { ...BASE, architecture: 'bn-gap-cnn', dropout: 0, augment: null },
  model3: { ...BASE, architecture: 'bn-gap-cnn', dropout: 0.5, augment: null },
  model4: { ...BASE, architecture: 'bn-gap-cnn', dropout: 0.5, augment: DEFAULT_AUGMENT },
  model5: { ...BASE, architecture: 'bn-gap-cnn', dropout: 0.5, augment: DEFAULT_AUGMENT, learningRate: 3e-4 },
  mobilenet: { ...TRANSFER, backbone: 'mobilenet_v1_0.75_224' },
  darknet: { ...TRANSFER, backbone: 'darknet-tiny' },
};

export const isTransferPreset = (name: string): boolean => (TRANSFER_PRESETS as readonly string[]).includes(name);

export function presetConfig(name: string): PresetConfig {
  if (!(PRESET_NAMES as readonly string[]).includes(name)) {
    throw new RangeError(`Unknown preset "${name}". Expected one of: ${PRESET_NAMES.join(', ')}.`);
  }
  return structuredClone(PRESETS[name as PresetName]);
}

/** What buildModel needs: the architecture, the dropout rate, the input side and the class count. */
export interface ModelSpec {
  architecture: Architecture;
  dropout: number;
  imageSize: number;
  numClasses: number;
  /** Seed for Glorot-uniform initial weights; each layer gets its own derived seed. */
  seed: number;
}

/** Raised when the image side leaves a layer with no pixels. */
export class ImageSizeError extends RangeError {
  override name = 'ImageSizeError';
}

/** Spatial side after each downsampling step (TF rules: 'same' conv ceil(s/stride), valid pool floor(s/2)). */
export function checkImageSize(spec: { architecture: Architecture; imageSize: number }): void {
  // A transfer model's size is checked against its backbone when the backbone loads.
  if (spec.architecture === 'transfer') return;
  const pools = spec.architecture === 'plain-cnn' ? 2 : 3;
  let side = Math.ceil(spec.imageSize / 2);
  for (let i = 0; i < pools; i++) side = Math.floor(side / 2);
  if (!Number.isInteger(spec.imageSize) || side < 1) {
    let min = 1;
    for (;;) {
      let s = Math.ceil(min / 2);
      for (let i = 0; i < pools; i++) s = Math.floor(s / 2);
      if (s >= 1) break;
      min++;
    }
    throw new ImageSizeError(
      `Image size ${spec.imageSize} is too small for ${spec.architecture}: it needs at least ${min} pixels a side (--image-size ${min} or more).`,
    );
  }
}

/** The layer stack of an architecture; names are stable (export and parity refer to them). */
export function buildModel(spec: ModelSpec): LayersModel {
  if (spec.architecture === 'transfer') {
    throw new TypeError('A transfer model is built from its backbone (train/src/transfer/), not by buildModel().');
  }
  checkImageSize(spec);
  let layerIndex = 0;
  const init = () => tfl.initializers.glorotUniform({ seed: spec.seed * 1000 + layerIndex++ });
  const layers: Layer[] = [];
  const add = (layer: Layer) => layers.push(layer);
  const conv = (i: number, filters: number, kernelSize: number, strides: number, batchNorm: boolean) => {
    add(
      tfl.layers.conv2d({
        name: `conv${i}`,
        filters,
        kernelSize,
        strides,
        padding: 'same',
        kernelInitializer: init(),
        ...(i === 1 ? { inputShape: [spec.imageSize, spec.imageSize, 3] } : {}),
      }),
    );
    if (batchNorm) add(tfl.layers.batchNormalization({ name: `bn${i}` }));
    add(tfl.layers.activation({ name: `relu${i}`, activation: 'relu' }));
  };
  const pool = (i: number) => add(tfl.layers.maxPooling2d({ name: `pool${i}`, poolSize: 2 }));
  if (spec.architecture === 'plain-cnn') {
    conv(1, 64, 7, 2, false);
    pool(1);
    conv(2, 128, 3, 1, false);
    conv(3, 128, 3, 1, false);
    pool(2);
    add(tfl.layers.flatten({ name: 'flatten' }));
    add(tfl.layers.dense({ name: 'dense1', units: 256, activation: 'relu', kernelInitializer: init() }));
  } else {
    conv(1, 64, 7, 2, true);
    pool(1);
    conv(2, 128, 3, 1, true);
    conv(3, 128, 3, 1, true);
    pool(2);
    conv(4, 256, 3, 1, true);
    conv(5, 256, 3, 1, true);
    pool(3);
    add(tfl.layers.globalAveragePooling2d({ name: 'gap' }));
  }
  if (spec.dropout > 0) add(tfl.layers.dropout({ name: 'dropout', rate: spec.dropout }));
  // Logits and softmax are separate layers so that training, export and parity can read the logits.
  add(tfl.layers.dense({ name: 'logits', units: spec.numClasses, kernelInitializer: init() }));
  add(tfl.layers.activation({ name: 'probs', activation: 'softmax' }));
  return tfl.sequential({ name: spec.architecture, layers });
}

/** A model that shares `model`'s weights and outputs its logits (the layer before the softmax). */
export function logitsModel(model: LayersModel): LayersModel {
  return tfl.model({ inputs: model.inputs, outputs: model.getLayer('logits').output as ReturnType<typeof tfl.input> });
}
