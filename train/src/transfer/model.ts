// A transfer model: a pretrained backbone cut at a feature layer, then pets' head (global average pooling
// when the features are a map, dropout, Dense logits, softmax), as one flat tfjs Layers model so that
// checkpoints, export and parity treat it like any other pets model.
import { tf, tfl, type Layer, type LayersModel, type SymbolicTensor, type Tensor } from '../backend/tf.js';
import { checkExportableLayers } from './exportable.js';

/** Names of the layers pets adds on top of a backbone; everything else in the model is the backbone. */
export const HEAD_LAYERS = { pool: 'head_pool', dropout: 'head_dropout', logits: 'logits', probs: 'probs' } as const;
const HEAD_NAMES = new Set<string>(Object.values(HEAD_LAYERS));

/** A backbone that cannot be used as asked: a missing cut layer, a shared layer, an unusable input. */
export class TransferModelError extends Error {
  override name = 'TransferModelError';
}

const NESTED = new Set(['Sequential', 'Model', 'Functional']);
const isNested = (layer: Layer): layer is Layer & LayersModel => NESTED.has(layer.getClassName());

/** All layers of a model, nested models' layers included, in topological order. */
export function flatLayers(model: LayersModel): Layer[] {
  return model.layers.flatMap((layer) => (isNested(layer) ? [layer, ...flatLayers(layer)] : [layer]));
}

function listNames(model: LayersModel): string {
  const names = flatLayers(model).filter((l) => !isNested(l) && l.getClassName() !== 'InputLayer').map((l) => l.name);
  return names.length > 12 ? `${names.slice(0, 4).join(', ')}, ..., ${names.slice(-8).join(', ')}` : names.join(', ');
}

/**
 * The model input and the symbolic output of layer `name`. A layer inside a nested model (as Teachable
 * Machine exports are built: a Sequential holding a truncated MobileNet) is reachable when that nested model
 * is fed the outer model's input directly; then the nested model's own graph is cut.
 */
function locate(model: LayersModel, name: string): { input: SymbolicTensor; output: SymbolicTensor } | undefined {
  const top = model.layers.find((layer) => layer.name === name);
  if (top) {
    if (top.inboundNodes.length !== 1) {
      throw new TransferModelError(`Backbone layer "${name}" is called ${top.inboundNodes.length} times; cut at a layer called once.`);
    }
    return { input: model.inputs[0], output: top.output as SymbolicTensor };
  }
  for (const layer of model.layers) {
    if (!isNested(layer)) continue;
    const inner = locate(layer, name);
    if (!inner) continue;
    const fedByInput = layer.inboundNodes.length === 1 && (layer.input as SymbolicTensor).id === model.inputs[0].id;
    if (!fedByInput) {
      throw new TransferModelError(
        `Backbone layer "${name}" is inside the nested model "${layer.name}", which is not fed the backbone's input directly; cut at a layer of the outer model instead.`,
      );
    }
    return inner;
  }
  return undefined;
}

export interface TransferSpec {
  /** The loaded backbone (consumed: its layers become the new model's). */
  backbone: LayersModel;
  /** Layer whose output is the features. */
  cutLayer: string;
  numClasses: number;
  /** Dropout before the classifier; 0 for none. */
  dropout: number;
  /** Seed of the classifier's Glorot-uniform initial weights. */
  seed: number;
  /** Name of the resulting model. */
  name: string;
}

/** The model and the views of it that training uses; all share the same layers and weights. */
export interface TransferModel {
  /** image -> probabilities: what checkpoints hold. */
  model: LayersModel;
  /** image -> logits (the loss is computed from logits). */
  logits: LayersModel;
  /** image -> pooled features, the input of the head. */
  features: LayersModel;
  /** pooled features -> logits: the head alone, trained on cached features. */
  headLogits: LayersModel;
  /** pooled features -> probabilities: the head alone, evaluated on cached features. */
  head: LayersModel;
}

