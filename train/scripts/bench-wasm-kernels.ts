// Times the wasm backend's built-in training kernels against train/src/backend/wasm-kernels.ts on the
// convolution and activation shapes of model3 (train/src/presets.ts) at 224x224, batch 16, and prints a
// table (ms per call). Then the depthwise-convolution gradients (which the wasm backend lacks) against the
// cpu backend's, on the depthwise layers of MobileNet v1 0.75 at 224 (data/backbones/mobilenet_v1_0.75_224).
//   node --import tsx scripts/bench-wasm-kernels.ts [--quick] [--reps N] [--depthwise-only] [--json]
// --json times only our depthwise kernels and prints them as one JSON line (npm run bench reads it).
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { performance } from 'node:perf_hooks';
import { tf } from '../src/backend/tf.js';
import { registerWasmTrainingKernels } from '../src/backend/wasm-kernels.js';

interface ConvCase {
  name: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number;
}

const quick = process.argv.includes('--quick');
const repsArg = process.argv.indexOf('--reps');
const reps = repsArg > 0 ? Number(process.argv[repsArg + 1]) : quick ? 1 : 3;
const batch = quick ? 4 : 16;
const json = process.argv.includes('--json');
const depthwiseOnly = json || process.argv.includes('--depthwise-only');

const CASES: ConvCase[] = [
  // The stem's dx is not needed, but FusedConv2D's gradient (tfjs-layers' Conv2D) computes it anyway.
  { name: '7x7/2 3->64 @224', x: [batch, 224, 224, 3], filter: [7, 7, 3, 64], strides: 2 },
  { name: '3x3 64->128 @56', x: [batch, 56, 56, 64], filter: [3, 3, 64, 128], strides: 1 },
  { name: '3x3 128->128 @56', x: [batch, 56, 56, 128], filter: [3, 3, 128, 128], strides: 1 },
  { name: '3x3 128->256 @28', x: [batch, 28, 28, 128], filter: [3, 3, 128, 256], strides: 1 },
  { name: '3x3 256->256 @28', x: [batch, 28, 28, 256], filter: [3, 3, 256, 256], strides: 1 },
  // Not in model3: a strided convolution inside the network.
  { name: '3x3/2 64->128 @112', x: [batch, 112, 112, 64], filter: [3, 3, 64, 128], strides: 2 },
];
const KERNELS = ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'Tile', 'Sum', 'Mean'];

await import('@tensorflow/tfjs-backend-wasm');
const builtIn = new Map(KERNELS.map((k) => [k, tf.getKernel(k, 'wasm')]));
registerWasmTrainingKernels();
const ours = new Map(KERNELS.map((k) => [k, tf.getKernel(k, 'wasm')]));
await tf.setBackend('wasm');
const backend = tf.backend() as BackendWasm;
// The backend ran the setup of the kernels registered when it started; the replaced built-ins need theirs.
for (const config of builtIn.values()) config?.setupFunc?.(backend);

/** Milliseconds of each of `reps` calls after a warm-up call (with --reps 0, of one call). */
function timeCalls(config: KernelConfig, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap): number[] {
  const times: number[] = [];
  for (let i = 0; i < reps + 1; i++) {
    const start = performance.now();
    const out = config.kernelFunc({ inputs, backend, attrs }) as TensorInfo;
    const ms = performance.now() - start;
    backend.disposeData(out.dataId);
    if (i > 0 || reps === 0) times.push(ms);
  }
  return times;
}

function timeKernel(config: KernelConfig | undefined, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap): string {
  return config === undefined ? 'missing' : Math.min(...timeCalls(config, inputs, attrs)).toFixed(1);
}

function random(shape: number[]): tf.Tensor {
  return tf.randomUniform(shape, -1, 1, 'float32', 7);
}

