// End-to-end parity: the same image files classified by @pets/runtime in Node (sharp decoding) and in
// Chromium (the web entry, createImageBitmap decoding), decode and resize included. A file either side
// cannot decode is reported and skipped; the verdict is on the images both sides decoded.
import { readFile } from 'node:fs/promises';
import { createClassifier, ImageDecodeError } from '@pets/runtime';
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

/** An image left out of the comparison: which side could not decode it, and that side's error. */
export interface SkippedImage {
  image: string;
  side: 'node' | 'browser' | 'both';
  reason: string;
}

export interface E2eReport extends ProviderReport {
  /** Images one side or both could not decode; not counted in the verdict. */
  skippedImages: SkippedImage[];
}

const baseName = (path: string) => path.split('/').pop() ?? path;

/** The probabilities, or the decode error's message; any other error is a bug and is thrown. */
async function decoded(classify: () => Promise<Float32Array>): Promise<Float32Array | string> {
  try {
    return await classify();
  } catch (error) {
    if (error instanceof ImageDecodeError) return error.message;
    throw error;
  }
}

export async function runEndToEnd(options: E2eOptions): Promise<E2eReport> {
  const bytes = new Uint8Array(await readFile(options.model));
  const node = await createClassifier({ model: bytes, executionProviders: ['cpu'] });
  const browser = await openBrowserRuntime(bytes, { webgpu: options.ep === 'webgpu' });
  try {
    const classes = node.info.labels.length;
    const nodeRows: Float32Array[] = [];
    const webRows: Float32Array[] = [];
    const names: string[] = [];
    const skippedImages: SkippedImage[] = [];
    for (const [i, path] of options.images.entries()) {
      const nodeP = await decoded(async () => {
        const p = new Float32Array(classes);
        for (const q of await node.classify(path, { all: true })) p[q.index] = q.probability;
        return p;
      });
      const webP = await decoded(() => browser.classifyFile(options.ep ?? 'wasm', path));
      if (typeof nodeP === 'string' || typeof webP === 'string') {
        const side = typeof nodeP === 'string' ? (typeof webP === 'string' ? 'both' : 'node') : 'browser';
        const reason = [nodeP, webP].filter((r): r is string => typeof r === 'string').map((r, k) => `${side === 'both' ? (k ? 'browser: ' : 'node: ') : ''}${r}`).join('; ');
        skippedImages.push({ image: baseName(path), side, reason });
      } else {
        nodeRows.push(nodeP);
        webRows.push(webP);
        names.push(baseName(path));
      }
      options.onProgress?.(`${i + 1}/${options.images.length} images`);
    }
    const provider = `browser-${options.ep ?? 'wasm'} vs node`;
    const tolerance = { maxAbsProbability: options.maxAbsProbability ?? 1e-3, minTop1Agreement: 1, nearTie: 0 };
    const concat = (rows: Float32Array[]) => {
      const out = new Float32Array(rows.length * classes);
      rows.forEach((row, k) => out.set(row, k * classes));
      return out;
    };
    const report = compareOutputs(provider, names, { probabilities: concat(nodeRows), logits: null }, { probabilities: concat(webRows), logits: null }, tolerance);
    if (names.length === 0) Object.assign(report, { status: 'fail', reason: 'no image was decoded on both sides' });
    return { ...report, skippedImages };
  } finally {
    await browser.close();
    await node.dispose();
  }
}
