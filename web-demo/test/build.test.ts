// web:build and the static server, without a browser: the folder's contents, fp16 models, errors that
// say what to do, and the headers that make wasm multi-threaded.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { get, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { buildSite, SAMPLE_PHOTOS, webDemoDir } from '../scripts/build.js';
import { ISOLATION_HEADERS, serveSite } from '../scripts/serve.js';
import { makeModels, type FixtureModels } from './fixture.js';

let dir: string;
let models: FixtureModels;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pets-web-build-'));
  models = await makeModels(join(dir, 'models'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('web:build', () => {
  test('writes a self-contained static folder: page, model, onnxruntime-web module and wasm, samples', async () => {
    const out = join(dir, 'site');
    const result = await buildSite({ model: models.fp32, outDir: out });
    const files = (await readdir(out, { recursive: true })).sort();
    for (const file of ['index.html', 'styles.css', 'main.js', 'config.json', 'model.onnx', '_headers', 'ort/ort.bundle.min.mjs', result.config.ortFiles.wasm]) {
      assert.ok(files.includes(file), `${file} is missing from ${files.join(', ')}`);
    }
    assert.deepEqual(await readFile(join(out, 'model.onnx')), await readFile(models.fp32));
    assert.equal(result.config.model.precision, 'fp32');
    assert.deepEqual(
      result.config.samples.map((s) => s.url),
      SAMPLE_PHOTOS.map((p) => `samples/${p}`),
    );
    // onnxruntime-web's builds stay files of their own (their worker threads load them by URL), each
    // imported only when its provider runs; no code comes from a CDN.
    const main = await readFile(join(out, 'main.js'), 'utf8');
    assert.match(main, /import\("\.\/ort\/ort\.bundle\.min\.mjs"\)/);
    assert.match(main, /import\("\.\/ort\/ort\.wasm\.bundle\.min\.mjs"\)/);
    assert.doesNotMatch(main, /from\s*"\.\/ort\//);
    assert.deepEqual(result.config.ortFiles, { webgpu: 'ort/ort-wasm-simd-threaded.jsep.wasm', wasm: 'ort/ort-wasm-simd-threaded.wasm' });
    for (const file of Object.values(result.config.ortFiles)) assert.ok(files.includes(file), file);
    // The model and config.json start downloading with the page; the service worker is beside it.
    const html = await readFile(join(out, 'index.html'), 'utf8');
    assert.match(html, /<link rel="preload" href="model\.onnx" as="fetch" crossorigin>/);
    assert.match(html, /<link rel="preload" href="config\.json" as="fetch" crossorigin>/);
    assert.equal(result.config.serviceWorker, 'sw.js');
    const sw = await readFile(join(out, 'sw.js'), 'utf8');
    assert.match(sw, /pets-demo-/);
    assert.match(sw, /\b[0-9a-f]{16}\b/, 'the cache version: a hash of the build');
    assert.doesNotMatch(sw, /\bVERSION\b/);
    assert.doesNotMatch(main, /cdn\.jsdelivr|unpkg\.com|https:\/\/[^"'\s]*\.(m?js|wasm)/);
    assert.equal(result.labels, 37);
    assert.ok(!existsSync(`${out}.partial-${process.pid}`));
  });

  test('precompressed copies: FILE.br and FILE.gz decompress to FILE byte for byte, for every compressible file', async () => {
    const out = join(dir, 'site');
    const files = await readdir(out, { recursive: true });
    const copies = files.filter((f) => /\.(br|gz)$/.test(f));
    for (const needed of ['index.html', 'main.js', 'config.json', 'sw.js', 'ort/ort-wasm-simd-threaded.wasm', 'ort/ort-wasm-simd-threaded.jsep.wasm', 'ort/ort.wasm.bundle.min.mjs', 'model.onnx']) {
      for (const ext of ['br', 'gz']) assert.ok(copies.includes(`${needed}.${ext}`), `${needed}.${ext} is missing`);
    }
    assert.ok(!copies.some((f) => f.startsWith('samples/')), 'JPEGs are not recompressed');
    for (const copy of copies) {
      const packed = await readFile(join(out, copy));
      const original = await readFile(join(out, copy.slice(0, -3)));
      const unpacked = copy.endsWith('.br') ? brotliDecompressSync(packed) : gunzipSync(packed);
      assert.ok(unpacked.equals(original), `${copy} does not decompress to ${copy.slice(0, -3)}`);
      assert.ok(packed.length < original.length, `${copy} is not smaller`);
    }
  });

  test('levers off: one onnxruntime-web build for both providers, no copies, no preload, no service worker', async () => {
    const out = join(dir, 'site-plain');
    const result = await buildSite({ model: models.fp32, outDir: out, levers: { wasmOnlyBuild: false, precompress: false, prefetch: false, serviceWorker: false } });
    const files = await readdir(out, { recursive: true });
    assert.deepEqual(result.config.ortFiles, { webgpu: 'ort/ort-wasm-simd-threaded.jsep.wasm', wasm: 'ort/ort-wasm-simd-threaded.jsep.wasm' });
    assert.deepEqual(files.filter((f) => /\.(br|gz)$|^sw\.js$|ort-wasm-simd-threaded\.wasm$/.test(f)), []);
    assert.doesNotMatch(await readFile(join(out, 'index.html'), 'utf8'), /rel="preload"/);
    assert.equal(result.config.prefetch, false);
    assert.equal(result.config.serviceWorker, null);
  });

  test('ships an fp16 model as fp16, about half the size', async () => {
    const result = await buildSite({ model: models.fp16, outDir: join(dir, 'site-fp16') });
    assert.equal(result.config.model.precision, 'fp16');
    const fp32 = (await readFile(models.fp32)).length;
    assert.ok(result.config.model.bytes < fp32 * 0.6, `fp16 ${result.config.model.bytes} B vs fp32 ${fp32} B`);
  });

  test('BAD CALL - no model: says how to make one, and writes nothing', () => {
    const out = join(dir, 'never');
    const cli = spawnSync(process.execPath, [join(webDemoDir, 'build', 'scripts', 'build.js'), '--model', join(dir, 'missing.onnx'), '--out', out], { encoding: 'utf8' });
    assert.equal(cli.status, 1);
    assert.match(cli.stderr, /No model at .*missing\.onnx/);
    assert.match(cli.stderr, /npm start/);
    assert.match(cli.stderr, /pets-export --run/);
    assert.ok(!existsSync(out));
  });

  test('BAD CALL - not a pets model: rejected before anything ships, and the previous build is kept', async () => {
    const out = join(dir, 'site-kept');
    await buildSite({ model: models.fp32, outDir: out });
    const junk = join(dir, 'junk.onnx');
    await writeFile(junk, 'this is not an ONNX model');
    await assert.rejects(buildSite({ model: junk, outDir: out }), { name: 'Error', message: /junk\.onnx is not a usable pets model/ });
    assert.ok(existsSync(join(out, 'model.onnx')));
  });
});

/** A raw GET (no client-side decompression): status, headers and the bytes as sent. */
function rawGet(url: URL, acceptEncoding: string): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((done, fail) => {
    get(url, { headers: { 'accept-encoding': acceptEncoding } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', fail);
    }).on('error', fail);
  });
}

describe('serve', () => {
  test('serves FILE.br or FILE.gz by Accept-Encoding, with Content-Encoding, Vary and the original type', async () => {
    const out = join(dir, 'site');
    const server = await serveSite({ dir: out, port: 0 });
    try {
      for (const path of ['ort/ort-wasm-simd-threaded.wasm', 'main.js', 'model.onnx']) {
        const original = await readFile(join(out, path));
        const url = new URL(path, server.url);
        const br = await rawGet(url, 'gzip, deflate, br');
        assert.equal(br.headers['content-encoding'], 'br', path);
        assert.equal(br.headers.vary, 'Accept-Encoding');
        assert.ok(brotliDecompressSync(br.body).equals(original), `${path} as br`);
        const gz = await rawGet(url, 'gzip');
        assert.equal(gz.headers['content-encoding'], 'gzip', path);
        assert.ok(gunzipSync(gz.body).equals(original), `${path} as gzip`);
        const plain = await rawGet(url, 'identity');
        assert.equal(plain.headers['content-encoding'], undefined, path);
        assert.ok(plain.body.equals(original), `${path} uncompressed`);
        const type = { wasm: /^application\/wasm$/, js: /^text\/javascript/, onnx: /^application\/octet-stream$/ }[path.split('.').pop() as 'wasm' | 'js' | 'onnx'];
        for (const response of [br, gz, plain]) assert.match(response.headers['content-type'] ?? '', type, path);
        assert.equal(br.headers['cross-origin-embedder-policy'], 'require-corp');
      }
    } finally {
      await server.close();
    }
  });

  test('sends COOP/COEP (cross-origin isolation) and the right types for .wasm, .mjs and .onnx', async () => {
    const out = join(dir, 'site-served');
    const { config } = await buildSite({ model: models.fp32, outDir: out });
    const server = await serveSite({ dir: out, port: 0 });
    try {
      const types: Record<string, RegExp> = { '': /^text\/html/, 'main.js': /^text\/javascript/, 'ort/ort.bundle.min.mjs': /^text\/javascript/, 'model.onnx': /^application\/octet-stream/ };
      types[config.ortFiles.wasm] = /^application\/wasm$/;
      for (const [path, type] of Object.entries(types)) {
        const response = await fetch(new URL(path, server.url));
        assert.equal(response.status, 200, path);
        assert.match(response.headers.get('content-type') ?? '', type, path);
        for (const [name, value] of Object.entries(ISOLATION_HEADERS)) assert.equal(response.headers.get(name), value, `${name} on ${path}`);
        await response.arrayBuffer();
      }
      assert.equal((await fetch(new URL('nothing-here.js', server.url))).status, 404);
    } finally {
      await server.close();
    }
    const plain = await serveSite({ dir: out, port: 0, isolate: false });
    try {
      const response = await fetch(plain.url);
      assert.equal(response.headers.get('cross-origin-embedder-policy'), null);
      await response.text();
    } finally {
      await plain.close();
    }
  });
});