const rows: string[][] = [['case', 'kernel', 'built-in ms', 'ours ms']];
const activationsSeen = new Set<string>();
for (const c of depthwiseOnly ? [] : CASES) {
  const x = random(c.x);
  const filter = random(c.filter);
  const common = { strides: c.strides, pad: 'same', dataFormat: 'NHWC' };
  const forward = { ...common, dilations: 1 };
  rows.push([c.name, 'Conv2D (forward, for scale)', timeKernel(tf.getKernel('Conv2D', 'wasm'), { x, filter }, forward), '']);
  const yShape = tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, 1, 'same').outShape;
  const dy = random(yShape);
  rows.push([
    c.name,
    'Conv2DBackpropFilter',
    timeKernel(builtIn.get('Conv2DBackpropFilter'), { x, dy }, { ...common, filterShape: c.filter }),
    timeKernel(ours.get('Conv2DBackpropFilter'), { x, dy }, { ...common, filterShape: c.filter }),
  ]);
  rows.push([
    c.name,
    'Conv2DBackpropInput',
    timeKernel(builtIn.get('Conv2DBackpropInput'), { dy, filter }, { ...common, inputShape: c.x }),
    timeKernel(ours.get('Conv2DBackpropInput'), { dy, filter }, { ...common, inputShape: c.x }),
  ]);
  if (activationsSeen.has(String(yShape))) {
    tf.dispose([x, filter, dy]);
    continue;
  }
  activationsSeen.add(String(yShape));
  // FusedBatchNorm's gradient tiles 1/sqrt(var) from [1,1,1,C] to the activation's shape.
  const scale = random([1, 1, 1, c.filter[3]]);
  const tileAttrs = { reps: [...yShape.slice(0, 3), 1] };
  rows.push([
    `tile [1,1,1,${c.filter[3]}] -> [${yShape.join(',')}]`,
    'Tile',
    timeKernel(builtIn.get('Tile'), { x: scale }, tileAttrs),
    timeKernel(ours.get('Tile'), { x: scale }, tileAttrs),
  ]);
  // BatchNormalization's moments and gradient reduce the activation over batch, height and width.
  for (const kernel of ['Sum', 'Mean']) {
    const reduceAttrs = { axis: [0, 1, 2], keepDims: false };
    rows.push([
      `${kernel.toLowerCase()} [${yShape.join(',')}] over [0,1,2]`,
      kernel,
      timeKernel(builtIn.get(kernel), { x: dy }, reduceAttrs),
      timeKernel(ours.get(kernel), { x: dy }, reduceAttrs),
    ]);
  }
  tf.dispose([x, filter, dy, scale]);
}

/** MobileNet v1 0.75's depthwise layers at 224: 3x3, 'same' padding, channel multiplier 1; `layers` of each shape. */
const DEPTHWISE_CASES: { name: string; layers: number; x: [number, number, number, number]; strides: number }[] = [
  { name: 'conv_dw_1 112x112x24', layers: 1, x: [batch, 112, 112, 24], strides: 1 },
  { name: 'conv_dw_2 112x112x48 /2', layers: 1, x: [batch, 112, 112, 48], strides: 2 },
  { name: 'conv_dw_3 56x56x96', layers: 1, x: [batch, 56, 56, 96], strides: 1 },
  { name: 'conv_dw_4 56x56x96 /2', layers: 1, x: [batch, 56, 56, 96], strides: 2 },
  { name: 'conv_dw_5 28x28x192', layers: 1, x: [batch, 28, 28, 192], strides: 1 },
  { name: 'conv_dw_6 28x28x192 /2', layers: 1, x: [batch, 28, 28, 192], strides: 2 },
  { name: 'conv_dw_7..11 14x14x384', layers: 5, x: [batch, 14, 14, 384], strides: 1 },
  { name: 'conv_dw_12 14x14x384 /2', layers: 1, x: [batch, 14, 14, 384], strides: 2 },
  { name: 'conv_dw_13 7x7x768', layers: 1, x: [batch, 7, 7, 768], strides: 1 },
];

interface Timing {
  median: number;
  min: number;
  max: number;
  runs: number;
}

/** One depthwise layer shape: multiply-adds per call, and ms per call of the forward kernel and our gradients. */
interface DepthwiseResult {
  name: string;
  layers: number;
  macs: number;
  forward: Timing;
  filter: Timing;
  input: Timing;
}

function summary(times: number[]): Timing {
  const sorted = [...times].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], runs: sorted.length };
}

/** max |a - b| / max |b|: how far our kernel's output is from the cpu backend's. */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let [diff, scale] = [0, 0];
  for (let i = 0; i < b.length; i++) [diff, scale] = [Math.max(diff, Math.abs(a[i] - b[i])), Math.max(scale, Math.abs(b[i]))];
  return diff / Math.max(scale, 1e-6);
}

