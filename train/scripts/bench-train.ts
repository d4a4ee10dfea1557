// Times model3 training steps (train/src/presets.ts) on the wasm backend, one configuration per process
// (the thread count is fixed when the backend starts, and memory peaks are per process), and prints a
// table: ms per image (median of the timed steps after one warm-up, and their range), CPU ms per image
// (all threads), peak RSS and wasm heap, and the load average (other processes skew the times).
//   node --import tsx scripts/bench-train.ts [--sizes 128,224] [--batch 16] [--steps 3] [--configs a,b]
//                                             [--profile] [--memory]
// --profile adds each configuration's slowest kernels (tf.profile of one step); --memory instead runs
// one batch of 32 at 224 with and without micro-batches, two steps each.
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createContract } from '@pets/runtime/contract';
import { chooseBackend, wasmHeapBytes } from '../src/backend/index.js';
import { tf } from '../src/backend/tf.js';
import { wasmTrainingLayers } from '../src/backend/wasm-training-layers.js';
import { DEFAULT_AUGMENT } from '../src/augment.js';
import { makeBatch } from '../src/batches.js';
import { trainStep, trainableVariables } from '../src/fit.js';
import { planMicroBatch, WASM_PASS_BUDGET_BYTES } from '../src/micro-batch.js';
import { buildModel, logitsModel, presetConfig } from '../src/presets.js';
import { createRng } from '../src/util/random.js';

/** What one child process runs. `stock` names kernels put back to tfjs' built-ins (the state before). */
interface Config {
  name: string;
  threads: number;
  stock: string[];
  microBatch?: number | 'auto';
  /** false: without the stem and BatchNorm forms of wasm-training-layers.ts (train/scripts/bench-train-ab.ts measures each). */
  latest?: boolean;
}
interface Run extends Config {
  size: number;
  batch: number;
  steps: number;
  profile: boolean;
}
interface Result {
  passes: number;
  threads: number;
  wallMs: number[];
  cpuMs: number[];
  heapBytes: number;
  rssBytes: number;
  load: [number, number];
  leaked: number;
  kernels?: [string, number][];
  failed?: string;
}

const SHARED = ['Identity', 'Cast'];
const CONFIGS: Config[] = [
  { name: 'before (1 thread, built-in Identity, Cast, MaxPoolGrad)', threads: 1, stock: [...SHARED, 'MaxPoolGrad'], latest: false },
  { name: '+ Identity/Cast share memory', threads: 1, stock: ['MaxPoolGrad'], latest: false },
  { name: '+ MaxPoolGrad 2x2 kernel', threads: 1, stock: [], latest: false },
  { name: '+ 2 threads (threaded XNNPACK)', threads: 2, stock: [], latest: false },
  { name: '+ stem without input gradient, BatchNorm gradient kernel: default', threads: 2, stock: [] },
  { name: 'default, micro-batches of 8', threads: 2, stock: [], microBatch: 8 },
];
const MEMORY: Config[] = [
  { name: 'before, whole batch', threads: 1, stock: [...SHARED, 'MaxPoolGrad'], microBatch: 32, latest: false },
  { name: 'now, whole batch', threads: 2, stock: [], microBatch: 32 },
  { name: 'now, micro-batch auto', threads: 2, stock: [], microBatch: 'auto' },
];

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

async function child(run: Run): Promise<Result> {
  await import('@tensorflow/tfjs-backend-wasm');
  const builtIns = run.stock.map((name) => tf.getKernel(name, 'wasm'));
  const report = await chooseBackend('wasm', { threads: run.threads });
  if (run.latest === false) Object.assign(wasmTrainingLayers, { batchNorm: false, inputConv: false });
  for (const config of builtIns) {
    if (!config) continue;
    tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
    config.setupFunc?.(tf.backend()); // the backend already ran the setup of the kernels it started with
  }
  const preset = presetConfig('model3');
  const model = buildModel({ ...preset, imageSize: run.size, numClasses: 37, seed: 1 });
  const logits = logitsModel(model);
  const optimizer = tf.train.adam(preset.learningRate);
  const variables = trainableVariables(logits);
  const microBatch = run.microBatch === 'auto' ? planMicroBatch(model, run.batch, null, WASM_PASS_BUDGET_BYTES).size : run.microBatch;
  const x = Float32Array.from({ length: run.batch * run.size * run.size * 3 }, (_, i) => Math.sin(i * 0.37));
  const batch = { x, shape: [run.batch, run.size, run.size, 3] as [number, number, number, number], labels: Int32Array.from({ length: run.batch }, (_, i) => i % 37) };
  const result: Result = { passes: Math.ceil(run.batch / (microBatch ?? run.batch)), threads: report.threads ?? 1, wallMs: [], cpuMs: [], heapBytes: 0, rssBytes: 0, load: [loadavg()[0], 0], leaked: 0 };
  try {
    trainStep(logits, optimizer, variables, batch, 37, { microBatch }); // warm-up: Adam's state, XNNPACK operators, heap growth
    const tensors = tf.memory().numTensors;
    for (let i = 0; i < run.steps; i++) {
      const [start, cpu] = [performance.now(), process.cpuUsage()];
      trainStep(logits, optimizer, variables, batch, 37, { microBatch });
      const used = process.cpuUsage(cpu);
      result.wallMs.push(performance.now() - start);
      result.cpuMs.push((used.user + used.system) / 1000);
    }
    result.leaked = tf.memory().numTensors - tensors;
    if (run.profile) {
      const info = await tf.profile(() => void trainStep(logits, optimizer, variables, batch, 37, { microBatch }));
      const byKernel = new Map<string, number>();
      // Ops (names ending in __op) wrap kernels that are listed too.
      for (const k of info.kernels.filter((k) => !k.name.endsWith('__op'))) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + Number(k.kernelTimeMs));
      result.kernels = [...byKernel].sort((a, b) => b[1] - a[1]).slice(0, 8);
    }
  } catch (error) {
    result.failed = String((error as Error).message ?? error).split('\n')[0];
  }
  result.heapBytes = wasmHeapBytes() ?? 0;
  result.rssBytes = process.resourceUsage().maxRSS * 1024;
  result.load[1] = loadavg()[0];
  return result;
}

