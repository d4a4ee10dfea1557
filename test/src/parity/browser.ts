// @pets/runtime's browser entry in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core; no browser download): the page is a bundle of the web entry, served from memory on
// localhost (a secure context, so WebGPU may start) together with onnxruntime-web's wasm files.
import { readFile, readdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ImageDecodeError } from '@pets/runtime';
import type { ResizeCrop } from '@pets/runtime/resize';

export const CHROMIUM_PATH = process.env.PETS_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

const PAGE_SCRIPT = `
import { createClassifier } from '@pets/runtime/web';
import { resizeRgbWasm, wasmResizeAvailable } from '@pets/runtime/resize';
const bytes = async (url) => new Uint8Array(await (await fetch(url)).arrayBuffer());
const classifiers = new Map();
async function classifier(ep) {
  if (!classifiers.has(ep)) classifiers.set(ep, createClassifier({ model: await bytes('/model.onnx'), executionProviders: [ep], wasmPaths: '/ort/', threads: 1 }));
  return classifiers.get(ep);
}
window.petsInfer = async (ep, first, count) => {
  const c = await classifier(ep);
  const size = c.info.inputSize.height * c.info.inputSize.width * 3;
  const x = new Float32Array(await (await fetch('/input.bin?first=' + first + '&count=' + count)).arrayBuffer());
  const outs = await c.infer(x.subarray(0, size * count));
  return { info: { executionProvider: c.info.executionProvider, reason: c.info.reason },
    probabilities: outs.flatMap((o) => Array.from(o.probabilities)), logits: outs.flatMap((o) => (o.logits ? Array.from(o.logits) : [])) };
};
// Bytes cross page.evaluate as base64: a JSON array of numbers is several times slower for a photo.
const fromBase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
const toBase64 = (bytes) => {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
};
window.petsResize = (data, width, height, channels, outW, outH, crop) => {
  const out = resizeRgbWasm({ data: fromBase64(data), width, height, channels }, outW, outH, crop ?? undefined);
  return { kernel: wasmResizeAvailable(), bytes: out ? toBase64(out) : null };
};
// A CommonJS cropTo(image, size) (Teachable Machine's canvas.js) on this browser's canvas: RGB bytes.
window.petsCropTo = async (source, rgba, width, height, size) => {
  const module = { exports: {} };
  new Function('exports', 'module', source)(module.exports, module);
  const bitmap = await createImageBitmap(new ImageData(new Uint8ClampedArray(fromBase64(rgba).buffer), width, height));
  const canvas = module.exports.cropTo(bitmap, size, false);
  const rgbaOut = canvas.getContext('2d').getImageData(0, 0, size, size).data;
  const rgb = new Uint8Array(size * size * 3);
  for (let i = 0, o = 0; i < rgbaOut.length; i += 4, o += 3) rgb.set(rgbaOut.subarray(i, i + 3), o);
  return toBase64(rgb);
};
window.petsBenchPreprocess = async (name, runs) => {
  const c = await classifier('wasm');
  const blob = await (await fetch('/images/' + encodeURIComponent(name))).blob();
  // Decoded once here, as the runtime's web backend decodes, to time resize + normalize alone.
  const bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none', imageOrientation: 'from-image' });
  const context = new OffscreenCanvas(bitmap.width, bitmap.height).getContext('2d', { willReadFrequently: true });
  context.drawImage(bitmap, 0, 0);
  const imageData = context.getImageData(0, 0, bitmap.width, bitmap.height, { colorSpace: 'srgb' });
  const x = await c.preprocess(blob);
  const time = async (f) => {
    for (let i = 0; i < 3; i++) await f();
    const t = [];
    for (let i = 0; i < runs; i++) { const s = performance.now(); await f(); t.push(performance.now() - s); }
    return t;
  };
  return { kernel: wasmResizeAvailable(), executionProvider: c.info.executionProvider,
    total: await time(() => c.preprocess(blob)), preprocess: await time(() => c.preprocess(imageData)), infer: await time(() => c.infer(x)) };
};
window.petsPreprocessFile = async (name) => {
  const c = await classifier('wasm');
  const blob = await (await fetch('/images/' + encodeURIComponent(name))).blob();
  try {
    return Array.from(await c.preprocess(blob));
  } catch (error) {
    return { error: { name: error.name, message: error.message } };
  }
};
window.petsClassifyFile = async (ep, name) => {
  const c = await classifier(ep);
  const blob = await (await fetch('/images/' + encodeURIComponent(name))).blob();
  try {
    const predictions = await c.classify(blob, { all: true });
    const p = new Array(predictions.length);
    for (const q of predictions) p[q.index] = q.probability;
    return p;
  } catch (error) {
    return { error: { name: error.name, message: error.message } };
  }
};
`;

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };

