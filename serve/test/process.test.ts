// pets-serve as a user runs it, in its own process: --help, bad command lines, the URL it prints, one
// JSON log line per request, batching across concurrent clients (seen in /metrics), graceful shutdown on
// SIGTERM with a request in flight, and kill -9 followed by a restart on the same port.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createClassifier } from '@pets/runtime';
import { FIXTURE_SIZE, SAMPLE_IMAGES, writeFixtureModel } from './fixture-model.js';
import { get, inferBody, parseRaw, partialRequest, post } from './http.js';

const bin = fileURLToPath(new URL('../../bin/pets-serve.js', import.meta.url));
const SIZE = FIXTURE_SIZE;

let model: string;
let x: Float32Array;

interface Running {
  child: ChildProcess;
  url: string;
  port: number;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts pets-serve and resolves once it prints the URL it listens on. */
function start(...args: string[]): Promise<Running> {
  const child = spawn(process.execPath, [bin, '--model', model, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    child.stderr?.on('data', (c: Buffer) => {
      stderr += c.toString();
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match) resolve({ child, url: match[1], port: Number(new URL(match[1]).port), stdout: () => stdout, stderr: () => stderr, exit });
    });
    void exit.then(({ code }) => reject(new Error(`pets-serve exited with ${code} before listening:\n${stderr}`)));
  });
}

before(async () => {
  model = await writeFixtureModel();
  const classifier = await createClassifier({ model });
  x = await classifier.preprocess(join(SAMPLE_IMAGES, 'Abyssinian_12.jpg'));
  await classifier.dispose();
});

after(async () => {
  if (model) await rm(dirname(model), { recursive: true, force: true });
});

describe('pets-serve command line', () => {
  test('--help lists every option with its default', () => {
    const result = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    for (const option of ['--model', '--port', '--host', '--providers', '--threads', '--max-batch', '--max-queue', '--body-limit', '--timeout', '--max-pixels', '--log-level']) {
      assert.match(result.stdout, new RegExp(`${option}\\b`), option);
    }
    assert.match(result.stdout, /\[default: "127\.0\.0\.1"\]/);
    assert.match(result.stdout, /\[default: 8000\]/);
  });

  test('BAD CALL - no model, a missing file, a wrong flag: one line and a non-zero exit code', () => {
    const none = spawnSync(process.execPath, [bin], { encoding: 'utf8' });
    assert.equal(none.status, 2);
    assert.match(none.stderr, /^pets-serve: Missing required argument: model/);
    const missing = spawnSync(process.execPath, [bin, '--model', '/nonexistent/m.onnx', '--port', '0'], { encoding: 'utf8' });
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /^pets-serve: .*ENOENT.*\/nonexistent\/m\.onnx/);
    assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);
    const flag = spawnSync(process.execPath, [bin, '--model', model, '--port', '0', '--body-limit', 'lots'], { encoding: 'utf8' });
    assert.equal(flag.status, 2);
    assert.match(flag.stderr, /Invalid size "lots"/);
  });
});

describe('pets-serve process', () => {
  test('prints its URL, logs one JSON line per request, and batches concurrent requests (seen in /metrics)', async () => {
    const server = await start('--port', '0', '--providers', 'cpu');
    try {
      assert.match(server.stderr(), /model "pets48" version 1 from .*pets48\.onnx: 48x48, 37 classes, execution provider cpu/);
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const one = inferBody(x, 1, SIZE, { binary: true, outputs: [{ name: 'probabilities', parameters: { classification: 1 } }] });
      const replies = await Promise.all(Array.from({ length: 32 }, () => post(`${server.url}/v2/models/pets48/infer`, one.body, one.headers)));
      assert.ok(replies.every((r) => r.status === 200));
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      const images = Number(/^pets_serve_batch_size_sum\{model="pets48"\} (\d+)/m.exec(metrics)?.[1]);
      const runs = Number(/^pets_serve_batch_size_count\{model="pets48"\} (\d+)/m.exec(metrics)?.[1]);
      assert.equal(images, 32, 'every image went through the batcher');
      assert.ok(runs < images, `32 concurrent requests ran in ${runs} runs: some shared a run`);
      const lines = server.stdout().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
      const requests = lines.filter((l) => l.msg === 'request');
      assert.equal(requests.filter((l) => l.route === '/v2/models/:name/infer' && l.status === 200).length, 32);
      assert.ok(requests.every((l) => typeof l.ms === 'number' && typeof l.reqId === 'string'));
    } finally {
      server.child.kill('SIGKILL');
      await server.exit;
    }
  });

  test('SIGTERM with a request in flight: the request is answered, new connections are refused, exit code 0', async () => {
    const server = await start('--port', '0');
    const { body, headers } = inferBody(x, 1, SIZE);
    const inFlight = partialRequest(server.port, '/v2/models/pets48/infer', body, 1000, headers);
    await new Promise((resolve) => setTimeout(resolve, 200));
    server.child.kill('SIGTERM');
    // Once the server has taken the signal, a new connection is refused while the request stays open.
    let refused = false;
    for (let tries = 0; tries < 100 && !refused; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      if (!/SIGTERM: finishing in-flight requests/.test(server.stderr())) continue;
      refused = await fetch(`${server.url}/v2/health/live`).then(() => false, () => true);
    }
    assert.ok(refused, 'a new connection after SIGTERM is refused');
    inFlight.finish();
    const reply = parseRaw(await inFlight.response);
    assert.equal(reply.status, 200, JSON.stringify(reply.json));
    assert.equal((reply.json.outputs as unknown[]).length, 2);
    const { code, signal } = await server.exit;
    assert.deepEqual({ code, signal }, { code: 0, signal: null });
    assert.match(server.stderr(), /SIGTERM: finishing in-flight requests[\s\S]*stopped/);
  });

  test('kill -9, then a restart on the same port serves again', async () => {
    const first = await start('--port', '0');
    assert.equal((await get(`${first.url}/v2/health/ready`)).status, 200);
    first.child.kill('SIGKILL');
    assert.equal((await first.exit).signal, 'SIGKILL');
    const second = await start('--port', String(first.port));
    try {
      assert.equal(second.url, first.url);
      assert.equal((await get(`${second.url}/v2/health/ready`)).status, 200);
      const { body, headers } = inferBody(x, 1, SIZE);
      assert.equal((await post(`${second.url}/v2/models/pets48/infer`, body, headers)).status, 200);
    } finally {
      second.child.kill('SIGTERM');
      assert.equal((await second.exit).code, 0);
    }
  });
});
