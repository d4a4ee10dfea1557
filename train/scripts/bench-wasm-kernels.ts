// Times the wasm backend's built-in training kernels against train/src/backend/wasm-kernels.ts on the
// convolution and activation shapes of model3 (train/src/presets.ts) at 224x224, batch 16, and prints a
// table (ms per call).
//   node --import tsx scripts/bench-wasm-kernels.ts [--quick] [--reps N]
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
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

function timeKernel(config: KernelConfig | undefined, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap): string {
  if (config === undefined) return 'missing';
  let best = Infinity;
  for (let i = 0; i < reps + 1; i++) {
    const start = performance.now();
    const out = config.kernelFunc({ inputs, backend, attrs }) as TensorInfo;
    const ms = performance.now() - start;
    backend.disposeData(out.dataId);
    if (i > 0 || reps === 0) best = Math.min(best, ms);
  }
  return best.toFixed(1);
}

function random(shape: number[]): tf.Tensor {
  return tf.randomUniform(shape, -1, 1, 'float32', 7);
}

const rows: string[][] = [['case', 'kernel', 'built-in ms', 'ours ms']];
const activationsSeen = new Set<string>();
for (const c of CASES) {
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

const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
console.log(`wasm backend, batch ${batch}, best of ${reps} after a warm-up call`);
for (const [i, row] of rows.entries()) {
  console.log(row.map((cell, j) => (j >= 2 ? cell.padStart(widths[j]) : cell.padEnd(widths[j]))).join('  '));
  if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
}
