// npm run bench rows for the browser against its peer: the same model3 both ways in one headless
// Chromium, the web demo's real bundle (pets' web entry on onnxruntime-web wasm) and a minimal page with
// the tfjs Layers model it was exported from on @tensorflow/tfjs-backend-wasm, same thread count, both
// bundled by esbuild and served by the demo's server (precompressed files, COOP/COEP). Warm batch-1
// latency side by side; cold start to the first shown result with an empty cache on a throttled network
// (Chrome DevTools Protocol: 20 Mbit/s, 40 ms RTT); and each of the demo's load levers turned off alone.
// `node test/dist/src/bench/browser-peer.js --run RUN --model FILE.onnx` runs it alone.
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildSite, SAMPLE_PHOTOS, type BuildLevers } from '@pets/web-demo/build';
import { precompress } from '@pets/web-demo/precompress';
import { serveSite, type SiteServer } from '@pets/web-demo/serve';
import { CHROMIUM_PATH } from '../parity/browser.js';
import type { Row } from './inference.js';
import { summarize, type Timing } from './stats.js';

/** The throttled network of the cold-start rows. */
export const NETWORK = { mbitPerSecond: 20, rttMs: 40 };
const FLAGS = ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const repo = fileURLToPath(new URL('../../../..', import.meta.url));
const sampleDir = join(repo, 'data', 'pets-mini', 'images');

/** The tfjs peer page: what a web developer writes with tfjs-backend-wasm, loading backend and model in parallel. */
const TFJS_PAGE_SCRIPT = `
import * as tf from '@tensorflow/tfjs-core';
import { loadLayersModel } from '@tensorflow/tfjs-layers';
import { setThreadsCount, setWasmPaths, getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
// ?threads=N: the harness asks for the demo's count (it reports a larger navigator.hardwareConcurrency, see uncapTfjsThreads).
const asked = Number(new URLSearchParams(location.search).get('threads'));
const threads = crossOriginIsolated ? asked || Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1;
setWasmPaths(new URL('tfjs/', location.href).href);
setThreadsCount(threads);
const status = document.getElementById('status');
const contract = fetch('contract.json').then((r) => r.json());
const ready = Promise.all([loadLayersModel('model/model.json'), tf.setBackend('wasm'), contract]).then(([model]) => {
  status.dataset.state = 'ready';
  status.textContent = 'Ready: tfjs-backend-wasm, ' + getThreadsCount() + ' threads (asked for ' + threads + ')';
  return model;
});
window.tfjsModel = ready;
let input;
window.tfjsInfer = async () => {
  const model = await ready;
  const { height, width } = (await contract).imageSize;
  const x = (input ??= new Float32Array(height * width * 3).map((_, i) => ((i * 2654435761) % 997) / 997));
  const y = tf.tidy(() => model.predict(tf.tensor(x, [1, height, width, 3])));
  const p = await y.data();
  y.dispose();
  return p;
};
// The sample button comes from the script, as the demo's do: a click before then would be lost.
const sample = Object.assign(document.createElement('button'), { id: 'sample', textContent: 'sample' });
sample.dataset.src = document.body.dataset.sample;
document.body.append(sample);
sample.addEventListener('click', async () => {
  const blob = await (await fetch(sample.dataset.src)).blob();
  const [model, { imageSize, normalization, labels }] = await Promise.all([ready, contract]);
  const bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none', imageOrientation: 'from-image' });
  const y = tf.tidy(() => {
    // tfjs-core alone has no chained ops (x.toFloat()): the functions.
    const pixels = tf.image.resizeBilinear(tf.cast(tf.browser.fromPixels(bitmap), 'float32'), [imageSize.height, imageSize.width], false, true);
    const x = tf.expandDims(tf.div(tf.sub(tf.mul(pixels, normalization.scale), normalization.mean), normalization.std), 0);
    return model.predict(x);
  });
  const p = Array.from(await y.data());
  y.dispose();
  const top = p.map((q, i) => [q, i]).sort((a, b) => b[0] - a[0]).slice(0, 5);
  const list = document.getElementById('predictions');
  list.replaceChildren(...top.map(([q, i]) => Object.assign(document.createElement('li'), { textContent: labels[i] + ' ' + (q * 100).toFixed(1) + '%' })));
  document.getElementById('result').dataset.state = 'done';
});
`;

