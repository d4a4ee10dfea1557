// @pets/runtime for browsers: classify() and createClassifier() on onnxruntime-web (WebGPU, else wasm),
// decoding with createImageBitmap. Same API as the Node entry.
import { webPlatform, type WebImageInput, type WebPlatformOptions } from './backend/web.js';
import { Classifier, type ClassifyOutcome, type Prediction, type PredictOptions } from './classifier.js';
import type { DecodedPixels } from './preprocess.js';
import { ClassifierCache } from './session-cache.js';
import { openRemoteClassifier, type RemoteClassifier, type RemoteClassifierOptions } from './remote/remote-classifier.js';

/** Options of createClassifier(). */
export interface ClassifierOptions extends WebPlatformOptions {
  /** The .onnx model written by pets-export: a URL or its bytes. */
  model: string | Uint8Array | ArrayBuffer;
  /** Most images per inference run when calls are batched. Default 16. */
  maxBatch?: number;
}

export type ClassifyOptions = ClassifierOptions & PredictOptions;
export type WebClassifier = Classifier<WebImageInput>;
export type ImageInput = WebImageInput | DecodedPixels;

export async function createClassifier(options: ClassifierOptions): Promise<WebClassifier> {
  if (typeof options !== 'object' || options === null || options.model === undefined) {
    throw new TypeError('createClassifier needs { model }: the URL of a .onnx file written by pets-export, or its bytes.');
  }
  return Classifier.create(webPlatform(options), options.model, options.maxBatch);
}

const cache = new ClassifierCache<WebClassifier>();

export function classify(input: ImageInput, options: ClassifyOptions): Promise<Prediction[]>;
export function classify(inputs: ImageInput[], options: ClassifyOptions): Promise<ClassifyOutcome[]>;
export async function classify(inputs: ImageInput | ImageInput[], options: ClassifyOptions): Promise<Prediction[] | ClassifyOutcome[]> {
  const { topK, all, ...classifierOptions } = options ?? ({} as ClassifyOptions);
  const { model, ...settings } = classifierOptions;
  const classifier = await cache.get(model, JSON.stringify(settings), () => createClassifier(classifierOptions));
  return Array.isArray(inputs) ? classifier.classify(inputs, { topK, all }) : classifier.classify(inputs, { topK, all });
}

export async function disposeCachedClassifiers(): Promise<void> {
  await Promise.all((await cache.clear()).map((c) => c.dispose()));
}

/** Options of createRemoteClassifier() in browsers: the server's, and limits on the images decoded here. */
export interface WebRemoteClassifierOptions extends RemoteClassifierOptions, Pick<WebPlatformOptions, 'maxPixels' | 'maxBytes'> {}

/**
 * classify() on a model served by pets-serve, Triton or KServe (Open Inference Protocol) with fetch():
 * images are decoded and preprocessed in the page and sent as binary tensors. The server must allow the
 * page's origin (CORS) when it is another.
 */
export async function createRemoteClassifier(options: WebRemoteClassifierOptions): Promise<RemoteClassifier<WebImageInput>> {
  return openRemoteClassifier(webPlatform({ maxPixels: options?.maxPixels, maxBytes: options?.maxBytes }), options);
}

export { Classifier, topPredictions } from './classifier.js';
export type { ClassifierInfo, ClassifyOutcome, Prediction, PredictOptions } from './classifier.js';
export { modelDtype } from './onnx-dtype.js';
export type { ModelDtype } from './onnx-dtype.js';
export { likelyWebProvider, preloadWebRuntime, WEB_PROVIDERS } from './backend/web.js';
export type { WebProvider, WebImageInput, WebPlatformOptions } from './backend/web.js';
export { ExecutionProviderError, ImageDecodeError } from './errors.js';
export { ModelContractError } from './contract.js';
export type { ModelContract } from './contract.js';
export type { DecodedPixels } from './preprocess.js';
export { DEFAULT_REMOTE_TIMEOUT_MS } from './remote/remote-classifier.js';
export type { RemoteClassifier, RemoteClassifierInfo, RemoteClassifierOptions, RemoteServerInfo } from './remote/remote-classifier.js';
export { RemoteInferenceError } from './remote/errors.js';
export type { RemoteFailure } from './remote/errors.js';