/** Checks the backbone's input: one NHWC RGB image input of the given side. */
export function checkBackboneInput(backbone: LayersModel, imageSize: number): void {
  if (backbone.inputs.length !== 1) throw new TransferModelError(`The backbone has ${backbone.inputs.length} inputs; a backbone takes one image.`);
  const shape = backbone.inputs[0].shape;
  if (shape.length !== 4 || shape[3] !== 3) {
    throw new TransferModelError(`The backbone's input shape ${JSON.stringify(shape)} is not an RGB image batch [null, height, width, 3].`);
  }
  if ((shape[1] !== null && shape[1] !== imageSize) || (shape[2] !== null && shape[2] !== imageSize)) {
    throw new TransferModelError(`The backbone takes ${shape[1]}x${shape[2]} images, not ${imageSize}x${imageSize}; use --image-size ${shape[1]}.`);
  }
}

export function buildTransferModel(spec: TransferSpec): TransferModel {
  const { backbone } = spec;
  const found = locate(backbone, spec.cutLayer);
  if (!found) {
    throw new TransferModelError(`The backbone has no layer "${spec.cutLayer}" to cut at. Its layers: ${listNames(backbone)}. Pick one with --backbone-layer.`);
  }
  const rank = found.output.shape.length;
  if (rank !== 4 && rank !== 2) {
    throw new TransferModelError(`Layer "${spec.cutLayer}" outputs ${JSON.stringify(found.output.shape)}; the cut needs a feature map [N, H, W, C] or a feature vector [N, C].`);
  }
  const trunk = tfl.model({ inputs: found.input, outputs: found.output, name: `${spec.name}_trunk` });
  for (const layer of flatLayers(trunk)) {
    if (HEAD_NAMES.has(layer.name)) throw new TransferModelError(`The backbone already has a layer named "${layer.name}", which pets' head uses; cut before it.`);
    if (!isNested(layer) && layer.inboundNodes.length > 1) {
      throw new TransferModelError(`Backbone layer "${layer.name}" is called ${layer.inboundNodes.length} times (shared layers cannot be exported); cut before it or use another backbone.`);
    }
  }
  checkExportableLayers(trunk);
  let layerIndex = 0;
  const init = () => tfl.initializers.glorotUniform({ seed: spec.seed * 1000 + layerIndex++ });
  const pool = rank === 4 ? tfl.layers.globalAveragePooling2d({ name: HEAD_LAYERS.pool }) : undefined;
  const dropout = spec.dropout > 0 ? tfl.layers.dropout({ name: HEAD_LAYERS.dropout, rate: spec.dropout }) : undefined;
  const dense = tfl.layers.dense({ name: HEAD_LAYERS.logits, units: spec.numClasses, kernelInitializer: init() });
  const softmax = tfl.layers.activation({ name: HEAD_LAYERS.probs, activation: 'softmax' });
  const pooled = pool ? (pool.apply(found.output) as SymbolicTensor) : found.output;
  const dropped = dropout ? (dropout.apply(pooled) as SymbolicTensor) : pooled;
  const probs = softmax.apply(dense.apply(dropped) as SymbolicTensor) as SymbolicTensor;
  return transferViews(tfl.model({ inputs: found.input, outputs: probs, name: spec.name }));
}

/**
 * The training views of a transfer model, built here or loaded from a checkpoint: the head's layers are
 * found by name, and applied once more to a features input for the views on cached features.
 */
export function transferViews(model: LayersModel): TransferModel {
  const get = (name: string) => model.layers.find((l) => l.name === name);
  const dense = get(HEAD_LAYERS.logits);
  if (!dense) throw new TransferModelError(`The model has no "${HEAD_LAYERS.logits}" layer; it is not a pets transfer model.`);
  const dropout = get(HEAD_LAYERS.dropout);
  const logitsOut = dense.output as SymbolicTensor;
  const pooled = (dropout ? dropout.input : dense.input) as SymbolicTensor;
  const softmax = get(HEAD_LAYERS.probs);
  if (!softmax) throw new TransferModelError(`The model has no "${HEAD_LAYERS.probs}" layer; it is not a pets transfer model.`);
  const featureInput = tfl.input({ shape: [pooled.shape[1] as number], name: 'features' });
  const dropped = dropout ? (dropout.apply(featureInput) as SymbolicTensor) : featureInput;
  const headLogits = dense.apply(dropped) as SymbolicTensor;
  return {
    model,
    logits: tfl.model({ inputs: model.inputs, outputs: logitsOut }),
    features: tfl.model({ inputs: model.inputs, outputs: pooled }),
    headLogits: tfl.model({ inputs: featureInput, outputs: headLogits }),
    head: tfl.model({ inputs: featureInput, outputs: softmax.apply(headLogits) as SymbolicTensor }),
  };
}

