// From the --backbone options to a transfer model: resolve and load the backbone (bundled, a path, or a
// URL downloaded once into the cache), decide its cut, normalization and input size, and build the model.
import type { ModelContract } from '@pets/runtime/contract';
import type { LayersModel, SymbolicTensor } from '../backend/tf.js';
import { findKnownBackbone, loadBackbone, parseNormalization, resolveBackbone, type KnownBackbone, type ResolveOptions } from '../backbones/index.js';
import { buildTransferModel, checkBackboneInput, flatLayers, TransferModelError, type TransferModel } from './model.js';

/** The transfer part of a run's configuration, saved in config.json. */
export interface TransferConfig {
  /** As given: a known name, a model.json path or folder, or a URL. */
  backbone: string;
  /** Bundle digest of the backbone's files (model.json then shards), checked again on --resume. */
  backboneSha256: string;
  /** Layer whose output is the features. */
  backboneLayer: string;
  /** First backbone layer trained in the fine-tune stage; null when the backbone has no default and none was given. */
  unfreezeFrom: string | null;
  /** Learning rate of the fine-tune stage. */
  fineTuneLearningRate: number;
  /** The backbone's preprocessing, which becomes the contract's. */
  normalization: ModelContract['normalization'];
}

/** What the user asked for; unset fields come from the known backbone (or the model itself). */
export interface TransferRequest {
  backbone: string;
  backboneLayer?: string;
  normalize?: string;
  unfreezeFrom?: string;
  fineTuneLearningRate: number;
  backboneSha256?: string;
}

export interface LoadedBackbone {
  model: LayersModel;
  known?: KnownBackbone;
  sha256: string;
  source: string;
  /** The backbone's fixed input side, if it has one. */
  inputSize: number | null;
}

/** Resolves (downloading once when it is a URL) and loads a backbone, for inputs of `inputSize` when given. */
export async function openBackbone(spec: string, options: ResolveOptions, inputSize?: number): Promise<LoadedBackbone> {
  const resolved = await resolveBackbone(spec, options);
  const model = await loadBackbone(resolved, { inputSize });
  const shape = model.inputs[0]?.shape ?? [];
  const side = shape[1] !== null && shape[1] === shape[2] ? (shape[1] as number) : null;
  return { model, known: resolved.known, sha256: resolved.sha256, source: resolved.source, inputSize: side };
}

const GLOBAL_POOLING = new Set(['GlobalAveragePooling2D', 'GlobalMaxPooling2D']);

/** A backbone's default cut: the known one, else its last global pooling, else its last feature map. */
export function defaultCutLayer(backbone: LoadedBackbone): string {
  if (backbone.known) return backbone.known.featureLayer;
  const layers = flatLayers(backbone.model).filter((l) => l.inboundNodes.length === 1);
  const pooling = layers.filter((l) => GLOBAL_POOLING.has(l.getClassName())).pop();
  if (pooling) return pooling.name;
  const map = layers.filter((l) => (l.output as SymbolicTensor).shape?.length === 4).pop();
  if (!map) throw new TransferModelError('The backbone has no layer with a feature map [N, H, W, C] to cut at; pass --backbone-layer.');
  return map.name;
}

/** Completes the transfer configuration from the request and the loaded backbone. */
export function resolveTransferConfig(request: TransferRequest, backbone: LoadedBackbone): TransferConfig {
  const known = backbone.known ?? findKnownBackbone(request.backbone);
  let normalization: ModelContract['normalization'];
  if (request.normalize !== undefined) normalization = parseNormalization(request.normalize);
  else if (known) normalization = { scale: known.normalization.scale, mean: [...known.normalization.mean], std: [...known.normalization.std] };
  else {
    throw new TransferModelError(
      `pets does not know how backbone "${request.backbone}" expects its pixels scaled: pass --normalize unit (x/255), symmetric (x/127.5 - 1) or imagenet (mean/std on x/255), as the model was trained.`,
    );
  }
  return {
    backbone: request.backbone,
    backboneSha256: backbone.sha256,
    backboneLayer: request.backboneLayer ?? defaultCutLayer({ ...backbone, known }),
    unfreezeFrom: request.unfreezeFrom ?? known?.unfreezeFrom ?? null,
    fineTuneLearningRate: request.fineTuneLearningRate,
    normalization,
  };
}

export interface BuildFromBackboneArgs {
  backbone: LoadedBackbone;
  transfer: TransferConfig;
  imageSize: number;
  numClasses: number;
  dropout: number;
  seed: number;
}

/** Checks the input size and builds the transfer model (consuming the backbone's layers). */
export function buildFromBackbone(args: BuildFromBackboneArgs): TransferModel {
  checkBackboneInput(args.backbone.model, args.imageSize);
  const cut = flatLayers(args.backbone.model).find((l) => l.name === args.transfer.backboneLayer);
  const shape = (cut?.output as SymbolicTensor | undefined)?.shape;
  if (shape?.length === 4 && !((shape[1] ?? 1) >= 1 && (shape[2] ?? 1) >= 1)) {
    throw new TransferModelError(`At ${args.imageSize}x${args.imageSize} the backbone leaves no pixels at layer "${args.transfer.backboneLayer}" (${JSON.stringify(shape)}); use a larger --image-size.`);
  }
  return buildTransferModel({
    backbone: args.backbone.model,
    cutLayer: args.transfer.backboneLayer,
    numClasses: args.numClasses,
    dropout: args.dropout,
    seed: args.seed,
    name: 'pets_transfer',
  });
}
