// Backbones: the known table, resolving names, paths and URLs (a loopback server serves a copy of the
// bundled darknet-tiny; nothing leaves the machine), the download cache and its failure modes, and
// loading with the manifest and shard checks, against tfjs' own HTTP loader.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { appendFile, cp, mkdir, mkdtemp, readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chooseBackend } from '../src/backend/index.js';
import { tf, tfl, type LayersModel, type Tensor } from '../src/backend/tf.js';
import {
  KNOWN_BACKBONES,
  NORMALIZATIONS,
  bundleDigest,
  defaultCacheDir,
  findKnownBackbone,
  inspectBundle,
  loadBackbone,
  parseNormalization,
  resolveBackbone,
  type DownloadProgress,
  type ResolveOptions,
} from '../src/backbones/index.js';
import { RECORD_FILE, cacheKey } from '../src/backbones/cache.js';
import { REPO_ROOT, TRAIN_CLI } from './fixtures.js';

const BUNDLED = join(REPO_ROOT, 'data', 'backbones');
const DARKNET = join(BUNDLED, 'darknet-tiny');
/** Predictions of the same weights through two loaders agree within this. */
const TOLERANCE = 1e-6;
/** Fast retries, so that the failure cases stay quick. */
const FAST: ResolveOptions = { retries: 1, retryDelayMs: 10 };

let tmp: string;
let server: Server;
let base: string;
/** Paths requested from the server, in order. */
const requests: string[] = [];
/** URL prefix -> folder served under it. */
const mounts = new Map<string, string>();
/** Request path -> a special answer (n: how many times that path has been requested, this one included). */
const special = new Map<string, (req: IncomingMessage, res: ServerResponse, n: number) => void>();
/** Responses the server holds open (the kill -9 test), ended in after(). */
const held: ServerResponse[] = [];

const url = (path: string) => `${base}${path}`;
const countOf = (prefix: string) => requests.filter((p) => p.startsWith(prefix)).length;

async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  requests.push(path);
  const handler = special.get(path);
  if (handler) return handler(req, res, requests.filter((p) => p === path).length);
  const [, mount, ...rest] = path.split('/');
  const dir = mounts.get(mount);
  const file = dir && rest.length && !rest.includes('..') ? join(dir, ...rest) : undefined;
  const body = file ? await readFile(file).catch(() => undefined) : undefined;
  if (!body) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length) }).end(body);
}

/** A copy of the bundled darknet-tiny (model.json and shards only). */
async function darknetCopy(name: string): Promise<string> {
  const dir = join(tmp, name);
  await mkdir(dir, { recursive: true });
  for (const file of await readdir(DARKNET)) {
    if (file === 'model.json' || file.includes('shard')) await cp(join(DARKNET, file), join(dir, file));
  }
  return dir;
}

async function freshCache(name: string): Promise<string> {
  const dir = join(tmp, 'caches', name);
  await mkdir(dir, { recursive: true });
  return dir;
}