/**
 * Ours against the cpu backend's kernels (one call each: they are plain loops, seconds at the larger
 * shapes), on copies of the same tensors; the cpu side is skipped with --json.
 */
function benchDepthwise(): DepthwiseResult[] {
  const kernel = (name: string, on: 'wasm' | 'cpu'): KernelConfig => {
    const config = tf.getKernel(name, on);
    if (config === undefined) throw new Error(`${name} is not registered for ${on}`);
    return config;
  };
  const cpu = tf.engine().findBackend('cpu') as MathBackendCPU;
  const results: DepthwiseResult[] = [];
  const table = [['layer', 'kernel', 'cpu backend ms', 'ours ms', 'error']];
  for (const c of DEPTHWISE_CASES) {
    const filterShape: [number, number, number, number] = [3, 3, c.x[3], 1];
    const info = tf.backend_util.computeConv2DInfo(c.x, filterShape, c.strides, 1, 'same', undefined, true);
    const [x, filter, dy] = [random(c.x), random(filterShape), random(info.outShape)];
    const common = { strides: c.strides, pad: 'same', dilations: 1 };
    const runs: [string, Record<string, TensorInfo>, NamedAttrMap][] = [
      ['DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...common, filterShape }],
      ['DepthwiseConv2dNativeBackpropInput', { dy, filter }, { ...common, inputShape: c.x }],
    ];
    const forward = summary(timeCalls(kernel('DepthwiseConv2dNative', 'wasm'), { x, filter }, common));
    const [filterGrad, inputGrad] = runs.map(([name, inputs, attrs]) => summary(timeCalls(kernel(name, 'wasm'), inputs, attrs)));
    results.push({ name: c.name, layers: c.layers, macs: info.outShape.reduce((a, b) => a * b, 1) * 9, forward, filter: filterGrad, input: inputGrad });
    table.push([c.name, 'DepthwiseConv2dNative (forward, for scale)', '', forward.min.toFixed(1), '']);
    for (const [i, [name, inputs, attrs]] of runs.entries()) {
      let cpuMs = '';
      let error = '';
      if (!json) {
        const onCpu = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, cpu.makeTensorInfo(t.shape, 'float32', tf.engine().readSync(t.dataId) as Float32Array)]));
        const start = performance.now();
        const expected = kernel(name, 'cpu').kernelFunc({ inputs: onCpu, backend: cpu, attrs }) as TensorInfo;
        cpuMs = (performance.now() - start).toFixed(1);
        const actual = kernel(name, 'wasm').kernelFunc({ inputs, backend, attrs }) as TensorInfo;
        error = relativeError(backend.readSync(actual.dataId) as Float32Array, cpu.readSync(expected.dataId) as Float32Array).toExponential(1);
        backend.disposeData(actual.dataId);
        for (const t of [expected, ...Object.values(onCpu)]) cpu.disposeData(t.dataId);
      }
      table.push([c.name, name, cpuMs, (i === 0 ? filterGrad : inputGrad).min.toFixed(1), error]);
    }
    tf.dispose([x, filter, dy]);
  }
  if (!json) {
    printTable(`\nDepthwise convolution gradients (MobileNet v1 0.75 @224), wasm backend, batch ${batch}, best of ${reps} after a warm-up call; cpu backend: one call`, table);
    const perStep = (pick: (r: DepthwiseResult) => Timing): string => results.reduce((sum, r) => sum + r.layers * pick(r).min, 0).toFixed(1);
    console.log(`all 13 depthwise layers, one step: forward ${perStep((r) => r.forward)} ms, filter gradient ${perStep((r) => r.filter)} ms, input gradient ${perStep((r) => r.input)} ms`);
  }
  return results;
}

function printTable(title: string, table: string[][]): void {
  const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
  console.log(title);
  for (const [i, row] of table.entries()) {
    console.log(row.map((cell, j) => (j >= 2 ? cell.padStart(widths[j]) : cell.padEnd(widths[j]))).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

if (!depthwiseOnly) printTable(`wasm backend, batch ${batch}, best of ${reps} after a warm-up call`, rows);
const depthwise = benchDepthwise();
if (json) console.log(JSON.stringify({ batch, layers: depthwise }));