/** Writes the tfjs page (bundled by esbuild like the demo), the checkpoint's model, tfjs' wasm files and a sample. */
async function buildTfjsPage(checkpoint: string, outDir: string, photo: string): Promise<void> {
  const require = createRequire(import.meta.url);
  const wasmDist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  for (const sub of ['model', 'tfjs', 'samples']) await mkdir(join(outDir, sub), { recursive: true });
  await build({
    stdin: { contents: TFJS_PAGE_SCRIPT, resolveDir: dirname(fileURLToPath(import.meta.url)), loader: 'js' },
    outfile: join(outDir, 'main.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    logLevel: 'silent',
  });
  for (const file of await readdir(wasmDist)) if (file.endsWith('.wasm')) await copyFile(join(wasmDist, file), join(outDir, 'tfjs', file));
  for (const file of ['model.json', 'weights.bin']) await copyFile(join(checkpoint, file), join(outDir, 'model', file));
  await copyFile(join(checkpoint, 'contract.json'), join(outDir, 'contract.json'));
  await copyFile(join(sampleDir, photo), join(outDir, 'samples', photo));
  await writeFile(
    join(outDir, 'index.html'),
    `<!doctype html><html lang="en"><meta charset="utf-8"><title>tfjs peer</title><script type="module" src="main.js"></script>
<body data-sample="samples/${photo}"><p id="status">Loading…</p><ol id="predictions"></ol><div id="result"></div></body></html>\n`,
  );
  await precompress(outDir);
}

/** Marks, in the page's own clock, when the model is ready and when the first result shows (both pages). */
const OBSERVE_MARKS = () => {
  const marks = ((window as unknown as { benchMarks: Record<string, number> }).benchMarks = {} as Record<string, number>);
  new MutationObserver(() => {
    const ready = document.querySelector('#model-status[data-state="ready"], #status[data-state="ready"]');
    if (ready && marks.ready === undefined) marks.ready = performance.now();
    if (document.querySelector('#result[data-state="done"]') && marks.shown === undefined) marks.shown = performance.now();
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-state'], childList: true });
};

interface Loaded {
  /** Milliseconds from navigation to the first shown result. */
  shown: number;
  ready: number;
  /** Per request: bytes on the wire and when it finished (ms from the first request). */
  files: { name: string; transfer: number; end: number }[];
}

interface Site {
  name: string;
  server: SiteServer;
  /** The element to click to classify a sample. */
  sample: string;
  /** Query string of the page's URL. */
  query?: string;
  /** Run on each new page of the site before it loads. */
  prepare?: (page: Page) => Promise<void>;
}

/** Threads the demo's wasm runs on in a cross-origin isolated page: min(4, navigator.hardwareConcurrency). */
const DEMO_THREADS = Math.max(1, Math.min(4, availableParallelism()));

/**
 * tfjs-backend-wasm 4.22 runs min(setThreadsCount, navigator.hardwareConcurrency / 2) threads (it assumes
 * two hardware threads per core; its issue #8513): on 2 cores, 1 thread whatever it is asked. Measured in
 * this Chromium, asking for 2 (and 4): hardwareConcurrency 2 or 3 gives 1 thread, 4 gives 2 (2), 8 gives 2
 * (4). So that the peer runs the threads it asks for, the demo's count, its page is told twice that many
 * cores through the DevTools protocol; getThreadsCount() in its status line shows what it ran.
 */
async function uncapTfjsThreads(page: Page): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setHardwareConcurrencyOverride', { hardwareConcurrency: 2 * DEMO_THREADS });
}

/** Bytes on the wire per request of the page, and when each finished (ms after the first request), from the DevTools protocol. */
type Wire = () => { name: string; transfer: number; end: number }[];

async function throttle(page: Page): Promise<Wire> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  const bytesPerSecond = (NETWORK.mbitPerSecond * 1e6) / 8;
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: NETWORK.rttMs, downloadThroughput: bytesPerSecond, uploadThroughput: bytesPerSecond });
  const urls = new Map<string, string>();
  const done: { id: string; transfer: number; at: number }[] = [];
  let start: number | undefined;
  cdp.on('Network.requestWillBeSent', (e) => {
    start ??= e.timestamp;
    urls.set(e.requestId, e.request.url);
  });
  cdp.on('Network.loadingFinished', (e) => done.push({ id: e.requestId, transfer: e.encodedDataLength, at: e.timestamp }));
  return () => done.map((d) => ({ name: new URL(urls.get(d.id) ?? 'http://x/?').pathname, transfer: d.transfer, end: (d.at - (start ?? d.at)) * 1000 }));
}