export interface BrowserRuntime {
  /** Runs preprocessed inputs [count, H, W, 3] through the web entry on `ep`, `chunk` images per call. */
  infer(ep: 'webgpu' | 'wasm', x: Float32Array, count: number, chunk?: number): Promise<{ probabilities: Float32Array; logits: Float32Array | null; executionProvider: string; reason: string | null }>;
  /**
   * Decodes and classifies an image file in the browser (createImageBitmap); full probability vector.
   * ImageDecodeError (naming `path`) when the browser cannot decode the file.
   */
  classifyFile(ep: 'webgpu' | 'wasm', path: string): Promise<Float32Array>;
  /** The model input the web entry makes from an image file (decode, resize, normalize); ImageDecodeError as classifyFile. */
  preprocessFile(path: string): Promise<Float32Array>;
  /**
   * Times, in the page, for one image file: decode + resize + normalize (`total`), resize + normalize of
   * the decoded pixels (`preprocess`) and a batch-1 run on onnxruntime-web's wasm provider (`infer`);
   * milliseconds per run.
   */
  benchPreprocess(path: string, runs: number): Promise<{ kernel: boolean; executionProvider: string; total: number[]; preprocess: number[]; infer: number[] }>;
  /** The runtime's WebAssembly resize in the page: whether the kernel runs there, and its output (null without it). */
  resize(pixels: { data: Uint8Array; width: number; height: number; channels: 3 | 4 }, outW: number, outH: number, crop?: ResizeCrop): Promise<{ kernel: boolean; bytes: Uint8Array | null }>;
  /**
   * A CommonJS module's cropTo(image, size) (Teachable Machine's dist/utils/canvas.js, as `source`) run on
   * the page's canvas with an ImageBitmap of `rgba`; the canvas's size x size RGB bytes.
   */
  cropTo(source: string, rgba: Uint8Array, width: number, height: number, size: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** A page function's numbers, or the error it caught (errors cross page.evaluate as text only). */
type PageResult = number[] | { error: { name: string; message: string } };

function fromPage(path: string, result: PageResult): Float32Array {
  if (Array.isArray(result)) return Float32Array.from(result);
  const { name, message } = result.error;
  // The name is kept so that callers can tell an undecodable file from a bug.
  if (name === 'ImageDecodeError') throw new ImageDecodeError(path, message.replace(/^Cannot decode image [^:]*: /, ''));
  throw Object.assign(new Error(`in the browser: ${message}`), { name });
}

/** Starts Chromium on a page serving `model`; call setInput()/classifyFile() through the returned object. */
export async function openBrowserRuntime(model: Uint8Array, options: { webgpu?: boolean } = {}): Promise<BrowserRuntime> {
  const require = createRequire(import.meta.url);
  // onnxruntime-web exports no ./package.json; its main file sits in dist/ beside the wasm files.
  const ortDist = dirname(require.resolve('onnxruntime-web'));
  const bundle = await build({
    stdin: { contents: PAGE_SCRIPT, resolveDir: dirname(fileURLToPath(import.meta.url)), loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
  });
  const files = new Map<string, Uint8Array | string>([
    ['/', '<!doctype html><meta charset="utf-8"><title>pets parity</title><script type="module" src="/bundle.js"></script>'],
    ['/bundle.js', bundle.outputFiles[0].contents],
    ['/model.onnx', model],
  ]);
  for (const name of await readdir(ortDist)) {
    if (/^ort-wasm.*\.(wasm|mjs)$/.test(name)) files.set(`/ort/${name}`, await readFile(join(ortDist, name)));
  }
  let input: Float32Array = new Float32Array(0);
  let inputCount = 1;
  const images = new Map<string, string>();
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    void (async () => {
      let body: Uint8Array | string | undefined = files.get(url.pathname);
      if (url.pathname === '/input.bin') {
        const first = Number(url.searchParams.get('first'));
        const count = Number(url.searchParams.get('count'));
        const per = input.length / inputCount;
        body = new Uint8Array(input.buffer, input.byteOffset + first * per * 4, count * per * 4);
      } else if (url.pathname.startsWith('/images/')) {
        const path = images.get(decodeURIComponent(url.pathname.slice('/images/'.length)));
        body = path ? await readFile(path) : undefined;
      }
      const ext = /\.[a-z]+$/.exec(url.pathname)?.[0] ?? '.html';
      res.writeHead(body === undefined ? 404 : 200, { 'content-type': TYPES[ext] ?? 'application/octet-stream' });
      res.end(body);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://localhost:${(server.address() as AddressInfo).port}`;
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...FLAGS, ...(options.webgpu ? ['--enable-unsafe-webgpu'] : [])] });
    const page: Page = await browser.newPage();
    await page.goto(origin);
    await page.waitForFunction(() => 'petsInfer' in window, undefined, { timeout: 60_000 });
    const opened = browser;
    return {
      async infer(ep, x, count, chunk = 8) {
        input = x;
        inputCount = count;
        const probabilities: number[] = [];
        const logits: number[] = [];
        let info = { executionProvider: '', reason: null as string | null };
        for (let first = 0; first < count; first += chunk) {
          const n = Math.min(chunk, count - first);
          const out = await page.evaluate(([e, f, c]) => (window as unknown as { petsInfer: (e: string, f: number, c: number) => Promise<{ info: typeof info; probabilities: number[]; logits: number[] }> }).petsInfer(e, f, c), [ep, first, n] as const);
          info = out.info;
          probabilities.push(...out.probabilities);
          logits.push(...out.logits);
        }
        return { probabilities: Float32Array.from(probabilities), logits: logits.length ? Float32Array.from(logits) : null, ...info };
      },
      async classifyFile(ep, path) {
        const name = `${images.size}-${path.split('/').pop()}`;
        images.set(name, path);
        const p = await page.evaluate(([e, n]) => (window as unknown as { petsClassifyFile: (e: string, n: string) => Promise<PageResult> }).petsClassifyFile(e, n), [ep, name] as const);
        return fromPage(path, p);
      },
      async preprocessFile(path) {
        const name = `${images.size}-${path.split('/').pop()}`;
        images.set(name, path);
        const p = await page.evaluate((n) => (window as unknown as { petsPreprocessFile: (n: string) => Promise<PageResult> }).petsPreprocessFile(n), name);
        return fromPage(path, p);
      },
      async benchPreprocess(path, runs) {
        const name = `${images.size}-${path.split('/').pop()}`;
        images.set(name, path);
        type Result = Awaited<ReturnType<BrowserRuntime['benchPreprocess']>>;
        return page.evaluate(([n, r]) => (window as unknown as { petsBenchPreprocess: (n: string, r: number) => Promise<Result> }).petsBenchPreprocess(n, r), [name, runs] as const);
      },
      async resize(pixels, outW, outH, crop) {
        type Resize = (d: string, w: number, h: number, c: number, ow: number, oh: number, crop: ResizeCrop | null) => { kernel: boolean; bytes: string | null };
        const args = [Buffer.from(pixels.data).toString('base64'), pixels.width, pixels.height, pixels.channels, outW, outH, crop ?? null] as const;
        const out = await page.evaluate(([d, w, h, c, ow, oh, k]) => (window as unknown as { petsResize: Resize }).petsResize(d, w, h, c, ow, oh, k), args);
        return { kernel: out.kernel, bytes: out.bytes !== null ? new Uint8Array(Buffer.from(out.bytes, 'base64')) : null };
      },
      async cropTo(source, rgba, width, height, size) {
        type CropTo = (s: string, d: string, w: number, h: number, size: number) => Promise<string>;
        const args = [source, Buffer.from(rgba).toString('base64'), width, height, size] as const;
        return new Uint8Array(Buffer.from(await page.evaluate(([s, d, w, h, n]) => (window as unknown as { petsCropTo: CropTo }).petsCropTo(s, d, w, h, n), args), 'base64'));
      },
      async close() {
        await opened.close();
        server.close();
      },
    };
  } catch (error) {
    await browser?.close();
    server.close();
    throw error;
  }
}
