// The built site in headless Chromium: classifies through the UI on wasm and on WebGPU and matches Node's
// classify() on the same model and photo; bad files, keyboard use, drop and paste, the fallbacks, and
// screenshots in web-demo/test-artifacts/.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createClassifier, type Prediction } from '@pets/runtime';
import { buildSite, SAMPLE_PHOTOS } from '../scripts/build.js';
import { serveSite, type SiteServer } from '../scripts/serve.js';
import { artifactPath, chromiumArgs, chromiumPath, makeModels, noChromium, sampleImages } from './fixture.js';

/** Largest |Δp| allowed between the page and Node on the same model and photo. */
const TOLERANCE = 1e-3;
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1200, height: 900 };

let dir: string;
let fp32: SiteServer;
let fp16: SiteServer;
let browser: Browser;
/** Node's probabilities for every class, per model and photo file. */
const expected = new Map<string, Prediction[]>();
const parity: Record<string, unknown>[] = [];

async function nodePredictions(model: string, photos: string[]): Promise<void> {
  const classifier = await createClassifier({ model });
  for (const photo of photos) expected.set(`${model}|${photo}`, await classifier.classify(join(sampleImages, photo), { all: true }));
  await classifier.dispose();
}

describe('web demo in Chromium', { skip: noChromium }, () => {
  let models: { fp32: string; fp16: string };
  const photos = [SAMPLE_PHOTOS[0], SAMPLE_PHOTOS[2], 'Abyssinian_12.jpg', 'beagle_117.jpg'];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pets-web-browser-'));
    models = await makeModels(join(dir, 'models'));
    await buildSite({ model: models.fp32, outDir: join(dir, 'site') });
    await buildSite({ model: models.fp16, outDir: join(dir, 'site-fp16') });
    fp32 = await serveSite({ dir: join(dir, 'site'), port: 0 });
    fp16 = await serveSite({ dir: join(dir, 'site-fp16'), port: 0 });
    await nodePredictions(models.fp32, photos);
    await nodePredictions(models.fp16, photos);
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs(true) });
  });

  after(async () => {
    await writeFile(await artifactPath('parity.json'), `${JSON.stringify(parity, null, 2)}\n`);
    await browser?.close();
    await fp32?.close();
    await fp16?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A page on `server` with `query`, its model ready; collects errors and any request that leaves the site. */
  async function openPage(server: SiteServer, query = '', viewport = DESKTOP, on: Browser = browser) {
    const page = await on.newPage({ viewport });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
    });
    page.on('request', (request) => {
      if (!request.url().startsWith(server.url) && !/^(blob|data):/.test(request.url())) problems.push(`request outside the site: ${request.url()}`);
    });
    await page.goto(server.url + query);
    // WebGPU on a software adapter compiles its shaders on the CPU: over a minute on a loaded 2-core machine.
    await page.waitForSelector('#model-status:is([data-state="ready"], [data-state="failed"])', { timeout: 180_000 });
    return { page, problems };
  }

  /** The onnxruntime-web files the page downloaded (module and .wasm). */
  async function ortDownloads(page: Page): Promise<string[]> {
    const names = await page.evaluate(() => performance.getEntriesByType('resource').map((entry) => entry.name));
    return [...new Set(names.filter((name) => name.includes('/ort/')).map((name) => name.replace(/^.*\/ort\//, '')))].sort();
  }

  async function modelStatus(page: Page) {
    return page.evaluate(() => ({
      state: document.getElementById('model-status')?.dataset.state,
      provider: document.getElementById('model-status')?.dataset.provider,
      text: document.getElementById('model-text')?.textContent ?? '',
      details: document.getElementById('model-details')?.textContent ?? '',
      reason: document.getElementById('model-details')?.dataset.reason ?? '',
    }));
  }

  /** Waits for the result for `name` and reads the exact probabilities from the rows' data attributes. */
  async function shownResult(page: Page, name: string) {
    await page.waitForFunction(
      (photo) => document.getElementById('result')?.dataset.state === 'done' && document.getElementById('preview-name')?.textContent === photo,
      name,
      { timeout: 60_000 },
    );
    return page.evaluate(() => ({
      rows: Array.from(document.querySelectorAll<HTMLLIElement>('#predictions li'), (row) => ({
        label: row.dataset.label ?? '',
        index: Number(row.dataset.index),
        probability: Number(row.dataset.probability),
        text: row.textContent ?? '',
      })),
      timing: document.getElementById('timing')?.textContent ?? '',
    }));
  }

  /** The page's top 5 against Node's classify(): same top-1, same ranking up to ties, |Δp| within TOLERANCE. */
  function assertMatchesNode(rows: { label: string; probability: number }[], model: string, photo: string, provider: string) {
    const all = expected.get(`${model}|${photo}`);
    assert.ok(all, `no Node result for ${photo}`);
    const node = new Map(all.map((p) => [p.label, p.probability]));
    assert.equal(rows.length, 5);
    assert.equal(rows[0].label, all[0].label, `top-1 on ${provider}`);
    const deltas = rows.map((row) => Math.abs(row.probability - (node.get(row.label) ?? Number.NaN)));
    rows.forEach((row, i) => assert.ok(Math.abs(row.probability - all[i].probability) <= TOLERANCE, `rank ${i + 1}: ${row.label} vs Node's ${all[i].label}`));
    const maxDelta = Math.max(...deltas);
    parity.push({ photo, provider, precision: model.endsWith('fp16.onnx') ? 'fp16' : 'fp32', top1: rows[0].label, maxDelta });
    assert.ok(maxDelta <= TOLERANCE, `max |Δp| ${maxDelta} on ${provider} for ${photo}`);
  }

  test('wasm: classifies a sample photo like Node, multi-threaded, and looks right on a desktop and a phone', async () => {
    const { page, problems } = await openPage(fp32, '?ep=wasm');
    const status = await modelStatus(page);
    assert.equal(status.state, 'ready');
    assert.equal(status.provider, 'wasm');
    assert.match(status.text, /WebAssembly \(wasm\), \d+ threads/);
    assert.equal(await page.evaluate(() => crossOriginIsolated), true);
    assert.match(status.details, /37 breeds · 64×64 input · 4\.\d MB fp32 model/);
    // The wasm-only build, not the WebGPU one, though this browser has an adapter.
    assert.deepEqual(await ortDownloads(page), ['ort-wasm-simd-threaded.wasm', 'ort.wasm.bundle.min.mjs']);
    for (const i of [0, 2]) {
      await page.click(`.sample >> nth=${i}`);
      const { rows, timing } = await shownResult(page, SAMPLE_PHOTOS[i]);
      assertMatchesNode(rows, models.fp32, SAMPLE_PHOTOS[i], 'wasm');
      assert.match(timing, /^Classified in \d+ ms on WebAssembly/);
      assert.match(rows[0].text, /\d+\.\d%$/);
    }
    await page.screenshot({ path: await artifactPath('wasm-desktop.png'), fullPage: true });
    await page.setViewportSize(PHONE);
    await page.screenshot({ path: await artifactPath('wasm-phone.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: await artifactPath('wasm-phone-dark.png'), fullPage: true });
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), true, 'no sideways scrolling on a phone');
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('WebGPU: classifies through the UI like Node (software adapter)', async () => {
    const { page, problems } = await openPage(fp32, '?ep=webgpu');
    const status = await modelStatus(page);
    assert.equal(status.state, 'ready', status.details);
    assert.equal(status.provider, 'webgpu');
    assert.equal(status.text, 'Ready: runs on WebGPU');
    assert.deepEqual(await ortDownloads(page), ['ort-wasm-simd-threaded.jsep.wasm', 'ort.bundle.min.mjs']);
    await page.click('.sample >> nth=0');
    const { rows, timing } = await shownResult(page, SAMPLE_PHOTOS[0]);
    assertMatchesNode(rows, models.fp32, SAMPLE_PHOTOS[0], 'webgpu');
    assert.match(timing, /on WebGPU\.$/);
    await page.screenshot({ path: await artifactPath('webgpu-desktop.png'), fullPage: true });
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('auto without a WebGPU adapter: falls back to wasm and says why', async () => {
    const plain = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs(false) });
    try {
      const { page } = await openPage(fp32, '', DESKTOP, plain);
      const status = await modelStatus(page);
      assert.equal(status.provider, 'wasm');
      assert.match(status.reason, /WebGPU/);
      assert.match(status.details, /WebGPU not used: WebGPU (has no adapter|is not available)/);
      await page.click('.sample >> nth=2');
      assertMatchesNode((await shownResult(page, SAMPLE_PHOTOS[2])).rows, models.fp32, SAMPLE_PHOTOS[2], 'wasm (auto)');
      await page.screenshot({ path: await artifactPath('auto-fallback.png') });
    } finally {
      await plain.close();
    }
  });

  test('fp16 model: shipped as fp16, matches Node; without shader-f16, auto runs wasm and forced WebGPU says why', async () => {
    const { page, problems } = await openPage(fp16);
    const status = await modelStatus(page);
    assert.match(status.details, /2\.\d MB fp16 model/);
    const hasF16 = await page.evaluate(async () => {
      const gpu = (navigator as { gpu?: { requestAdapter(): Promise<{ features: Set<string> } | null> } }).gpu;
      return Boolean((await gpu?.requestAdapter())?.features.has('shader-f16'));
    });
    if (!hasF16) {
      assert.equal(status.provider, 'wasm');
      assert.match(status.reason, /shader-f16/);
    }
    await page.click('.sample >> nth=0');
    assertMatchesNode((await shownResult(page, SAMPLE_PHOTOS[0])).rows, models.fp16, SAMPLE_PHOTOS[0], `${status.provider} (auto)`);
    await page.screenshot({ path: await artifactPath('fp16-auto.png') });
    assert.deepEqual(problems, []);
    await page.close();
    if (hasF16) return;
    // Forcing WebGPU then fails with the reason, and a photo gets a message instead of a silent hang.
    const forced = (await openPage(fp16, '?ep=webgpu')).page;
    const failed = await modelStatus(forced);
    assert.equal(failed.state, 'failed');
    assert.match(failed.details, /Execution provider "webgpu" cannot run: .*shader-f16/);
    await forced.click('.sample >> nth=1');
    await forced.waitForSelector('#error:not([hidden])');
    assert.match((await forced.textContent('#error')) ?? '', /“Egyptian_Mau_152\.jpg” could not be classified\.\s*Details: the model is not loaded/);
    await forced.screenshot({ path: await artifactPath('fp16-webgpu-forced.png') });
    await forced.close();
  });

  test('BAD CALL - a broken file: a clear message, then a good file still works', async () => {
    const { page, problems } = await openPage(fp32, '?ep=wasm');
    await page.setInputFiles('#file-input', { name: 'broken.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('this is not a JPEG') });
    await page.waitForSelector('#error:not([hidden])');
    const message = await page.textContent('#error');
    assert.match(message ?? '', /“broken\.jpg” could not be read as an image\. Choose a JPEG, PNG, WebP or GIF photo\.\s*Details: the browser cannot decode it/);
    assert.equal(await page.isHidden('#result'), true);
    await page.screenshot({ path: await artifactPath('bad-file.png') });
    await page.setInputFiles('#file-input', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
    await page.waitForFunction(() => document.getElementById('error')?.textContent?.includes('notes.txt'));
    await page.setInputFiles('#file-input', join(sampleImages, 'Abyssinian_12.jpg'));
    const { rows } = await shownResult(page, 'Abyssinian_12.jpg');
    assertMatchesNode(rows, models.fp32, 'Abyssinian_12.jpg', 'wasm (file input)');
    assert.equal(await page.isHidden('#error'), true);
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('keyboard: Tab reaches the file input (Space opens the chooser) and the samples (Space, Enter)', async () => {
    const { page } = await openPage(fp32, '?ep=wasm');
    // Earlier tests leave their pages open; Chromium opens a file chooser only for the page in front.
    await page.bringToFront();
    // Playwright intercepts file choosers only once its subscription has reached Chromium, which it sends
    // without waiting; subscribing before the round trips below keeps a chooser from opening unseen.
    const chooserOpened = page.waitForEvent('filechooser', { timeout: 60_000 });
    await page.keyboard.press('Tab');
    assert.deepEqual(await page.evaluate(() => ({ focused: document.hasFocus(), active: document.activeElement?.id })), { focused: true, active: 'file-input' });
    // Space is a file input's standard activation key. (Enter is handled by the page too, but headless
    // Chromium does not reliably report the chooser it opens, so the test does not depend on it.)
    const [chooser] = await Promise.all([chooserOpened, page.keyboard.press('Space')]);
    await chooser.setFiles(join(sampleImages, 'beagle_117.jpg'));
    assertMatchesNode((await shownResult(page, 'beagle_117.jpg')).rows, models.fp32, 'beagle_117.jpg', 'wasm (keyboard)');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-sample')), `samples/${SAMPLE_PHOTOS[0]}`);
    await page.keyboard.press('Space');
    await shownResult(page, SAMPLE_PHOTOS[0]);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    assertMatchesNode((await shownResult(page, SAMPLE_PHOTOS[2])).rows, models.fp32, SAMPLE_PHOTOS[2], 'wasm (keyboard)');
    for (let i = 0; i < 3; i++) await page.keyboard.press('Shift+Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'file-input');
    await page.screenshot({ path: await artifactPath('keyboard-focus.png'), clip: { x: 0, y: 0, width: DESKTOP.width, height: 560 } });
    // Screen readers: labelled controls, a live summary.
    assert.match((await page.getAttribute('.sample >> nth=0', 'aria-label')) ?? '', /^Classify the sample photo of a /);
    assert.match((await page.textContent('#announce')) ?? '', /^Most likely .+, \d+ percent\.$/);
    await page.close();
  });

  test('drag and drop, and paste, classify the photo', async () => {
    const { page, problems } = await openPage(fp32, '?ep=wasm');
    const bytes = (await readFile(join(sampleImages, 'Abyssinian_12.jpg'))).toString('base64');
    const send = (kind: 'drop' | 'paste', name: string) =>
      page.evaluate(
        ({ kind, name, bytes }) => {
          const transfer = new DataTransfer();
          transfer.items.add(new File([Uint8Array.from(atob(bytes), (c) => c.charCodeAt(0))], name, { type: 'image/jpeg' }));
          const target = document.getElementById('drop-zone') as HTMLElement;
          if (kind === 'drop') target.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
          else target.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
        },
        { kind, name, bytes },
      );
    await send('drop', 'dropped.jpg');
    assertMatchesNode((await shownResult(page, 'dropped.jpg')).rows, models.fp32, 'Abyssinian_12.jpg', 'wasm (drop)');
    await send('paste', 'pasted.jpg');
    assertMatchesNode((await shownResult(page, 'pasted.jpg')).rows, models.fp32, 'Abyssinian_12.jpg', 'wasm (paste)');
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('shows download progress while the model loads (throttled network)', async () => {
    const page = await browser.newPage({ viewport: DESKTOP });
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: 2_000_000, uploadThroughput: -1 });
    await page.goto(`${fp32.url}?ep=wasm`);
    await page.waitForFunction(() => {
      const bar = document.getElementById('model-progress') as HTMLProgressElement;
      return bar.value > 0 && bar.value < bar.max;
    });
    assert.match((await page.textContent('#model-text')) ?? '', /^Downloading the model… [\d.]+ (kB|MB) of 4\.\d MB$/);
    await page.screenshot({ path: await artifactPath('loading.png'), clip: { x: 0, y: 0, width: DESKTOP.width, height: 420 } });
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await page.waitForSelector('#model-status[data-state="ready"]', { timeout: 60_000 });
    await page.close();
  });

  test('offline: the service worker keeps the files, and a reload with the network off classifies like Node', async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    try {
      const page = await context.newPage();
      await page.goto(`${fp32.url}?ep=wasm`);
      await page.waitForSelector('#model-status[data-state="ready"]', { timeout: 60_000 });
      await page.waitForFunction(() => document.documentElement.dataset.offline, undefined, { timeout: 60_000 });
      assert.equal(await page.evaluate(() => document.documentElement.dataset.offlineError ?? document.documentElement.dataset.offline), 'ready');
      await context.setOffline(true);
      assert.equal(await page.evaluate(() => fetch('nothing-cached.txt').then(() => 'online', () => 'offline')), 'offline');
      const served: string[] = [];
      page.on('response', (response) => served.push(`${response.fromServiceWorker() ? 'sw' : 'network'} ${response.url()}`));
      await page.reload();
      await page.waitForSelector('#model-status:is([data-state="ready"], [data-state="failed"])', { timeout: 60_000 });
      const status = await modelStatus(page);
      assert.equal(status.state, 'ready', status.details);
      assert.equal(status.provider, 'wasm');
      await page.click('.sample >> nth=2');
      assertMatchesNode((await shownResult(page, SAMPLE_PHOTOS[2])).rows, models.fp32, SAMPLE_PHOTOS[2], 'wasm (offline reload)');
      for (const file of ['model.onnx', 'main.js', 'ort/ort.wasm.bundle.min.mjs', 'ort/ort-wasm-simd-threaded.wasm']) {
        assert.ok(served.includes(`sw ${fp32.url}${file}`), `${file} not served by the service worker: ${served.join(', ')}`);
      }
    } finally {
      await context.close();
    }
  });

  test('without COOP/COEP headers: still works, on one wasm thread, and says so', async () => {
    const plain = await serveSite({ dir: join(dir, 'site'), port: 0, isolate: false });
    try {
      const { page, problems } = await openPage(plain, '?ep=wasm');
      assert.equal(await page.evaluate(() => crossOriginIsolated), false);
      const status = await modelStatus(page);
      assert.match(status.text, /wasm\), 1 thread$/);
      assert.match(status.details, /not cross-origin isolated/);
      await page.click('.sample >> nth=0');
      assertMatchesNode((await shownResult(page, SAMPLE_PHOTOS[0])).rows, models.fp32, SAMPLE_PHOTOS[0], 'wasm (1 thread)');
      assert.deepEqual(problems, []);
      await page.close();
    } finally {
      await plain.close();
    }
  });
});
