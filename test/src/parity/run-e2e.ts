// End-to-end parity: the same image files classified by @pets/runtime in Node (sharp decoding) and in
// Chromium (the web entry, createImageBitmap decoding), decode and resize included.
import { readFile } from 'node:fs/promises';
import { createClassifier } from '@pets/runtime';
import { openBrowserRuntime } from './browser.js';
import { compareOutputs, type ProviderReport } from './compare.js';

export interface E2eOptions {
  model: string;
  /** Image files to compare. */
  images: string[];
  /** Browser execution provider. Default wasm. */
  ep?: 'wasm' | 'webgpu';
  /** Largest allowed |Δp|. Default 1e-3. */
  maxAbsProbability?: number;
  onProgress?: (message: string) => void;
}

export async function runEndToEnd(options: E2eOptions): Promise<ProviderReport> {
  const bytes = new Uint8Array(await readFile(options.model));
  const node = await createClassifier({ model: bytes, executionProviders: ['cpu'] });
  const browser = await openBrowserRuntime(bytes, { webgpu: options.ep === 'webgpu' });
  try {
    const classes = node.info.labels.length;
    const nodeP = new Float32Array(options.images.length * classes);
    const webP = new Float32Array(options.images.length * classes);
    for (const [i, path] of options.images.entries()) {
      for (const p of await node.classify(path, { all: true })) nodeP[i * classes + p.index] = p.probability;
      webP.set(await browser.classifyFile(options.ep ?? 'wasm', path), i * classes);
      options.onProgress?.(`${i + 1}/${options.images.length} images`);
    }
    const names = options.images.map((p) => p.split('/').pop() ?? p);
    const tolerance = { maxAbsProbability: options.maxAbsProbability ?? 1e-3, minTop1Agreement: 1, nearTie: 0 };
    return compareOutputs(`browser-${options.ep ?? 'wasm'} vs node`, names, { probabilities: nodeP, logits: null }, { probabilities: webP, logits: null }, tolerance);
  } finally {
    await browser.close();
    await node.dispose();
  }
}