async function loadToFirstResult(page: Page, site: Site, wire: Wire | undefined, reload = false): Promise<Loaded> {
  if (reload) await page.reload({ waitUntil: 'commit' });
  else {
    await site.prepare?.(page);
    await page.goto(site.server.url + (site.query ?? ''), { waitUntil: 'commit' });
  }
  await page.click(site.sample, { timeout: 120_000 });
  await page.waitForFunction(() => (window as unknown as { benchMarks: { shown?: number } }).benchMarks.shown !== undefined, undefined, { timeout: 300_000, polling: 50 });
  const marks = await page.evaluate(() => (window as unknown as { benchMarks: { ready: number; shown: number } }).benchMarks);
  return { ...marks, files: wire?.() ?? [] };
}

/** A first visit: fresh context (empty cache, no service worker), throttled. */
async function coldStart(browser: Browser, site: Site): Promise<Loaded> {
  const context = await browser.newContext();
  try {
    await context.addInitScript(OBSERVE_MARKS);
    const page = await context.newPage();
    return await loadToFirstResult(page, site, await throttle(page));
  } finally {
    await context.close();
  }
}

/** A second visit: loaded once (unthrottled; the service worker, if any, keeps the files), then reloaded throttled. */
async function warmReload(browser: Browser, site: Site, worker: boolean): Promise<Loaded> {
  const context = await browser.newContext();
  try {
    await context.addInitScript(OBSERVE_MARKS);
    const page = await context.newPage();
    await loadToFirstResult(page, site, undefined);
    if (worker) await page.waitForFunction(() => document.documentElement.dataset.offline === 'ready', undefined, { timeout: 60_000 });
    return await loadToFirstResult(page, site, await throttle(page), true);
  } finally {
    await context.close();
  }
}

const megabytes = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;

/** What a load downloaded and when its phases ended: the cold-start rows' note. */
function phases(loaded: Loaded[]): string {
  const last = loaded[loaded.length - 1];
  const transfer = last.files.reduce((sum, f) => sum + f.transfer, 0);
  const biggest = [...last.files].sort((a, b) => b.transfer - a.transfer).slice(0, 3);
  const median = (values: number[]) => summarize(values).median;
  return (
    `${megabytes(transfer)} over the wire in ${last.files.length} requests (${biggest.map((f) => `${f.name.split('/').pop()} ${megabytes(f.transfer)} done at ${f.end.toFixed(0)} ms`).join(', ')}); ` +
    `model ready at ${median(loaded.map((l) => l.ready)).toFixed(0)} ms`
  );
}

export interface BrowserPeerResult {
  rows: Row[];
  skipped: string[];
  /** Ratios for run.ts' target lines: pets / tfjs, warm latency and cold start. */
  ratios?: { warm: number; cold: number };
}

