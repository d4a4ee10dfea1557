// tfjs' multithreaded wasm build in Node (train/src/backend/wasm-threads.ts): it starts with the
// requested threads, computes what the cpu backend computes, survives heap growth, lets the process
// exit, and trains bit for bit like the single-threaded build.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chooseBackend, describeBackend, wasmHeapBytes, type BackendReport } from '../src/backend/index.js';
import { tf } from '../src/backend/tf.js';
import { PETS_MINI as sample, TRAIN_CLI as cli } from './fixtures.js';

let report: BackendReport;
let root: string;
before(async () => {
  report = await chooseBackend('wasm', { threads: 2 });
  root = await mkdtemp(join(tmpdir(), 'pets-threads-test-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Runs the pets-train CLI to completion; resolves with its exit code and stderr. */
function runCli(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stderr }));
  });
}

describe('the threaded wasm build', () => {
  test('starts with the requested threads and says so', () => {
    assert.equal(report.name, 'wasm');
    assert.equal(report.threads, 2);
    assert.equal(report.threadsNote, undefined);
    assert.match(describeBackend(report)[0], /^backend: wasm \(tfjs "wasm", 2 threads\)$/);
  });

  test('convolution gradients match the cpu backend to 1e-5', async () => {
    const grads = () => {
      const x = tf.tensor4d(Float32Array.from({ length: 2 * 20 * 20 * 16 }, (_, i) => Math.sin(i)), [2, 20, 20, 16]);
      const w = tf.tensor4d(Float32Array.from({ length: 3 * 3 * 16 * 32 }, (_, i) => Math.cos(i)), [3, 3, 16, 32]);
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'))))([x, w]);
      const out = [dx.dataSync(), dw.dataSync()] as Float32Array[];
      tf.dispose([x, w, dx, dw]);
      return out;
    };
    const wasm = grads();
    await tf.setBackend('cpu');
    const cpu = grads();
    await tf.setBackend('wasm');
    for (const [i, expected] of cpu.entries()) {
      const scale = Math.max(...expected.map(Math.abs));
      const diff = Math.max(...expected.map((v, j) => Math.abs(v - wasm[i][j])));
      assert.ok(diff <= 1e-5 * scale, `${['dx', 'dW'][i]}: relative error ${(diff / scale).toExponential(2)}`);
    }
  });

  test('tensors stay readable while the shared heap grows', () => {
    const before = wasmHeapBytes() ?? 0;
    const size = 24 * 2 ** 20; // 96 MiB per tensor
    const tensors = [1, 2, 3].map((k) => tf.fill([size], k));
    // Computed on the heap after it grew, read back through the (re-taken) view.
    const maxima = tensors.map((t) => tf.tidy(() => tf.max(tf.add(t, tf.scalar(1))).dataSync()[0]));
    assert.ok((wasmHeapBytes() ?? 0) > before, 'the heap grew');
    assert.deepEqual(maxima, [2, 3, 4]);
    assert.deepEqual(Array.from(tensors[0].dataSync().subarray(size - 2)), [1, 1]);
    tf.dispose(tensors);
  });

  test('trains bit for bit like the single-threaded build, and the process exits when done', async () => {
    const weights: Buffer[] = [];
    for (const threads of [1, 2]) {
      const out = join(root, `threads-${threads}`);
      const args = ['--data', sample, '--out', out, '--preset', 'model3', '--backend', 'wasm', '--image-size', '40', '--batch-size', '16'];
      const { code, stderr } = await runCli([...args, '--epochs', '1', '--limit', '48', '--seed', '5', '--threads', String(threads)]);
      assert.equal(code, 0, stderr);
      assert.match(stderr, new RegExp(`backend: wasm \\(tfjs "wasm", ${threads} threads?\\)`));
      weights.push(await readFile(join(out, 'checkpoints', 'epoch-0001', 'weights.bin')));
    }
    assert.ok(weights[0].equals(weights[1]), 'same weights after an epoch on 1 and 2 threads');
  });

  test('BAD CALL - a thread count out of range', async () => {
    for (const threads of [0, 9, 1.5]) {
      await assert.rejects(chooseBackend('wasm', { threads }), { name: 'RangeError', message: /"threads" must be an integer from 1 to 8; got / });
    }
  });
});
