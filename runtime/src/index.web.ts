// @pets/runtime for browsers: classify() and createClassifier() on onnxruntime-web (WebGPU, else wasm),
// decoding with createImageBitmap. Same API as the Node entry.
import { webPlatform, type WebImageInput, type WebPlatformOptions } from './backend/web.js';
import { Classifier, type ClassifyOutcome, type Prediction, type PredictOptions } from './classifier.js';
import type { DecodedPixels } from './preprocess.js';
import { ClassifierCache } from './session-cache.js';

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

export { Classifier, topPredictions } from './classifier.js';
export type { ClassifierInfo, ClassifyOutcome, Prediction, PredictOptions } from './classifier.js';
export { likelyWebProvider, preloadWebRuntime, WEB_PROVIDERS } from './backend/web.js';
export type { WebProvider, WebImageInput, WebPlatformOptions } from './backend/web.js';
export { ExecutionProviderError, ImageDecodeError } from './errors.js';
export { ModelContractError } from './contract.js';
export type { ModelContract } from './contract.js';
export type { DecodedPixels } from './preprocess.js';
