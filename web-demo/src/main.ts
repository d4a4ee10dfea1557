// The demo page: downloads the model (with progress), opens it with @pets/runtime's browser entry
// (WebGPU, else wasm) and classifies whatever photo the user picks, drops, pastes or samples.
// ?ep=webgpu or ?ep=wasm forces an execution provider (default: auto).
import { createClassifier, ImageDecodeError, likelyWebProvider, preloadWebRuntime, WEB_PROVIDERS, type WebClassifier, type WebProvider } from '@pets/runtime';
import { showSamples, watchDrops, watchFileInput, watchPaste, type PickedImage } from './inputs.js';
import { fetchWithProgress } from './model-loader.js';
import { keepForOffline } from './offline.js';
import { SITE_CONFIG_FILE, type SiteConfig } from './site-config.js';
import * as view from './view.js';

const pageUrl = (relative: string) => new URL(relative, document.baseURI).href;

function requestedProviders(): { requested: string; executionProviders: 'auto' | WebProvider[] } {
  const value = new URLSearchParams(location.search).get('ep');
  if (!value || value === 'auto') return { requested: 'auto', executionProviders: 'auto' };
  const list = value.split(',');
  if (list.every((p): p is WebProvider => (WEB_PROVIDERS as readonly string[]).includes(p))) return { requested: value, executionProviders: list };
  view.showError(`Unknown execution provider "?ep=${value}". Expected auto, ${WEB_PROVIDERS.join(', ')} or a comma-separated list; using auto.`);
  return { requested: 'auto', executionProviders: 'auto' };
}

/** wasm threads need SharedArrayBuffer, which only a cross-origin isolated page (COOP + COEP headers) has. */
const threads = crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1;

/**
 * Starts the runtime's download while the model's goes on: the onnxruntime-web build the model will most
 * likely run on (WebGPU's only when it is usable), and its .wasm.
 */
async function prefetchRuntime(config: SiteConfig, executionProviders: 'auto' | WebProvider[]): Promise<Partial<Record<WebProvider, Promise<ArrayBuffer>>>> {
  const provider = await likelyWebProvider(executionProviders, config.model.precision === 'fp16');
  preloadWebRuntime(provider).catch(() => undefined); // a failure shows when the session opens
  const binary = fetch(pageUrl(config.ortFiles[provider])).then((response) => {
    if (!response.ok) throw new Error(`Cannot download onnxruntime-web's ${config.ortFiles[provider]}: HTTP ${response.status}.`);
    return response.arrayBuffer();
  });
  binary.catch(() => undefined);
  return { [provider]: binary };
}

async function loadClassifier(config: SiteConfig): Promise<WebClassifier> {
  const { requested, executionProviders } = requestedProviders();
  const model = fetchWithProgress(pageUrl(config.model.url), config.model.bytes, view.showModelProgress);
  const wasmBinaries = config.prefetch ? await prefetchRuntime(config, executionProviders).catch(() => undefined) : undefined;
  const bytes = await model;
  view.showModelStarting();
  // No wasmPaths: each onnxruntime-web build finds its .wasm beside itself, in ort/.
  const classifier = await createClassifier({ model: bytes, executionProviders, wasmBinaries, threads });
  view.showModelReady({ info: classifier.info, bytes: bytes.length, precision: config.model.precision, threads, requested });
  return classifier;
}

/** What to tell the user when a photo cannot be classified: a sentence, and the technical detail. */
function describeFailure(error: unknown, name: string): [string, string] {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof ImageDecodeError) {
    const detail = message.replace(`Cannot decode image ${error.input}: `, '');
    return [`“${name}” could not be read as an image. Choose a JPEG, PNG, WebP or GIF photo.`, `Details: ${detail}`];
  }
  return [`“${name}” could not be classified.`, `Details: ${message}`];
}

function start(config: SiteConfig, classifier: Promise<WebClassifier>): void {
  let latest = 0;
  let previewUrl: string | undefined;

  async function classifyImage({ blob, name }: PickedImage): Promise<void> {
    const id = ++latest;
    view.clearError();
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = URL.createObjectURL(blob);
    view.showPhoto(previewUrl, name);
    try {
      const ready = await classifier.catch((error: Error) => {
        throw new Error(`the model is not loaded (${error.message})`);
      });
      const started = performance.now();
      const predictions = await ready.classify(blob, { topK: 5 });
      const milliseconds = performance.now() - started;
      if (id === latest) view.showPredictions(predictions, milliseconds, ready.info.executionProvider);
    } catch (error) {
      if (id !== latest) return;
      view.hideResult();
      view.showError(...describeFailure(error, name));
    }
  }
  const onImage = (image: PickedImage) => void classifyImage(image);

  watchFileInput(document.getElementById('file-input') as HTMLInputElement, onImage);
  watchDrops(document.getElementById('drop-zone') as HTMLElement, onImage, () => view.showError('Nothing to classify was dropped: drop an image file.'));
  watchPaste(onImage);
  showSamples(document.getElementById('samples') as HTMLElement, config.samples, onImage, (error) => view.showError(error.message));
}

async function main(): Promise<void> {
  const response = await fetch(pageUrl(SITE_CONFIG_FILE));
  if (!response.ok) throw new Error(`Cannot load ${SITE_CONFIG_FILE}: HTTP ${response.status}. Build the site with "npm run web:build".`);
  const config = (await response.json()) as SiteConfig;
  const classifier = loadClassifier(config);
  classifier.catch((error: Error) => view.showModelFailed(error.message));
  start(config, classifier);
  // For tests and the bench (npm run bench times classifier.infer() in this page).
  (window as { petsClassifier?: Promise<WebClassifier> }).petsClassifier = classifier;
  if (config.serviceWorker) keepForOffline(pageUrl(config.serviceWorker), classifier);
}

main().catch((error: Error) => view.showModelFailed(error.message));
