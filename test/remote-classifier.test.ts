// createRemoteClassifier() against a real pets-serve process (spawned from its bin, --port 0): the same
// predictions as classify() on the same file within 1e-6, the contract from the server or from the file,
// versions, batches with a bad image, and each failure as a named RemoteInferenceError.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exportModel } from '@pets/export';
import { createClassifier, createRemoteClassifier, type ClassifyOutcome, type NodeClassifier, type Prediction } from '@pets/runtime';
import { createContract } from '@pets/runtime/contract';
import * as web from '@pets/runtime/web';
import { buildModel, chooseBackend, loadDataset, PRESETS } from '@pets/train';
import { REPO, SAMPLE } from './src/cli-run.js';

const SIZE = 48;
const TOLERANCE = 1e-6;
const images = ['Abyssinian_12.jpg', 'Abyssinian_101.jpg', 'Abyssinian_135.jpg'].map((f) => join(SAMPLE, 'images', f));

let dir: string;
let modelFile: string;
let labels: string[];
let server: ChildProcess;
let url: string;
let local: NodeClassifier;

/** Starts pets-serve on a free port; resolves with the URL it prints. */
function startServe(...args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(join(REPO, 'node_modules', '.bin', 'pets-serve'), [...args, '--port', '0', '--log-level', 'silent'], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match) resolve({ child, url: match[1] });
    });
    child.on('exit', (code) => reject(new Error(`pets-serve exited with ${code}: ${stderr}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.on('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

function assertSamePredictions(remote: Prediction[], expected: Prediction[], what: string): void {
  assert.deepEqual(remote.map((p) => [p.label, p.index]), expected.map((p) => [p.label, p.index]), `${what}: same classes in the same order`);
  remote.forEach((p, i) => assert.ok(Math.abs(p.probability - expected[i].probability) <= TOLERANCE, `${what}: ${p.label} ${p.probability} vs ${expected[i].probability}`));
}

function predictionsOf(outcome: ClassifyOutcome): Prediction[] {
  assert.ok(outcome.ok, outcome.ok ? '' : outcome.error.message);
  return outcome.predictions;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pets-remote-'));
  // model3 at 48x48 with seeded random weights: seconds to build and export, no training.
  await chooseBackend('wasm');
  labels = (await loadDataset(SAMPLE)).labels;
  const preset = PRESETS.model3;
  const model = buildModel({ architecture: preset.architecture, dropout: preset.dropout, imageSize: SIZE, numClasses: labels.length, seed: 7 });
  modelFile = join(dir, 'pets48.onnx');
  await writeFile(modelFile, exportModel(model, createContract({ labels, imageSize: SIZE })).bytes);
  model.dispose();
  ({ child: server, url } = await startServe('--model', modelFile, '--model', `pets48@2=${modelFile}`));
  local = await createClassifier({ model: modelFile });
});
after(async () => {
  await stop(server);
  await local?.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('createRemoteClassifier() on pets-serve', () => {
  test('gives classify()\'s predictions within 1e-6 for one image, a batch of paths, bytes and pixels, and concurrent calls', async () => {
    const remote = await createRemoteClassifier({ url, model: 'pets48', maxBatch: 2 });
    assert.deepEqual(remote.info.labels, labels);
    assert.deepEqual(remote.info.inputSize, { height: SIZE, width: SIZE });
    assert.deepEqual(remote.info.contract, local.info.contract);
    assert.equal(remote.info.remote.contractSource, 'metadata');
    assert.equal(remote.info.executionProvider, 'remote');

    assertSamePredictions(await remote.classify(images[0], { all: true }), await local.classify(images[0], { all: true }), 'one path');
    const bytes = await readFile(images[1]);
    const pixels = { data: new Uint8Array(SIZE * SIZE * 3).map((_, i) => (i * 37) % 256), width: SIZE, height: SIZE, channels: 3 as const };
    const batch = [images[0], bytes, pixels, images[2], images[1]];
    const [remoteOutcomes, localOutcomes] = await Promise.all([remote.classify(batch, { topK: 5 }), local.classify(batch, { topK: 5 })]);
    assert.equal(remoteOutcomes.length, batch.length);
    remoteOutcomes.forEach((o, i) => assertSamePredictions(predictionsOf(o), predictionsOf(localOutcomes[i]), `batch item ${i}`));
    // Concurrent single calls share requests through the batcher and still each get their own answer.
    const concurrent = await Promise.all(images.map((image) => remote.classify(image, { topK: 3 })));
    for (const [i, predictions] of concurrent.entries()) assertSamePredictions(predictions, await local.classify(images[i], { topK: 3 }), `concurrent ${i}`);
    // infer(): the outputs for preprocessed input, probabilities and logits.
    const x = await remote.preprocess(images[2]);
    const [remoteOut] = await remote.infer(x);
    const [localOut] = await local.infer(x);
    remoteOut.probabilities.forEach((p, i) => assert.ok(Math.abs(p - localOut.probabilities[i]) <= TOLERANCE));
    assert.ok(remoteOut.logits && localOut.logits);
    remoteOut.logits.forEach((l, i) => assert.ok(Math.abs(l - (localOut.logits as Float32Array)[i]) <= 1e-5));
  });

  test('the contract from the local .onnx file or an option (a server without it, such as a plain Triton), and a version', async () => {
    const fromFile = await createRemoteClassifier({ url, model: 'pets48', version: 2, modelFile });
    assert.equal(fromFile.info.remote.contractSource, 'file');
    assert.equal(fromFile.info.remote.version, '2');
    assert.deepEqual(fromFile.info.provenance, local.info.provenance);
    assertSamePredictions(await fromFile.classify(images[1]), await local.classify(images[1]), 'contract from the file');
    const fromOption = await createRemoteClassifier({ url: `${url}/`, model: 'pets48', contract: local.info.contract });
    assert.equal(fromOption.info.remote.contractSource, 'option');
    assertSamePredictions(await fromOption.classify(images[2]), await local.classify(images[2]), 'contract as an option');
  });

  test("the browser entry's createRemoteClassifier() (fetch only) gives the same predictions for decoded pixels", async () => {
    const remote = await web.createRemoteClassifier({ url, model: 'pets48' });
    const pixels = { data: new Uint8Array(SIZE * SIZE * 4).map((_, i) => (i % 4 === 3 ? 255 : (i * 11) % 256)), width: SIZE, height: SIZE, channels: 4 as const };
    assertSamePredictions(await remote.classify(pixels, { all: true }), await local.classify(pixels, { all: true }), 'web entry');
  });

  test('BAD CALL - a bad image in a batch fails alone; an unknown model or version is the server\'s HTTP error', async () => {
    const remote = await createRemoteClassifier({ url, model: 'pets48' });
    const outcomes = await remote.classify([images[0], Buffer.from('not an image'), images[1]]);
    assert.deepEqual(outcomes.map((o) => o.ok), [true, false, true]);
    assert.equal(!outcomes[1].ok && outcomes[1].error.name, 'ImageDecodeError');
    await assert.rejects(createRemoteClassifier({ url, model: 'nope' }), (error: Error & { status?: number; failure?: string }) => {
      assert.equal(error.name, 'RemoteInferenceError');
      assert.equal(error.failure, 'http');
      assert.equal(error.status, 404);
      assert.match(error.message, /^GET http:\/\/127\.0\.0\.1:\d+\/v2\/models\/nope: 404 /);
      return true;
    });
    await assert.rejects(createRemoteClassifier({ url, model: 'pets48', version: 9 }), { name: 'RemoteInferenceError', status: 404 });
  });

  test('BAD CALL - a contract that does not fit the served model, bad options', async () => {
    const other = createContract({ labels: ['cat', 'dog'], imageSize: SIZE });
    await assert.rejects(createRemoteClassifier({ url, model: 'pets48', contract: other }), { name: 'ModelContractError', message: /no "probabilities" output of 2 classes/ });
    const wrongSize = createContract({ labels, imageSize: 64 });
    await assert.rejects(createRemoteClassifier({ url, model: 'pets48', contract: wrongSize }), { name: 'ModelContractError', message: /FP32 \[N, 64, 64, 3\]/ });
    await assert.rejects(createRemoteClassifier({ url: 'ftp://host', model: 'pets48' }), { name: 'TypeError', message: /"url" must be an http\(s\) URL/ });
    await assert.rejects(createRemoteClassifier({ url, model: 'pets48', timeoutMs: 0 }), { name: 'RangeError', message: /"timeoutMs" must be/ });
  });

  // Last: it stops the server.
  test('BAD CALL - no answer in time is a timeout; a server gone fails each item of a batch, and no server is a network error', async () => {
    // A server that accepts connections and never answers, as a hung one does.
    const silent: Server = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const silentUrl = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
      await assert.rejects(createRemoteClassifier({ url: silentUrl, model: 'pets48', timeoutMs: 300 }), { name: 'RemoteInferenceError', failure: 'timeout', message: /no answer within 300 ms/ });
    } finally {
      silent.close();
    }
    const remote = await createRemoteClassifier({ url, model: 'pets48', timeoutMs: 5000 });
    assert.equal((await remote.classify([images[0]]))[0].ok, true);
    await stop(server);
    const outcomes = await remote.classify([images[0], images[1]]);
    for (const outcome of outcomes) {
      assert.equal(outcome.ok, false);
      assert.equal(!outcome.ok && outcome.error.name, 'RemoteInferenceError');
      assert.equal(!outcome.ok && (outcome.error as Error & { failure: string }).failure, 'network');
    }
    await assert.rejects(createRemoteClassifier({ url, model: 'pets48' }), { name: 'RemoteInferenceError', failure: 'network', message: /cannot reach the server/ });
  });
});