/** Assembling a batch (augmentation, normalization) is the part (d) would overlap with the step. */
async function batchAssemblyMs(size: number, batch: number, augment: boolean): Promise<number> {
  const contract = createContract({ labels: Array.from({ length: 37 }, (_, i) => `class${i}`), imageSize: size });
  const images = Array.from({ length: batch }, (_, k) => Uint8Array.from({ length: size * size * 3 }, (_, i) => (i * 7 + k) % 256));
  const times: number[] = [];
  for (let i = 0; i < 4; i++) {
    const start = performance.now();
    await makeBatch({
      indices: images.map((_, k) => k),
      labels: images.map(() => 0),
      pixels: async (indices) => indices.map((k) => images[k]),
      contract,
      augment: augment ? { config: DEFAULT_AUGMENT, rng: createRng(i) } : undefined,
    });
    if (i > 0) times.push(performance.now() - start);
  }
  return median(times) / batch;
}

function arg(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
}

function table(rows: string[][]): void {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const [i, row] of rows.entries()) {
    console.log(row.map((cell, j) => (j === 0 ? cell.padEnd(widths[j]) : cell.padStart(widths[j]))).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

async function main(): Promise<void> {
  const childAt = process.argv.indexOf('--child');
  if (childAt > 0) {
    console.log(`RESULT ${JSON.stringify(await child(JSON.parse(process.argv[childAt + 1]) as Run))}`);
    return;
  }
  const memory = process.argv.includes('--memory');
  const profile = process.argv.includes('--profile');
  const sizes = memory ? [224] : arg('sizes', '128,224').split(',').map(Number);
  const batch = memory ? 32 : Number(arg('batch', '16'));
  const steps = memory ? 1 : Number(arg('steps', '3'));
  const wanted = arg('configs', '');
  const configs = (memory ? MEMORY : CONFIGS).filter((_, i) => !wanted || wanted.split(',').includes(String(i)));
  const rows = [['configuration', 'size', 'batch', 'passes', 'threads', 'ms/image', 'range', 'CPU ms/image', 'peak RSS MiB', 'wasm heap MiB', 'load 1m', 'leaked']];
  const profiles: string[] = [];
  for (const size of sizes) {
    for (const config of configs) {
      const run: Run = { ...config, size, batch, steps, profile };
      const out = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', JSON.stringify(run)], { encoding: 'utf8', maxBuffer: 2 ** 26 });
      const line = out.stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (!line) throw new Error(`${config.name} at ${size}: no result (exit ${out.status}):\n${out.stderr.slice(-2000)}`);
      const r = JSON.parse(line.slice(7)) as Result;
      const perImage = (ms: number) => (ms / batch).toFixed(0);
      const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
      const timing = r.failed ? [`FAILED: ${r.failed.slice(0, 60)}`, '', ''] : [perImage(median(r.wallMs)), `${perImage(Math.min(...r.wallMs))}-${perImage(Math.max(...r.wallMs))}`, perImage(median(r.cpuMs))];
      rows.push([config.name, String(size), String(batch), String(r.passes), String(r.threads), ...timing, mib(r.rssBytes), mib(r.heapBytes), r.load.map((l) => l.toFixed(1)).join('/'), String(r.leaked)]);
      if (r.kernels) profiles.push(`${config.name} at ${size}: ${r.kernels.map(([k, ms]) => `${k} ${ms.toFixed(0)}`).join(', ')} (ms per step)`);
    }
  }
  console.log(`model3 training steps on wasm, ${memory ? 'one step after one warm-up step' : `median of ${steps} steps after one warm-up`}`);
  table(rows);
  if (profiles.length) console.log(`\nslowest kernels (tf.profile of one step):\n${profiles.join('\n')}`);
  if (!memory) {
    const assembly = [['batch assembly (d)', 'size', 'ms/image']];
    for (const size of sizes) {
      for (const augment of [false, true]) assembly.push([augment ? 'augment + normalize' : 'normalize', String(size), (await batchAssemblyMs(size, batch, augment)).toFixed(1)]);
    }
    console.log('');
    table(assembly);
  }
}

await main();