/** True for layers pets added; false for the backbone's. */
export const isHeadLayer = (layer: Layer): boolean => HEAD_NAMES.has(layer.name);

/**
 * Makes the backbone's BatchNormalization layers always normalize with their moving statistics, also in
 * training passes, as Keras' transfer-learning guide does (`base_model(x, training=False)`): a small batch
 * of new images must not overwrite ImageNet statistics. tfjs' BatchNormalization reads only the call's
 * `training` flag (it ignores `trainable`, unlike Keras 2), so its call is wrapped. Not serialized: apply
 * it again to a model loaded from a checkpoint.
 */
export function keepBatchNormInInference(model: LayersModel): void {
  for (const layer of flatLayers(model)) {
    if (layer.getClassName() !== 'BatchNormalization' || isHeadLayer(layer)) continue;
    const marked = layer as Layer & { petsInference?: boolean };
    if (marked.petsInference) continue;
    const call = layer.call.bind(layer);
    layer.call = (inputs: Tensor | Tensor[], kwargs: Record<string, unknown>) => call(inputs, { ...kwargs, training: false });
    marked.petsInference = true;
  }
}

/** Throws TransferModelError unless the fine-tune stage can start at layer `name`. */
export function checkUnfreezeLayer(model: LayersModel, name: string | null | undefined): void {
  if (!name) throw new TransferModelError('Fine-tuning needs the first backbone layer to train: pass --unfreeze-from LAYER (this backbone has no default).');
  const layer = flatLayers(model).find((l) => l.name === name);
  if (!layer || isHeadLayer(layer)) {
    throw new TransferModelError(`The backbone has no layer "${name}" to unfreeze from. Its layers: ${listNames(model)}. Pick one with --unfreeze-from.`);
  }
}

/**
 * Sets which layers train: stage 'head' trains the head only; 'fine-tune' also trains the backbone from
 * layer `unfreezeFrom` on (in topological order). Returns how many weights train.
 */
export function setTrainable(model: LayersModel, stage: 'head' | 'fine-tune', unfreezeFrom?: string): number {
  const layers = flatLayers(model);
  let from = layers.length;
  if (stage === 'fine-tune') {
    checkUnfreezeLayer(model, unfreezeFrom);
    from = layers.findIndex((l) => l.name === unfreezeFrom);
  }
  const wanted = layers.map((layer, i) => isHeadLayer(layer) || i >= from);
  // Setting a nested model's flag sets all its layers' (tfjs' Container), and a nested model hands out
  // weights only while its own flag is on: set nested models first (outer before inner), then the layers.
  layers.forEach((layer) => {
    if (isNested(layer)) layer.trainable = flatLayers(layer).some((inner) => wanted[layers.indexOf(inner)]);
  });
  layers.forEach((layer, i) => {
    if (!isNested(layer)) layer.trainable = wanted[i];
  });
  return model.trainableWeights.reduce((n, w) => n + w.shape.reduce<number>((a, d) => a * (d ?? 1), 1), 0);
}

/**
 * Scales the classifier's initial kernel by 1 / (root mean square of the features): Glorot-uniform assumes
 * inputs of unit scale, and backbones differ (Darknet Tiny's pooled features have an RMS near 3.5, which
 * starts training at logits of +-30 and a loss of 30; MobileNet's is near 1). Returns the RMS.
 */
export function scaleHeadToFeatures(views: TransferModel, features: Float32Array): number {
  let sum = 0;
  for (const v of features) sum += v * v;
  const rms = Math.sqrt(sum / Math.max(1, features.length));
  if (!(rms > 0) || !Number.isFinite(rms)) return rms;
  const dense = views.model.getLayer(HEAD_LAYERS.logits);
  const [kernel, bias] = dense.getWeights();
  tf.tidy(() => dense.setWeights([tf.div(kernel, rms), bias]));
  return rms;
}

/** Runs the frozen part once: pooled features of a batch of normalized images (or of their mirror images). */
export function extractFeatures(features: LayersModel, x: Float32Array, shape: number[], options: { mirror?: boolean } = {}): Float32Array {
  return tf.tidy(() => {
    const images = tf.tensor(x, shape);
    return (features.predict(options.mirror ? tf.reverse(images, 2) : images) as Tensor).dataSync() as Float32Array;
  });
}
