// Alternates model3 training steps on wasm between variants of the layer-level training forms
// (train/src/backend/wasm-training-layers.ts) in one process: a slow spell of a shared machine lands on
// every variant alike, so their ratios hold where separate processes' absolute times do not.
//   node dist/scripts/bench-train-ab.js [--size 224] [--batch 16] [--rounds 4] [--threads n] [--torch python3]
// --torch adds PyTorch's step (test/bench-py/model3_step.py, same threads) to the rotation, timed from here.
// Prints ms/image per variant (median over rounds, and range) and its ratio to the first.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chooseBackend } from '../src/backend/index.js';
import { tf } from '../src/backend/tf.js';
import { wasmTrainingLayers } from '../src/backend/wasm-training-layers.js';
import { trainStep, trainableVariables } from '../src/fit.js';
import { buildModel, logitsModel, presetConfig } from '../src/presets.js';

// Each variant adds one change to the one before it.
const VARIANTS: { name: string; layers: typeof wasmTrainingLayers }[] = [
  { name: 'before', layers: { batchNorm: false, inputConv: false } },
  { name: '+ stem conv without input gradient', layers: { batchNorm: false, inputConv: true } },
  { name: '+ BatchNorm gradient in one kernel (default)', layers: { batchNorm: true, inputConv: true } },
];

function arg(name: string, fallback: string): number {
  const at = process.argv.indexOf(`--${name}`);
  return Number(at > 0 ? process.argv[at + 1] : fallback);
}

const [size, batch, rounds, threads] = [arg('size', '224'), arg('batch', '16'), arg('rounds', '4'), arg('threads', '0')];
const report = await chooseBackend('wasm', threads ? { threads } : {});
const preset = presetConfig('model3');
const model = buildModel({ ...preset, imageSize: size, numClasses: 37, seed: 1 });
const logits = logitsModel(model);
const optimizer = tf.train.adam(preset.learningRate);
const variables = trainableVariables(logits);
const x = Float32Array.from({ length: batch * size * size * 3 }, (_, i) => Math.sin(i * 0.37));
const data = { x, shape: [batch, size, size, 3] as [number, number, number, number], labels: Int32Array.from({ length: batch }, (_, i) => i % 37) };
const torchAt = process.argv.indexOf('--torch');
let torchStep: (() => Promise<void>) | undefined;
let endTorch = (): void => {};
if (torchAt > 0) {
  const count = (weights: { shape: (number | null)[] }[]) => weights.reduce((n, w) => n + w.shape.reduce((a: number, d) => a * (d ?? 1), 1), 0);
  const script = fileURLToPath(new URL('../../../test/bench-py/model3_step.py', import.meta.url));
  const peer = spawn(process.argv[torchAt + 1], [script, '--size', String(size), '--batch', String(batch), '--threads', String(report.threads ?? 1), '--trainable', String(count(model.trainableWeights)), '--non-trainable', String(count(model.nonTrainableWeights))], { stdio: ['pipe', 'pipe', 'inherit'] });
  endTorch = () => void peer.stdin.end('quit\n');
  const lines = createInterface({ input: peer.stdout })[Symbol.asyncIterator]();
  const next = async (prefix: string) => {
    const line = await lines.next();
    if (line.done || !String(line.value).startsWith(prefix)) throw new Error(`the PyTorch peer answered "${String(line.value)}"`);
  };
  await next('ready');
  torchStep = async () => {
    peer.stdin.write('step\n');
    await next('step');
  };
  VARIANTS.push({ name: 'PyTorch CPU, same threads', layers: { batchNorm: true, inputConv: true } });
}
const times = VARIANTS.map(() => [] as number[]);
// CPU time of the process (all threads): the work done, which other processes' load does not inflate as much as wall time.
const cpuTimes = VARIANTS.map(() => [] as number[]);
for (let round = 0; round < rounds; round++) {
  for (const [v, variant] of VARIANTS.entries()) {
    Object.assign(wasmTrainingLayers, variant.layers);
    const step = variant.name.startsWith('PyTorch') && torchStep ? torchStep : async () => void trainStep(logits, optimizer, variables, data, 37);
    if (round === 0) await step(); // warm-up: operators, heap growth
    const [start, cpu] = [performance.now(), process.cpuUsage()];
    await step();
    times[v].push((performance.now() - start) / batch);
    const used = process.cpuUsage(cpu);
    cpuTimes[v].push((used.user + used.system) / 1000 / batch);
    process.stderr.write(`round ${round + 1}/${rounds}: ${variant.name} ${times[v].at(-1)?.toFixed(0)} ms/image, CPU ${cpuTimes[v].at(-1)?.toFixed(0)}\n`);
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
console.log(`model3 @${size}, batch ${batch}, wasm ${report.threads} threads, ${rounds} alternating rounds, medians`);
endTorch();
// (PyTorch's CPU time is its own process's, not counted here: its CPU column is meaningless.)
for (const [label, series] of [['wall ms/image', times], ['CPU ms/image', cpuTimes]] as const) {
  const base = median(series[0]);
  for (const [v, variant] of VARIANTS.entries()) {
    const m = median(series[v]);
    const previous = v > 0 ? median(series[v - 1]) : m;
    console.log(`${label.padEnd(14)} ${variant.name.padEnd(36)} ${m.toFixed(0).padStart(5)}  (${Math.min(...series[v]).toFixed(0)}-${Math.max(...series[v]).toFixed(0)})  ${(m / base).toFixed(3)}x before, ${(m / previous).toFixed(3)}x the line above`);
  }
}