function predict(model: LayersModel, x: Tensor): Float32Array {
  return tf.tidy(() => (model.predict(x) as Tensor).dataSync() as Float32Array);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

async function rejectsWith(promise: Promise<unknown>, pattern: RegExp, name = 'BackboneError'): Promise<void> {
  await assert.rejects(promise, (error: Error) => {
    assert.equal(error.name, name, error.stack);
    assert.match(error.message, pattern);
    return true;
  });
}

const resolveAndLoad = async (spec: string, options?: ResolveOptions) => loadBackbone(await resolveBackbone(spec, options));

before(async () => {
  await chooseBackend('wasm');
  tmp = await mkdtemp(join(tmpdir(), 'pets-backbones-'));
  const served = await darknetCopy('served');
  mounts.set('darknet', served).set('flaky', served).set('slow', served).set('trunc', served);
  // The same model with one shard 4 bytes longer than its manifest says.
  const wrong = await darknetCopy('served-wrong-size');
  await appendFile(join(wrong, 'group1-shard1of1'), Buffer.alloc(4));
  mounts.set('wrongsize', wrong);
  const graph = join(tmp, 'served-graph');
  await mkdir(graph);
  await writeFile(join(graph, 'model.json'), JSON.stringify({ format: 'graph-model', modelTopology: { node: [] }, weightsManifest: [] }));
  mounts.set('graph', graph);

  const modelJson = await readFile(join(served, 'model.json'));
  special.set('/trunc/model.json', (_req, res) => {
    res.writeHead(200, { 'content-length': String(modelJson.length) });
    res.write(modelJson.subarray(0, 1000), () => setTimeout(() => res.destroy(), 20));
  });
  special.set('/flaky/group3-shard1of1', (req, res, n) => {
    if (n === 1) req.socket.destroy();
    else void serve({ ...req, url: '/darknet/group3-shard1of1' } as IncomingMessage, res);
  });

  server = createServer((req, res) => void serve(req, res));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // The server never keeps the test process alive, and closes itself if after() never runs.
  server.unref();
  setTimeout(() => server.close(), 300_000).unref();
});

after(async () => {
  held.forEach((res) => res.destroy());
  server.closeAllConnections();
  server.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('backbones: the known table', () => {
  test('bundled names, aliases and the published MobileNet v1 family', () => {
    assert.equal(findKnownBackbone('mobilenet')?.name, 'mobilenet_v1_0.75_224');
    assert.equal(findKnownBackbone('darknet')?.name, 'darknet-tiny');
    assert.equal(findKnownBackbone('Darknet-Tiny')?.name, 'darknet-tiny');
    assert.equal(findKnownBackbone('mobilenet_v1_0.5_160')?.name, 'mobilenet_v1_0.50_160');
    assert.equal(findKnownBackbone('resnet50'), undefined);
    const mobilenets = KNOWN_BACKBONES.filter((b) => b.name.startsWith('mobilenet_v1_'));
    assert.equal(mobilenets.length, 16);
    assert.equal(KNOWN_BACKBONES.length, 17);
    for (const b of mobilenets) {
      assert.equal(b.url, `https://storage.googleapis.com/tfjs-models/tfjs/${b.name}/model.json`);
      assert.equal(b.inputSize, Number(b.name.split('_').at(-1)));
      assert.deepEqual([b.featureLayer, b.unfreezeFrom], ['conv_pw_13_relu', 'conv_dw_12']);
      assert.deepEqual(b.normalization, NORMALIZATIONS.symmetric);
    }
    assert.deepEqual(
      KNOWN_BACKBONES.filter((b) => b.bundled).map((b) => [b.name, b.bundled, b.featureLayer, b.unfreezeFrom]),
      [
        ['mobilenet_v1_0.75_224', 'mobilenet_v1_0.75_224', 'conv_pw_13_relu', 'conv_dw_12'],
        ['darknet-tiny', 'darknet-tiny', 'leaky_re_lu_15', 'conv2d_13'],
      ],
    );
    assert.deepEqual(findKnownBackbone('darknet')?.normalization, NORMALIZATIONS.unit);
  });

  test('the pinned digests are the bundled folders\' bundle digests', async () => {
    for (const b of KNOWN_BACKBONES.filter((k) => k.bundled)) {
      assert.equal(await bundleDigest(await inspectBundle(join(BUNDLED, b.bundled!, 'model.json'))), b.sha256, b.name);
    }
  });

  test('normalizations by name map 0 and 255 where they should', () => {
    const apply = (n: ReturnType<typeof parseNormalization>, p: number) => n.mean.map((m, c) => (p * n.scale - m) / n.std[c]);
    assert.deepEqual(apply(parseNormalization('unit'), 255), [1, 1, 1]);
    assert.deepEqual(apply(parseNormalization('symmetric'), 0), [-1, -1, -1]);
    assert.deepEqual(apply(parseNormalization('symmetric'), 255), [1, 1, 1]);
    assert.ok(maxAbsDiff(apply(parseNormalization('imagenet'), 0), [-0.485 / 0.229, -0.456 / 0.224, -0.406 / 0.225]) < 1e-12);
  });

  test('BAD CALL - an unknown normalization name', () => {
    assert.throws(() => parseNormalization('caffe'), { name: 'RangeError', message: /Unsupported normalization "caffe"\. Expected one of: unit, symmetric, imagenet\./ });
  });

  test('the default cache folder follows PETS_CACHE_DIR, then XDG_CACHE_HOME, then ~/.cache', () => {
    const saved = { pets: process.env.PETS_CACHE_DIR, xdg: process.env.XDG_CACHE_HOME };
    try {
      process.env.PETS_CACHE_DIR = '/somewhere/pets';
      process.env.XDG_CACHE_HOME = '/xdg';
      assert.equal(defaultCacheDir(), '/somewhere/pets');
      delete process.env.PETS_CACHE_DIR;
      assert.equal(defaultCacheDir(), join('/xdg', 'pets', 'backbones'));
      delete process.env.XDG_CACHE_HOME;
      if (process.platform !== 'win32') assert.equal(defaultCacheDir(), join(homedir(), '.cache', 'pets', 'backbones'));
    } finally {
      for (const [key, value] of [['PETS_CACHE_DIR', saved.pets], ['XDG_CACHE_HOME', saved.xdg]] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  test('pets-train backbones --json lists them', async () => {
    const child = spawn(process.execPath, [TRAIN_CLI, 'backbones', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const [code] = await once(child, 'exit');
    assert.equal(code, 0, stderr);
    assert.equal(stderr, '');
    const listed = JSON.parse(stdout) as { cacheDir: string; backbones: { name: string; normalizationName: string }[] };
    assert.deepEqual(listed.backbones.map((b) => b.name), KNOWN_BACKBONES.map((b) => b.name));
    assert.equal(listed.backbones[1].normalizationName, 'unit');
  });
});

describe('backbones: bundled and local', () => {
  test('both bundled backbones load by name, with their feature and fine-tuning layers', async () => {
    const tensors = tf.memory().numTensors;
    for (const name of ['mobilenet_v1_0.75_224', 'darknet']) {
      const resolved = await resolveBackbone(name);
      assert.equal(resolved.source, 'bundled');
      assert.equal(resolved.modelJson, join(BUNDLED, resolved.known!.bundled!, 'model.json'));
      assert.equal(resolved.sha256, resolved.known!.sha256);
      const model = await loadBackbone(resolved);
      assert.deepEqual(model.inputs[0].shape, [null, 224, 224, 3]);
      assert.ok(model.getLayer(resolved.known!.featureLayer));
      assert.ok(model.getLayer(resolved.known!.unfreezeFrom));
      model.dispose();
    }
    assert.equal(tf.memory().numTensors, tensors);
  });

  test('a folder and a model.json path resolve to the same files and digest', async () => {
    const dir = await darknetCopy('local');
    const byFolder = await resolveBackbone(dir);
    const byFile = await resolveBackbone(join(dir, 'model.json'));
    assert.deepEqual([byFolder.source, byFolder.modelJson], ['path', join(dir, 'model.json')]);
    assert.equal(byFile.modelJson, byFolder.modelJson);
    assert.equal(byFolder.sha256, findKnownBackbone('darknet-tiny')!.sha256);
    (await loadBackbone(byFile)).dispose();
  });

  test('BAD CALL - a bundled backbone whose bytes changed is damaged', async () => {
    const dir = await darknetCopy('damaged-bundle');
    const shard = join(dir, 'group2-shard1of1');
    const bytes = await readFile(shard);
    bytes[0] ^= 0xff;
    await writeFile(shard, bytes);
    const bundled = await resolveBackbone('darknet-tiny');
    await rejectsWith(loadBackbone({ ...bundled, modelJson: join(dir, 'model.json') }), /data\/backbones\/darknet-tiny is damaged: its bundle digest is [0-9a-f]{64}, expected f766be97.*git checkout/);
  });

  test('BAD CALL - a shard missing on disk', async () => {
    const dir = await darknetCopy('missing-shard');
    const resolved = await resolveBackbone(dir);
    await rm(join(dir, 'group5-shard1of1'));
    await rejectsWith(loadBackbone(resolved), /Shard group5-shard1of1 of .*model\.json is missing/);
    await rejectsWith(resolveBackbone(dir), /Shard group5-shard1of1 of .* is missing/);
  });

  test('BAD CALL - a shard of the wrong size on disk', async () => {
    const dir = await darknetCopy('short-shard');
    const resolved = await resolveBackbone(dir);
    await truncate(join(dir, 'group1-shard1of1'), 100);
    await rejectsWith(loadBackbone(resolved), /Shard group1-shard1of1 of .* is 100 bytes, expected 256 from its weightsManifest/);
  });

  test('BAD CALL - a model.json that is not a TensorFlow.js model', async () => {
    const dir = join(tmp, 'not-tfjs');
    await mkdir(dir);
    await writeFile(join(dir, 'model.json'), '{}');
    await rejectsWith(resolveAndLoad(dir), /not a TensorFlow\.js Layers model\.json .*tensorflowjs_converter/);
    await rejectsWith(loadBackbone({ modelJson: join(dir, 'model.json'), source: 'path', spec: dir, sha256: '' }), /not a TensorFlow\.js Layers model\.json/);
    await writeFile(join(dir, 'model.json'), 'not json');
    await rejectsWith(resolveBackbone(dir), /is not valid JSON/);
  });

  test('BAD CALL - a graph model', async () => {
    await rejectsWith(resolveBackbone(join(mounts.get('graph')!, 'model.json')), /graph model; graph models are not supported as backbones/);
  });

  test('BAD CALL - an unknown name, a folder without model.json', async () => {
    await rejectsWith(resolveBackbone('resnet50'), /Unknown backbone "resnet50".*Bundled: mobilenet_v1_0\.75_224 \(mobilenet\), darknet-tiny \(darknet\); 15 more/);
    await rejectsWith(resolveBackbone(tmp), /has no model\.json/);
    await rejectsWith(resolveBackbone(''), /must be a backbone name/, 'RangeError');
    await rejectsWith(resolveBackbone('darknet', { sha256: 'abc' }), /Option "sha256" must be 64 hex digits/, 'RangeError');
  });

  test('BAD CALL - an expected digest that a local backbone does not have', async () => {
    await rejectsWith(resolveBackbone('darknet', { sha256: '0'.repeat(64) }), /Checksum mismatch for data\/backbones\/darknet-tiny: its bundle digest is f766be97[0-9a-f]+, expected 0{64}/);
  });
});

describe('backbones: download and cache', () => {
  test('a URL downloads into the cache once; the second resolve makes no request', async () => {
    const cacheDir = await freshCache('once');
    const events: DownloadProgress[] = [];
    const before = requests.length;
    const first = await resolveBackbone(url('/darknet/model.json'), { cacheDir, onProgress: (p) => events.push(p) });
    assert.equal(first.source, 'url');
    assert.equal(first.sha256, findKnownBackbone('darknet')!.sha256);
    assert.equal(requests.length - before, 32);
    const key = cacheKey(url('/darknet/model.json'));
    assert.deepEqual(await readdir(cacheDir), [key]);
    assert.equal(first.modelJson, join(cacheDir, key, 'model.json'));
    const record = JSON.parse(await readFile(join(cacheDir, key, RECORD_FILE), 'utf8'));
    assert.deepEqual([record.url, record.sha256, record.files.length], [url('/darknet/model.json'), first.sha256, 32]);
    const last = events.at(-1)!;
    assert.deepEqual([last.filesDone, last.filesTotal, last.bytesDone], [32, 32, last.bytesTotal]);
    assert.equal(last.bytesTotal, 33236 + 4185952);

    const second = await resolveBackbone(url('/darknet/model.json'), { cacheDir });
    assert.equal(requests.length - before, 32);
    assert.deepEqual([second.source, second.modelJson, second.sha256], ['cache', first.modelJson, first.sha256]);
  });

  test('the loaded model predicts what tfjs\' own HTTP loader gives for the same files', async () => {
    const cacheDir = await freshCache('parity');
    const ours = await loadBackbone(await resolveBackbone(url('/darknet/model.json'), { cacheDir }));
    const direct = await tfl.loadLayersModel(tf.io.http(url('/darknet/model.json')));
    const x = tf.randomUniform([1, 224, 224, 3], 0, 1, 'float32', 7);
    try {
      const a = predict(ours, x);
      const b = predict(direct, x);
      assert.equal(a.length, 1000);
      assert.ok(maxAbsDiff(a, b) <= TOLERANCE, `max difference ${maxAbsDiff(a, b)}`);
    } finally {
      x.dispose();
      ours.dispose();
      direct.dispose();
    }
  });

  test('a damaged cache entry is downloaded again', async () => {
    const cacheDir = await freshCache('damaged');
    const first = await resolveBackbone(url('/darknet/model.json'), { cacheDir });
    const shard = join(cacheDir, cacheKey(url('/darknet/model.json')), 'group4-shard1of1');
    const bytes = await readFile(shard);
    bytes[10] ^= 1;
    await writeFile(shard, bytes);
    await rejectsWith(loadBackbone(first), /cached download of .* is damaged: its bundle digest is [0-9a-f]{64}, expected f766be97/);
    const before = requests.length;
    const again = await resolveBackbone(url('/darknet/model.json'), { cacheDir });
    assert.equal(again.source, 'url');
    assert.equal(requests.length - before, 32);
    (await loadBackbone(again)).dispose();
  });

  test('a known name published only as a URL resolves from its cache entry without a request', async () => {
    const cacheDir = await freshCache('known-url');
    const known = findKnownBackbone('mobilenet_v1_0.25_128')!;
    const dir = await darknetCopy(join('caches', 'known-url', cacheKey(known.url!)));
    const sha256 = findKnownBackbone('darknet')!.sha256!;
    await writeFile(join(dir, RECORD_FILE), JSON.stringify({ url: known.url, sha256, files: [], bytes: 0, downloadedAt: '' }));
    const before = requests.length;
    const resolved = await resolveBackbone('mobilenet_v1_0.25_128', { cacheDir });
    assert.deepEqual([resolved.source, resolved.known?.name, resolved.url, requests.length - before], ['cache', known.name, known.url, 0]);
  });

  test('a connection dropped once is retried', async () => {
    const cacheDir = await freshCache('flaky');
    const resolved = await resolveBackbone(url('/flaky/model.json'), { cacheDir, ...FAST });
    assert.equal(resolved.source, 'url');
    assert.equal(requests.filter((p) => p === '/flaky/group3-shard1of1').length, 2);
    (await loadBackbone(resolved)).dispose();
  });

  test('BAD CALL - HTTP 404', async () => {
    const cacheDir = await freshCache('404');
    await rejectsWith(resolveBackbone(url('/nothing/model.json'), { cacheDir, ...FAST }), new RegExp(`${url('/nothing/model.json')} answered HTTP 404 Not Found; check the URL`));
    assert.deepEqual(await readdir(cacheDir), []);
  });

  test('BAD CALL - a body shorter than its Content-Length, on every attempt', async () => {
    const cacheDir = await freshCache('truncated');
    const before = countOf('/trunc/model.json');
    await rejectsWith(resolveBackbone(url('/trunc/model.json'), { cacheDir, ...FAST }), /Download of http:\/\/127\.0\.0\.1:\d+\/trunc\/model\.json was cut off after \d+ of 33236 bytes/);
    assert.equal(countOf('/trunc/model.json') - before, 2);
    assert.deepEqual(await readdir(cacheDir), []);
  });

  test('BAD CALL - a shard the server holds with the wrong size', async () => {
    const cacheDir = await freshCache('wrong-size');
    await rejectsWith(resolveBackbone(url('/wrongsize/model.json'), { cacheDir, ...FAST }), /Shard group1-shard1of1 from .* is 260 bytes, expected 256 from the weightsManifest/);
    assert.deepEqual(await readdir(cacheDir), []);
  });

  test('BAD CALL - a checksum mismatch leaves nothing in the cache', async () => {
    const cacheDir = await freshCache('checksum');
    const wrong = 'ab'.repeat(32);
    await rejectsWith(resolveBackbone(url('/darknet/model.json'), { cacheDir, sha256: wrong }), new RegExp(`Checksum mismatch for .*: its bundle digest is f766be97[0-9a-f]+, expected ${wrong}`));
    assert.deepEqual(await readdir(cacheDir), []);
  });

  test('BAD CALL - a graph model URL', async () => {
    const cacheDir = await freshCache('graph');
    await rejectsWith(resolveBackbone(url('/graph/model.json'), { cacheDir }), /graph models are not supported as backbones/);
    assert.deepEqual(await readdir(cacheDir), []);
  });

  test('BAD CALL - a server nobody listens on', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const { port } = closed.address() as AddressInfo;
    closed.close();
    await once(closed, 'close');
    const cacheDir = await freshCache('offline');
    await rejectsWith(
      resolveBackbone(`http://127.0.0.1:${port}/model.json`, { cacheDir, ...FAST }),
      new RegExp(`Cannot reach 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\); check the network or pass a local path\\.`),
    );
  });

  test('a download killed with SIGKILL leaves only a temporary folder, which the next run removes', async () => {
    const cacheDir = await freshCache('killed');
    let arrived!: () => void;
    const slowArrived = new Promise<void>((resolve) => (arrived = resolve));
    special.set('/slow/group19-shard1of1', (_req, res) => {
      res.writeHead(200, { 'content-length': '1179648' });
      res.write(Buffer.alloc(4096), () => arrived());
      held.push(res);
    });
    const resolveJs = new URL('../src/backbones/resolve.js', import.meta.url).href;
    const script = `import { resolveBackbone } from ${JSON.stringify(resolveJs)}; await resolveBackbone(process.argv[1], { cacheDir: process.argv[2], concurrency: 1 });`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, url('/slow/model.json'), cacheDir], { stdio: 'ignore' });
    await slowArrived;
    child.kill('SIGKILL');
    await once(child, 'exit');
    const left = await readdir(cacheDir);
    assert.equal(left.length, 1);
    assert.match(left[0], new RegExp(`^\\.${cacheKey(url('/slow/model.json'))}\\.tmp-${child.pid}-[0-9a-f]{8}$`));
    assert.ok((await readdir(join(cacheDir, left[0]))).includes('model.json'));

    await resolveBackbone(url('/darknet/model.json'), { cacheDir });
    assert.deepEqual(await readdir(cacheDir), [cacheKey(url('/darknet/model.json'))]);
  });
});
