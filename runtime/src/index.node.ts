// @pets/runtime for Node: classify() and createClassifier() on onnxruntime-node (CUDA, else CPU) with
// sharp decoding. The model's embedded contract decides all preprocessing and the labels.
import { resolve } from 'node:path';
import { nodePlatform, type NodeImageInput, type NodePlatformOptions } from './backend/node.js';
import { Classifier, type ClassifyOutcome, type Prediction, type PredictOptions } from './classifier.js';
import type { DecodedPixels } from './preprocess.js';
import { ClassifierCache } from './session-cache.js';
import { openRemoteClassifier, type RemoteClassifier, type RemoteClassifierOptions } from './remote/remote-classifier.js';

/** Options of createClassifier(). */
export interface ClassifierOptions extends NodePlatformOptions {
  /** The .onnx model written by pets-export: a path or its bytes. */
  model: string | Uint8Array | ArrayBuffer;
  /** Most images per inference run when calls are batched. Default 16. */
  maxBatch?: number;
  /** Called with the number of images of each inference run (for metrics). Default none. */
  onBatch?: (size: number) => void;
}

/** Options of classify(): the classifier's and the prediction's. */
export type ClassifyOptions = ClassifierOptions & PredictOptions;

export type NodeClassifier = Classifier<NodeImageInput>;
export type ImageInput = NodeImageInput | DecodedPixels;

export async function createClassifier(options: ClassifierOptions): Promise<NodeClassifier> {
  if (typeof options !== 'object' || options === null || options.model === undefined) {
    throw new TypeError('createClassifier needs { model }: a path to a .onnx file written by pets-export, or its bytes.');
  }
  return Classifier.create(nodePlatform(options), options.model, options.maxBatch, options.onBatch);
}

const cache = new ClassifierCache<NodeClassifier>();

/** Classifies with a cached classifier per model: one input gives predictions, an array one outcome each. */
export function classify(input: ImageInput, options: ClassifyOptions): Promise<Prediction[]>;
export function classify(inputs: ImageInput[], options: ClassifyOptions): Promise<ClassifyOutcome[]>;
export async function classify(inputs: ImageInput | ImageInput[], options: ClassifyOptions): Promise<Prediction[] | ClassifyOutcome[]> {
  const { topK, all, ...classifierOptions } = options ?? ({} as ClassifyOptions);
  const model = typeof classifierOptions.model === 'string' ? resolve(classifierOptions.model) : classifierOptions.model;
  const { model: _model, ...settings } = classifierOptions;
  const classifier = await cache.get(model, JSON.stringify(settings), () => createClassifier({ ...classifierOptions, model }));
  return Array.isArray(inputs) ? classifier.classify(inputs, { topK, all }) : classifier.classify(inputs, { topK, all });
}

/** Releases every session classify() has cached. */
export async function disposeCachedClassifiers(): Promise<void> {
  await Promise.all((await cache.clear()).map((c) => c.dispose()));
}

/** Options of createRemoteClassifier() in Node: the server's, and limits on the images decoded here. */
export interface NodeRemoteClassifierOptions extends RemoteClassifierOptions, Pick<NodePlatformOptions, 'maxPixels' | 'maxBytes'> {}

/**
 * classify() on a model served by pets-serve, Triton or KServe (Open Inference Protocol): images are
 * decoded and preprocessed here, per the model's contract, and sent as binary tensors.
 */
export async function createRemoteClassifier(options: NodeRemoteClassifierOptions): Promise<RemoteClassifier<NodeImageInput>> {
  return openRemoteClassifier(nodePlatform({ maxPixels: options?.maxPixels, maxBytes: options?.maxBytes }), options);
}

export { Classifier, DEFAULT_MAX_BATCH, topPredictions } from './classifier.js';
export type { ClassifierInfo, ClassifyOutcome, Prediction, PredictOptions } from './classifier.js';
export type { ImageOutputs } from './batcher.js';
export { modelDtype } from './onnx-dtype.js';
export type { ModelDtype } from './onnx-dtype.js';
export { NODE_PROVIDERS, DEFAULT_MAX_BYTES, cudaUnavailableReason } from './backend/node.js';
export type { NodeProvider, NodeImageInput, NodePlatformOptions } from './backend/node.js';
export { DEFAULT_MAX_PIXELS } from './backend/node-decode.js';
export { ExecutionProviderError, ImageDecodeError } from './errors.js';
export { ModelContractError } from './contract.js';
export type { ModelContract } from './contract.js';
export type { DecodedPixels } from './preprocess.js';
export { DEFAULT_REMOTE_TIMEOUT_MS } from './remote/remote-classifier.js';
export type { RemoteClassifier, RemoteClassifierInfo, RemoteClassifierOptions, RemoteServerInfo } from './remote/remote-classifier.js';
export { RemoteInferenceError } from './remote/errors.js';
export type { RemoteFailure } from './remote/errors.js';
