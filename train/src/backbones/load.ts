// A resolved backbone into a tfjs LayersModel: model.json and every shard are checked first (a Layers
// model, each shard present with the size its manifest implies, the bundle digest), so that a damaged
// or foreign model is one clear line instead of an error from deep inside tfjs.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { tf, tfl, type LayersModel } from '../backend/tf.js';
import { BackboneError } from './errors.js';
import { inspectBundle } from './manifest.js';
import type { ResolvedBackbone } from './resolve.js';

function damaged(resolved: ResolvedBackbone, actual: string): BackboneError {
  const digests = `its bundle digest is ${actual}, expected ${resolved.sha256}`;
  switch (resolved.source) {
    case 'bundled': {
      const folder = resolved.known?.bundled ?? resolved.modelJson;
      return new BackboneError(`The bundled backbone data/backbones/${folder} is damaged: ${digests}; restore it (git checkout -- data/backbones/${folder}).`);
    }
    case 'cache':
    case 'url':
      return new BackboneError(`The cached download of ${resolved.url} (${resolved.modelJson}) is damaged: ${digests}; resolve it again to download it anew.`);
    default:
      return new BackboneError(`${resolved.modelJson} or its shards changed after it was resolved: ${digests}; resolve it again.`);
  }
}

/** Options of loadBackbone(). */
export interface LoadBackboneOptions {
  /**
   * Build the model for inputs of this side instead of the one model.json saves (a fully convolutional
   * backbone takes any size its downsampling leaves pixels for). Default: the saved size.
   */
  inputSize?: number;
}

type Topology = { class_name?: string; config?: unknown; model_config?: unknown };

/** A copy of a Keras topology whose input layer (functional) or first layer (Sequential) takes side x side images. */
function withInputSize(topology: object, side: number): object {
  const copy = structuredClone(topology) as Topology;
  const model = (copy.model_config ?? copy) as Topology;
  const config = model.config as { layers?: { class_name: string; config: Record<string, unknown> }[] } | { class_name: string; config: Record<string, unknown> }[];
  const layers = Array.isArray(config) ? config : (config?.layers ?? []);
  const inputs = model.class_name === 'Sequential' ? layers.slice(0, 1) : layers.filter((l) => l.class_name === 'InputLayer');
  for (const layer of inputs) {
    const shape = (layer.config.batch_input_shape ?? layer.config.batchInputShape) as (number | null)[] | undefined;
    if (!shape || shape.length !== 4) continue;
    layer.config.batch_input_shape = [shape[0], side, side, shape[3]];
    delete layer.config.batchInputShape;
  }
  return copy;
}

/** Loads the backbone's Layers model (weights included) after checking its files. */
export async function loadBackbone(resolved: ResolvedBackbone, options: LoadBackboneOptions = {}): Promise<LayersModel> {
  const bundle = await inspectBundle(resolved.modelJson);
  const hash = createHash('sha256').update(bundle.jsonBytes);
  const total = bundle.shards.reduce((n, s) => n + s.size, 0);
  const weights = new Uint8Array(total);
  let offset = 0;
  for (const shard of bundle.shards) {
    const bytes = await readFile(shard.file);
    if (bytes.byteLength !== shard.size) throw new BackboneError(`Shard ${shard.path} of ${resolved.modelJson} changed while it was read; run again.`);
    hash.update(bytes);
    weights.set(bytes, offset);
    offset += bytes.byteLength;
  }
  const digest = hash.digest('hex');
  if (resolved.sha256 && digest !== resolved.sha256.toLowerCase()) throw damaged(resolved, digest);
  const weightSpecs = bundle.model.weightsManifest.flatMap((group) => group.weights) as tf.io.WeightsManifestEntry[];
  const { inputSize } = options;
  const modelTopology = inputSize === undefined ? bundle.model.modelTopology : withInputSize(bundle.model.modelTopology, inputSize);
  try {
    return await tfl.loadLayersModel(tf.io.fromMemory({ modelTopology, weightSpecs, weightData: weights.buffer }));
  } catch (error) {
    const message = String((error as Error)?.message ?? error).split('\n')[0];
    if (inputSize !== undefined) {
      throw new BackboneError(`The backbone ${resolved.spec} cannot take ${inputSize}x${inputSize} images (${message}); use its own input size or a larger --image-size.`);
    }
    throw new BackboneError(`Cannot build the Layers model of ${resolved.modelJson}: ${message}; it needs layers and weights TensorFlow.js ${tf.version_core} supports.`);
  }
}
