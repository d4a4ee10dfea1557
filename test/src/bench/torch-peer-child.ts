// pets' wasm training step for model3 and PyTorch's (test/bench-py/model3_step.py), alternating in one
// process tree on the same threads, so a slow spell of the machine lands on both. Prints one JSON line.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { buildModel, chooseBackend, logitsModel, trainStep, PRESETS } from '@pets/train';
import { tf } from '@pets/train/tfjs';
import { measureSideBySide } from './stats.js';

const { values } = parseArgs({
  options: {
    python: { type: 'string' },
    script: { type: 'string' },
    size: { type: 'string', default: '224' },
    batch: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '3' },
    // Default: the wasm backend's own default (the cores, at most 8); PyTorch gets the same count.
    threads: { type: 'string' },
  },
});
if (!values.python || !values.script) throw new TypeError('"--python" and "--script" are required.');
const [size, batch, classes] = [Number(values.size), Number(values.batch), 37];

const report = await chooseBackend('wasm', values.threads ? { threads: Number(values.threads) } : {});
const threads = report.threads ?? 1;
const preset = PRESETS.model3;
const model = buildModel({ architecture: preset.architecture, dropout: preset.dropout, imageSize: size, numClasses: classes, seed: 1 });
const count = (weights: { shape: (number | null)[] }[]) => weights.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
const logits = logitsModel(model);
const optimizer = tf.train.adam(preset.learningRate);
const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
const x = new Float32Array(batch * size * size * 3).map((_, i) => ((i * 2654435761) % 997) / 997);
const data = { x, shape: [batch, size, size, 3] as [number, number, number, number], labels: Int32Array.from({ length: batch }, (_, i) => i % classes) };

const peer = spawn(values.python, [
  values.script, '--size', String(size), '--batch', String(batch), '--threads', String(threads), '--classes', String(classes),
  '--trainable', String(count(model.trainableWeights)), '--non-trainable', String(count(model.nonTrainableWeights)),
], { stdio: ['pipe', 'pipe', 'inherit'] });
const lines = createInterface({ input: peer.stdout })[Symbol.asyncIterator]();
const exited = new Promise<never>((_, reject) => peer.on('exit', (code) => reject(new Error(`the PyTorch peer exited with code ${code}`))));
async function reply(prefix: string): Promise<string> {
  const next = await Promise.race([lines.next(), exited]);
  if (next.done || !next.value.startsWith(`${prefix} `)) throw new Error(`the PyTorch peer answered "${next.value ?? ''}", expected "${prefix} ..."`);
  return next.value.slice(prefix.length + 1);
}
const ready = JSON.parse(await reply('ready')) as { torch: string; threads: number };
// Both are timed from here; the pipe's round trip (well under a millisecond) is noise next to a step.
const timings = await measureSideBySide({
  pets: () => void trainStep(logits, optimizer, variables, data, classes),
  torch: async () => {
    peer.stdin.write('step\n');
    await reply('step');
  },
}, { rounds: Number(values.rounds), perRound: 1, pauseMs: 500 });
peer.stdin.end('quit\n');
console.log(JSON.stringify({ threads, torchThreads: ready.threads, torchVersion: ready.torch, pets: timings.pets, torch: timings.torch}));