/** A checkpoint folder (model.json, weights.bin, contract.json): `dir` itself, or a run's best checkpoint. */
async function checkpointIn(dir: string): Promise<string> {
  if (existsSync(join(dir, 'model.json'))) return dir;
  const index = JSON.parse(await readFile(join(dir, 'checkpoints', 'index.json'), 'utf8')) as { best: { dir: string } };
  return join(dir, 'checkpoints', index.best.dir);
}

/**
 * `run`: a pets-train run (its best checkpoint is used) or a checkpoint folder; `onnx`: the same model
 * exported by pets-export.
 */
export async function browserPeerRows(run: string, onnx: string, progress: (message: string) => void, options: { rounds?: number; warmOnly?: boolean } = {}): Promise<BrowserPeerResult> {
  if (!existsSync(CHROMIUM_PATH)) return { rows: [], skipped: [`Chromium peer rows: no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set PETS_CHROMIUM)`] };
  const rounds = options.rounds ?? 3;
  const root = await mkdtemp(join(tmpdir(), 'pets-bench-browser-'));
  const servers: SiteServer[] = [];
  let browser: Browser | undefined;
  try {
    const photo = SAMPLE_PHOTOS[0];
    const variants: Record<string, Partial<BuildLevers>> = options.warmOnly
      ? { all: {} }
      : { all: {}, oneBuild: { wasmOnlyBuild: false }, noPrefetch: { prefetch: false }, noWorker: { serviceWorker: false } };
    const sites: Record<string, Site> = {};
    for (const [name, levers] of Object.entries(variants)) {
      progress(`browser: building the web demo (${name})`);
      await buildSite({ model: onnx, outDir: join(root, name), levers });
      servers.push(await serveSite({ dir: join(root, name), port: 0 }));
      sites[name] = { name, server: servers[servers.length - 1], sample: '.sample >> nth=0' };
    }
    servers.push(await serveSite({ dir: join(root, 'all'), port: 0, precompressed: false }));
    sites.uncompressed = { name: 'uncompressed', server: servers[servers.length - 1], sample: '.sample >> nth=0' };
    servers.push(await serveSite({ dir: join(root, 'all'), port: 0, isolate: false }));
    sites.oneThread = { name: 'oneThread', server: servers[servers.length - 1], sample: '.sample >> nth=0' };
    progress('browser: building the tfjs-backend-wasm page');
    await buildTfjsPage(await checkpointIn(run), join(root, 'tfjs'), photo);
    servers.push(await serveSite({ dir: join(root, 'tfjs'), port: 0 }));
    sites.tfjs = { name: 'tfjs', server: servers[servers.length - 1], sample: '#sample', query: `?threads=${DEMO_THREADS}`, prepare: uncapTfjsThreads };
    servers.push(await serveSite({ dir: join(root, 'tfjs'), port: 0, isolate: false }));
    sites.tfjsOneThread = { name: 'tfjsOneThread', server: servers[servers.length - 1], sample: '#sample' };

    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: FLAGS });
    progress('browser: warm batch-1 latency, side by side');
    const warm = await warmLatency(browser, sites, rounds);
    const warmRows: Row[] = [
      { group: 'browser', name: `Chromium: pets web demo, onnxruntime-web wasm (${warm.threads.pets}), model3 @224 batch 1, warm`, perImage: warm.pets },
      { group: 'browser', name: 'Chromium: pets web demo, onnxruntime-web wasm (1 thread: served without COOP/COEP), warm', perImage: warm.petsOne },
      { group: 'browser', name: `Chromium: tfjs-backend-wasm (${warm.threads.tfjs}), the same tfjs model, batch 1, warm`, perImage: warm.tfjs, note: `pets / tfjs = ${(warm.pets.median / warm.tfjs.median).toFixed(2)}x` },
      { group: 'browser', name: 'Chromium: tfjs-backend-wasm (1 thread: served without COOP/COEP), warm', perImage: warm.tfjsOne, note: `pets / tfjs on one thread each = ${(warm.petsOne.median / warm.tfjsOne.median).toFixed(2)}x` },
    ];
    if (options.warmOnly) return { rows: warmRows, skipped: [], ratios: { warm: warm.pets.median / warm.tfjs.median, cold: Number.NaN } };

    const cold: Record<string, Loaded[]> = {};
    const coldOrder = ['all', 'tfjs', 'uncompressed', 'oneBuild', 'noPrefetch'];
    for (let round = 0; round < rounds; round++) {
      for (const name of coldOrder) {
        progress(`browser: cold start ${round + 1}/${rounds}, ${name}`);
        (cold[name] ??= []).push(await coldStart(browser, sites[name]));
      }
    }
    const reload: Record<string, Loaded[]> = {};
    for (let round = 0; round < rounds; round++) {
      for (const name of ['all', 'noWorker']) {
        progress(`browser: reload ${round + 1}/${rounds}, ${name}`);
        (reload[name] ??= []).push(await warmReload(browser, sites[name], name === 'all'));
      }
    }

    const shown = (loads: Loaded[]): Timing => summarize(loads.map((l) => l.shown));
    const net = `${NETWORK.mbitPerSecond} Mbit/s, ${NETWORK.rttMs} ms RTT`;
    const coldAll = shown(cold.all);
    const coldTfjs = shown(cold.tfjs);
    const versus = (t: Timing) => `${(t.median / coldAll.median).toFixed(2)}x the demo with every lever (${t.median - coldAll.median >= 0 ? '+' : ''}${(t.median - coldAll.median).toFixed(0)} ms)`;
    const rows: Row[] = [
      ...warmRows,
      { group: 'browser', name: `Chromium cold start to first shown result (${net}, empty cache): pets web demo`, perImage: coldAll, note: `ms per load, not per image; ${phases(cold.all)}` },
      { group: 'browser', name: `Chromium cold start to first shown result (${net}, empty cache): tfjs-backend-wasm page`, perImage: coldTfjs, note: `pets / tfjs = ${(coldAll.median / coldTfjs.median).toFixed(2)}x; ${phases(cold.tfjs)}` },
      { group: 'browser', name: 'the same, pets web demo without precompressed files', perImage: shown(cold.uncompressed), note: `${versus(shown(cold.uncompressed))}; ${phases(cold.uncompressed)}` },
      { group: 'browser', name: "the same, pets web demo with onnxruntime-web's WebGPU build for wasm too", perImage: shown(cold.oneBuild), note: `${versus(shown(cold.oneBuild))}; ${phases(cold.oneBuild)}` },
      { group: 'browser', name: 'the same, pets web demo fetching the runtime after the model', perImage: shown(cold.noPrefetch), note: `${versus(shown(cold.noPrefetch))}; ${phases(cold.noPrefetch)}` },
      { group: 'browser', name: `Chromium reload to first shown result (${net}): pets web demo, service worker`, perImage: shown(reload.all), note: phases(reload.all) },
      { group: 'browser', name: `Chromium reload to first shown result (${net}): pets web demo without service worker (HTTP cache)`, perImage: shown(reload.noWorker), note: `${(shown(reload.noWorker).median / shown(reload.all).median).toFixed(2)}x the reload with the service worker; ${phases(reload.noWorker)}` },
    ];
    return { rows, skipped: [], ratios: { warm: warm.pets.median / warm.tfjs.median, cold: coldAll.median / coldTfjs.median } };
  } finally {
    await browser?.close();
    for (const server of servers) await server.close();
    await rm(root, { recursive: true, force: true });
  }
}

