// npm run bench rows for the wasm backend's depthwise-convolution gradients (train/src/backend/
// wasm-depthwise-backprop-*.ts, which the backend lacks): ms per call on MobileNet v1 0.75's depthwise
// layers at 224, timed in a fresh process by train/scripts/bench-wasm-kernels.ts --json.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Row } from './inference.js';
import type { Timing } from './stats.js';

/** One layer shape as bench-wasm-kernels.ts reports it: how many layers have it, multiply-adds per call. */
interface Layer {
  name: string;
  layers: number;
  macs: number;
  forward: Timing;
  filter: Timing;
  input: Timing;
}

/** The layers fine-tuning runs most (the last two), and all thirteen summed as one training step needs them. */
const SHOWN = ['conv_dw_12', 'conv_dw_13'];

export function depthwiseRows(repo: string, quick: boolean): (Row & { gflops?: number })[] | { error: string } {
  const script = join(repo, 'train', 'dist', 'scripts', 'bench-wasm-kernels.js');
  const result = spawnSync(process.execPath, [script, '--json', ...(quick ? ['--quick'] : ['--reps', '5'])], { encoding: 'utf8', timeout: 600_000 });
  const line = result.stdout?.trim().split('\n').pop() ?? '';
  if (result.status !== 0 || !line.startsWith('{')) return { error: (result.stderr || String(result.error)).trim().split('\n')[0].slice(0, 300) };
  const { batch, layers } = JSON.parse(line) as { batch: number; layers: Layer[] };
  const rows: (Row & { gflops?: number })[] = [];
  const kernels = [['filter', 'DepthwiseConv2dNativeBackpropFilter'], ['input', 'DepthwiseConv2dNativeBackpropInput']] as const;
  for (const layer of layers.filter((l) => SHOWN.some((name) => l.name.startsWith(`${name} `)))) {
    for (const [key, kernel] of kernels) {
      const name = `wasm ${kernel} (1 thread), MobileNet v1 0.75 ${layer.name}, batch ${batch}`;
      rows.push({ group: 'training kernels', name, perImage: layer[key], note: 'ms per call, not per image', gflops: (2 * layer.macs) / (layer[key].median / 1000) / 1e9 });
    }
  }
  for (const [key, kernel] of kernels) {
    const sum = (pick: (t: Timing) => number): number => layers.reduce((total, l) => total + l.layers * pick(l[key]), 0);
    const perImage = { median: sum((t) => t.median), min: sum((t) => t.min), max: sum((t) => t.max), runs: layers[0]?.[key].runs ?? 0 };
    const macs = layers.reduce((total, l) => total + l.layers * l.macs, 0);
    const name = `wasm ${kernel} (1 thread), MobileNet v1 0.75 all 13 depthwise layers @224, batch ${batch}`;
    rows.push({ group: 'training kernels', name, perImage, note: 'ms per training step (sum of per-layer times), not per image', gflops: (2 * macs) / (perImage.median / 1000) / 1e9 });
  }
  return rows;
}
