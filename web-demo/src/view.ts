// Everything the page shows: model status, the photo, the top-5 bars, timings and errors. No logic.
import type { ClassifierInfo, Prediction } from '@pets/runtime';

function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`index.html has no #${id}`);
  return element as T;
}

const modelStatus = byId('model-status');
const modelText = byId('model-text');
const modelProgress = byId<HTMLProgressElement>('model-progress');
const modelDetails = byId<HTMLParagraphElement>('model-details');
const errorBox = byId('error');
const errorMessage = byId<HTMLParagraphElement>('error-message');
const errorDetail = byId<HTMLParagraphElement>('error-detail');
const result = byId('result');
const preview = byId<HTMLImageElement>('preview');
const previewName = byId('preview-name');
const predictionList = byId<HTMLOListElement>('predictions');
const timing = byId<HTMLParagraphElement>('timing');
const announce = byId<HTMLParagraphElement>('announce');

const PROVIDER_NAMES: Record<string, string> = { webgpu: 'WebGPU', wasm: 'WebAssembly (wasm)' };

/** 'american_pit_bull_terrier' -> 'American pit bull terrier'; 'Egyptian_Mau' -> 'Egyptian Mau'. */
export function breedName(label: string): string {
  const words = label.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function megabytes(bytes: number): string {
  if (bytes < 1e6) return `${Math.ceil(bytes / 1e3)} kB`;
  return `${(bytes / 1e6).toFixed(bytes < 1e8 ? 1 : 0)} MB`;
}

export function showModelProgress(loaded: number, total: number | undefined): void {
  if (total) {
    modelProgress.max = total;
    modelProgress.value = Math.min(loaded, total);
    modelText.textContent = `Downloading the model… ${megabytes(loaded)} of ${megabytes(total)}`;
  } else {
    modelProgress.removeAttribute('value');
    modelText.textContent = `Downloading the model… ${megabytes(loaded)}`;
  }
}

export function showModelStarting(): void {
  modelProgress.removeAttribute('value');
  modelText.textContent = 'Starting ONNX Runtime…';
}

export interface ModelSummary {
  info: ClassifierInfo;
  bytes: number;
  precision: string;
  threads: number;
  /** The provider list the page asked for: 'auto', or forced with ?ep=. */
  requested: string;
}

export function showModelReady({ info, bytes, precision, threads, requested }: ModelSummary): void {
  const provider = PROVIDER_NAMES[info.executionProvider] ?? info.executionProvider;
  modelStatus.dataset.state = 'ready';
  modelStatus.dataset.provider = info.executionProvider;
  modelProgress.hidden = true;
  const threadNote = info.executionProvider === 'wasm' ? (threads > 1 ? `, ${threads} threads` : ', 1 thread') : '';
  modelText.textContent = `Ready: runs on ${provider}${threadNote}`;
  const { height, width } = info.inputSize;
  const lines = [`${info.labels.length} breeds · ${width}×${height} input · ${megabytes(bytes)} ${precision} model`];
  if (info.reason) lines.push(`WebGPU not used: ${info.reason}`);
  else if (requested !== 'auto') lines.push(`Chosen by ?ep=${requested} in the address.`);
  if (info.executionProvider === 'wasm' && threads === 1 && !crossOriginIsolated) {
    lines.push('One thread: the page is not cross-origin isolated (its server sends no COOP/COEP headers).');
  }
  modelDetails.replaceChildren(
    ...lines.map((line) => {
      const span = document.createElement('span');
      span.textContent = line;
      if (line.startsWith('WebGPU not used') || line.startsWith('One thread')) span.className = 'note';
      return span;
    }),
  );
  modelDetails.dataset.reason = info.reason ?? '';
  modelDetails.hidden = false;
}

export function showModelFailed(message: string): void {
  modelStatus.dataset.state = 'failed';
  modelProgress.hidden = true;
  modelText.textContent = 'The model could not be loaded.';
  const reason = document.createElement('span');
  reason.textContent = message;
  modelDetails.replaceChildren(reason);
  if (new URLSearchParams(location.search).has('ep')) {
    // A forced execution provider failed: offer the automatic choice.
    const link = document.createElement('a');
    link.href = location.pathname;
    link.textContent = 'Load it with the automatic choice (WebGPU, else wasm)';
    modelDetails.append(link);
  }
  modelDetails.hidden = false;
}

/** Shows what went wrong (and, smaller, the technical detail); the page keeps working. */
export function showError(message: string, detail = ''): void {
  errorMessage.textContent = message;
  errorDetail.textContent = detail;
  errorBox.hidden = false;
}

export function clearError(): void {
  errorBox.hidden = true;
  errorMessage.textContent = '';
  errorDetail.textContent = '';
}

/** Shows the photo while it is being classified. */
export function showPhoto(url: string, name: string): void {
  preview.src = url;
  preview.alt = `The photo being classified: ${name}`;
  previewName.textContent = name;
  predictionList.replaceChildren();
  predictionList.setAttribute('aria-busy', 'true');
  timing.textContent = 'Classifying…';
  result.dataset.state = 'busy';
  result.hidden = false;
  // On a phone the result is below the samples: bring it into view.
  const smooth = !matchMedia('(prefers-reduced-motion: reduce)').matches;
  result.scrollIntoView({ block: 'nearest', behavior: smooth ? 'smooth' : 'auto' });
}

export function hideResult(): void {
  result.hidden = true;
  result.dataset.state = 'empty';
  predictionList.setAttribute('aria-busy', 'false');
  preview.removeAttribute('src');
}

function predictionRow(prediction: Prediction): HTMLLIElement {
  const row = document.createElement('li');
  // Exact values for tests and scripts; the text is rounded.
  row.dataset.label = prediction.label;
  row.dataset.index = String(prediction.index);
  row.dataset.probability = String(prediction.probability);
  const name = document.createElement('span');
  name.className = 'breed';
  name.textContent = breedName(prediction.label);
  const percent = document.createElement('span');
  percent.className = 'percent';
  percent.textContent = `${(prediction.probability * 100).toFixed(1)}%`;
  const bar = document.createElement('span');
  bar.className = 'bar';
  bar.setAttribute('aria-hidden', 'true');
  const fill = document.createElement('span');
  fill.style.width = `${Math.max(0, Math.min(1, prediction.probability)) * 100}%`;
  bar.append(fill);
  row.append(name, percent, bar);
  return row;
}

export function showPredictions(predictions: Prediction[], milliseconds: number, executionProvider: string): void {
  predictionList.replaceChildren(...predictions.map(predictionRow));
  predictionList.setAttribute('aria-busy', 'false');
  const provider = PROVIDER_NAMES[executionProvider] ?? executionProvider;
  timing.textContent = `Classified in ${milliseconds.toFixed(0)} ms on ${provider}.`;
  timing.dataset.milliseconds = String(milliseconds);
  result.dataset.state = 'done';
  const [top] = predictions;
  announce.textContent = top ? `Most likely ${breedName(top.label)}, ${(top.probability * 100).toFixed(0)} percent.` : '';
}
