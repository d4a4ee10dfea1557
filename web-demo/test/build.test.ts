// web:build and the static server, without a browser: the folder's contents, fp16 models, errors that
// say what to do, and the headers that make wasm multi-threaded.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    // onnxruntime-web's bundle build stays its own file (its worker threads load it by URL) and no code comes from a CDN.
    const main = await readFile(join(out, 'main.js'), 'utf8');
    assert.match(main, /from\s*"\.\/ort\/ort\.bundle\.min\.mjs"/);
    assert.doesNotMatch(main, /cdn\.jsdelivr|unpkg\.com|https:\/\/[^"'\s]*\.(m?js|wasm)/);
    assert.equal(result.labels, 37);
    assert.ok(!existsSync(`${out}.partial-${process.pid}`));
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

describe('serve', () => {
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