/** Batch-1 inference on the same input in the pages, alternating rounds; each page times its own runs. */
async function warmLatency(browser: Browser, sites: Record<string, Site>, rounds: number) {
  const context = await browser.newContext();
  try {
    await context.addInitScript(OBSERVE_MARKS);
    const open = async (site: Site, ready: string) => {
      const page = await context.newPage();
      await site.prepare?.(page);
      await page.goto(site.server.url + (site.query ?? ''));
      await page.waitForSelector(ready, { timeout: 120_000 });
      return page;
    };
    const petsPage = await open({ ...sites.all, query: '?ep=wasm' }, '#model-status[data-state="ready"]');
    const onePage = await open({ ...sites.oneThread, query: '?ep=wasm' }, '#model-status[data-state="ready"]');
    const tfjsPage = await open(sites.tfjs, '#status[data-state="ready"]');
    const tfjsOnePage = await open(sites.tfjsOneThread, '#status[data-state="ready"]');
    const threads = {
      pets: ((await petsPage.textContent('#model-text')) ?? '').replace(/^.*\), /, '').trim(),
      tfjs: ((await tfjsPage.textContent('#status')) ?? '').replace(/^Ready: tfjs-backend-wasm, /, '').trim(),
    };
    type Timed = (runs: number) => Promise<number[]>;
    const timePets = (page: Page) => (runs: number) =>
      page.evaluate(async (n) => {
        const c = await (window as unknown as { petsClassifier: Promise<{ infer(x: Float32Array): Promise<unknown>; info: { inputSize: { height: number; width: number } } }> }).petsClassifier;
        const x = new Float32Array(c.info.inputSize.height * c.info.inputSize.width * 3).map((_, i) => ((i * 2654435761) % 997) / 997);
        await c.infer(x);
        const times: number[] = [];
        for (let i = 0; i < n; i++) {
          const start = performance.now();
          await c.infer(x);
          times.push(performance.now() - start);
        }
        return times;
      }, runs);
    const timeTfjs = (page: Page) => (runs: number) =>
      page.evaluate(async (n) => {
        const infer = (window as unknown as { tfjsInfer: () => Promise<unknown> }).tfjsInfer;
        await infer();
        const times: number[] = [];
        for (let i = 0; i < n; i++) {
          const start = performance.now();
          await infer();
          times.push(performance.now() - start);
        }
        return times;
      }, runs);
    const sides = ['pets', 'petsOne', 'tfjs', 'tfjsOne'] as const;
    const times: Record<(typeof sides)[number], number[]> = { pets: [], petsOne: [], tfjs: [], tfjsOne: [] };
    const timed: Record<(typeof sides)[number], Timed> = { pets: timePets(petsPage), petsOne: timePets(onePage), tfjs: timeTfjs(tfjsPage), tfjsOne: timeTfjs(tfjsOnePage) };
    for (let round = 0; round < rounds + 2; round++) {
      for (const side of sides) {
        await new Promise((done) => setTimeout(done, 200));
        times[side].push(...(await timed[side](5)));
      }
    }
    return { pets: summarize(times.pets), petsOne: summarize(times.petsOne), tfjs: summarize(times.tfjs), tfjsOne: summarize(times.tfjsOne), threads };
  } finally {
    await context.close();
  }
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { run: { type: 'string' }, model: { type: 'string' }, rounds: { type: 'string', default: '3' }, 'warm-only': { type: 'boolean', default: false } } });
  if (!values.run || !values.model) throw new TypeError('Usage: browser-peer.js --run RUN_OR_CHECKPOINT --model MODEL.onnx [--rounds 3]');
  const result = await browserPeerRows(resolve(values.run), resolve(values.model), (m) => process.stderr.write(`${m}\n`), { rounds: Number(values.rounds), warmOnly: values['warm-only'] });
  for (const row of result.rows) console.log(`${row.name}\n  median ${row.perImage.median.toFixed(1)} ms (${row.perImage.min.toFixed(1)}-${row.perImage.max.toFixed(1)}, ${row.perImage.runs} runs)${row.note ? `\n  ${row.note}` : ''}`);
  for (const s of result.skipped) console.log(`skipped: ${s}`);
  if (result.ratios) console.log(`ratios: warm ${result.ratios.warm.toFixed(2)}x, cold ${result.ratios.cold.toFixed(2)}x`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((error: Error) => {
    console.error(`browser-peer: ${error.message}`);
    process.exitCode = 1;
  });
}
