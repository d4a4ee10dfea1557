// npm run bench: every speed the project reports, measured in one run on this machine, side by side, as
// ratios to the machine's matmul peak. Prints a table and writes docs/benchmarks.{json,md}.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { browserPeerRows, NETWORK, type BrowserPeerResult } from './browser-peer.js';
import { depthwiseRows } from './depthwise.js';
import { CHROMIUM_PATH, inferenceRows, photoPath, type Row } from './inference.js';
import { int8Rows, type Int8Bench } from './int8.js';
import { matmulPeak } from './matmul-peak.js';
import { nodeLoopRows, type NodeLoopBench } from './node-loop.js';
import { summarize } from './stats.js';
import { serveRows, type ServeBench } from './serve.js';
import { remoteRows } from './remote.js';
import { torchPeerRows } from './torch-peer.js';
import { transferRows } from './transfer.js';
import { byoModelRows } from './byo-models.js';
import { DEFAULT_IMAGE_SIZE as FULL } from '@pets/runtime/contract';

const repo = fileURLToPath(new URL('../../../..', import.meta.url));
const sample = join(repo, 'data', 'pets-mini');
const child = fileURLToPath(new URL('./tfjs-child.js', import.meta.url));
const bin = (name: string) => join(repo, 'node_modules', '.bin', name);
const quick = process.argv.includes('--quick');

interface ChildResult { backend: string; detail: string; mode: string; size: number; batch: number; perImage: Row['perImage']; rssMb: number; gflopPerImage: number }

function tfjs(args: Record<string, string | number>): ChildResult | { error: string } {
  const argv = Object.entries(args).flatMap(([k, v]) => [`--${k}`, String(v)]);
  const result = spawnSync(process.execPath, [child, ...argv], { encoding: 'utf8', timeout: 1_800_000 });
  const line = result.stdout.trim().split('\n').pop() ?? '';
  if (result.status !== 0 || !line.startsWith('{')) {
    const message = result.stderr.split('\n').find((l) => /^\w*Error: /.test(l.trim())) ?? result.stderr.trim().split('\n')[0];
    return { error: message.trim().slice(0, 300) };
  }
  return JSON.parse(line) as ChildResult;
}

function fmtNum(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

function progress(message: string) {
  process.stderr.write(`${message}\n`);
}

const rows: (Row & { rssMb?: number; gflops?: number })[] = [];
const skipped: string[] = [];
progress('machine peak: 2048x2048 float32 MatMul on onnxruntime-node');
const peak = await matmulPeak(quick ? 512 : 2048);

const trainConfigs: Record<string, string | number>[] = [
  { backend: 'node-gpu', mode: 'train', size: FULL, batch: 16 },
  { backend: 'node', mode: 'train', size: FULL, batch: 16 },
  { backend: 'wasm', mode: 'train', size: 128, batch: 16, runs: quick ? 1 : 3 },
  { backend: 'wasm', mode: 'train', size: FULL, batch: 16, runs: quick ? 1 : 3 },
  // The cpu backend's convolution gradients are plain loops: one small step shows the order of magnitude.
  { backend: 'cpu', mode: 'train', size: 32, batch: 4, runs: 1, warmup: 0 },
  { backend: 'wasm', mode: 'infer', size: FULL, batch: 1, runs: 5 },
  { backend: 'wasm', mode: 'infer', size: FULL, batch: 16, runs: 3 },
  { backend: 'cpu', mode: 'infer', size: FULL, batch: 1, runs: 1 },
];
let gflopPerImageFull = 0;
for (const config of trainConfigs) {
  progress(`tfjs ${config.backend} ${config.mode} model3 @${config.size} batch ${config.batch}`);
  const r = tfjs(config);
  if ('error' in r) {
    skipped.push(`tfjs ${config.backend} ${config.mode}: ${r.error}`);
    continue;
  }
  if (r.size === FULL) gflopPerImageFull = r.gflopPerImage / (r.mode === 'train' ? 3 : 1);
  rows.push({ group: r.mode === 'train' ? 'training' : 'inference', name: `tfjs ${r.backend} (${r.detail}) model3 @${r.size}, batch ${r.batch}`, perImage: r.perImage, rssMb: r.rssMb, gflops: r.gflopPerImage / (r.perImage.median / 1000) });
}

progress(`PyTorch peer: model3 training step @${FULL}, batch 16, alternating with pets' wasm step`);
const torchPeer = torchPeerRows(FULL, 16, quick);
rows.push(...torchPeer.rows);
skipped.push(...torchPeer.skipped);

progress('training kernels: wasm depthwise-convolution gradients on MobileNet v1 0.75 shapes');
const depthwise = depthwiseRows(repo, quick);
if ('error' in depthwise) skipped.push(`wasm depthwise gradients: ${depthwise.error}`);
else rows.push(...depthwise);

const transfer = transferRows(quick, progress);
rows.push(...transfer.rows);
skipped.push(...transfer.skipped);
const byo = await byoModelRows(quick, progress);
rows.push(...byo.rows);
skipped.push(...byo.skipped);

progress(`export: pets-export on a model3 checkpoint at ${FULL} (verification included)`);
const root = await mkdtemp(join(tmpdir(), 'pets-bench-'));
let served: ServeBench | undefined;
let nodeLoop: NodeLoopBench | undefined;
let int8: Int8Bench | undefined;
let browserPeer: BrowserPeerResult | undefined;
try {
  const run = join(root, 'run');
  const trained = spawnSync(bin('pets-train'), ['--data', sample, '--out', run, '--preset', 'model3', '--image-size', String(FULL), '--epochs', '1', '--limit', '16', '--batch-size', '16'], { encoding: 'utf8' });
  if (trained.status !== 0) throw new Error(`pets-train failed: ${trained.stderr}`);
  const times: number[] = [];
  for (let i = 0; i < (quick ? 1 : 3); i++) {
    const start = performance.now();
    const exported = spawnSync(bin('pets-export'), ['--run', run, '--out', join(root, `m${i}.onnx`)], { encoding: 'utf8' });
    if (exported.status !== 0) throw new Error(`pets-export failed: ${exported.stderr}`);
    times.push(performance.now() - start);
  }
  rows.push({ group: 'export', name: `pets-export model3 @${FULL} (whole CLI: load, convert, write, verify 8 images)`, perImage: summarize(times), note: 'ms per export, not per image' });
  progress('inference: onnxruntime-node, onnxruntime-web, classify()');
  const photos = ['Abyssinian_158', 'Birman_144', 'Bombay_10', 'British_Shorthair_176', 'Egyptian_Mau_140', 'Persian_131', 'Persian_134', 'Ragdoll_10', 'Russian_Blue_111', 'Russian_Blue_112', 'Siamese_158', 'Siamese_175', 'american_bulldog_168', 'beagle_121', 'beagle_164', 'beagle_171'].map((n) => photoPath(sample, `${n}.jpg`));
  const modelBytes = new Uint8Array(await readFile(join(root, 'm0.onnx')));
  for (const row of await inferenceRows(modelBytes, FULL, photos, photos[0])) {
    rows.push({ ...row, gflops: row.group === 'inference' ? gflopPerImageFull / (row.perImage.median / 1000) : undefined });
  }
  served = await serveRows(join(root, 'm0.onnx'), photos, quick, progress);
  rows.push(...served.rows);
  skipped.push(...served.skipped);
  const remote = await remoteRows(join(root, 'm0.onnx'), photos, quick, progress);
  rows.push(...remote.rows);
  skipped.push(...remote.skipped);
  nodeLoop = await nodeLoopRows(modelBytes, photos, quick);
  int8 = await int8Rows({ 'mobilenet transfer (runs/sample, npm start)': join(repo, 'runs', 'sample'), [`model3 @${FULL}`]: run }, photos[0], quick, progress);
  rows.push(...nodeLoop.rows, ...int8.rows);
  skipped.push(...int8.skipped);
  browserPeer = await browserPeerRows(run, join(root, 'm0.onnx'), progress, { rounds: quick ? 1 : 3 });
  rows.push(...browserPeer.rows);
  skipped.push(...browserPeer.skipped);
} finally {
  await rm(root, { recursive: true, force: true });
}

// The targets the project set itself, checked against this run's medians.
const find = (prefix: string) => rows.find((r) => r.name.startsWith(prefix));
const ratio = (a?: Row, b?: Row) => (a && b ? a.perImage.median / b.perImage.median : NaN);
const targets: { target: string; measured: string; met: boolean }[] = [];
if (torchPeer.rows.length) targets.push({ target: `pets' wasm training speed, model3 @${FULL} batch 16: >= 0.5x PyTorch CPU's (same threads, alternating)`, measured: `${torchPeer.ratio.toFixed(2)}x`, met: torchPeer.ratio >= 0.5 });
for (const batch of [1, 16]) {
  const r = ratio(find(`onnxruntime-node CPU, exported model3, batch ${batch}`), find(`onnxruntime-node CPU, reference graph (NCHW input, no transpose), batch ${batch}`));
  targets.push({ target: `exported model3 on onnxruntime-node, batch ${batch}: <= 1.05x the reference graph`, measured: `${r.toFixed(3)}x`, met: r <= 1.05 });
}
const bare = ratio(find('classifier.infer()'), find('bare session.run'));
targets.push({ target: 'batched classify path: throughput >= 0.95x bare session.run (batch 16)', measured: `${(1 / bare).toFixed(3)}x`, met: 1 / bare >= 0.95 });
const e2eRatio = ratio(find('classify(): 16 real JPEGs'), find('bare session.run'));
targets.push({ target: 'classify() end to end on JPEGs: <= 1.15x bare session.run', measured: `${e2eRatio.toFixed(2)}x`, met: e2eRatio <= 1.15 });
targets.push(...(served?.targets ?? []));
if (nodeLoop) targets.push({ target: 'Node: classify() on 16 JPEGs, throughput >= 1.0x the hand-written sharp + session.run loop', measured: `${nodeLoop.ratio.toFixed(2)}x`, met: nodeLoop.ratio >= 1 });
for (const m of int8?.medians ?? []) {
  const speedup = (where: Record<string, number>) => (where.int8 ? `${(where.fp32 / where.int8).toFixed(2)}x fp32, ${(where.fp16 / where.int8).toFixed(2)}x fp16` : 'not measured');
  targets.push({ target: `int8 ${m.model}: faster than fp32 and fp16 at batch 1 (node CPU; Chromium wasm)`, measured: `${speedup(m.node)}; ${speedup(m.web)}`, met: m.node.int8 < Math.min(m.node.fp32, m.node.fp16) && (m.web.int8 === undefined || m.web.int8 < Math.min(m.web.fp32, m.web.fp16)) });
}
if (!find('Chromium: onnxruntime-web')) skipped.push(`Chromium rows: no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set PETS_CHROMIUM)`);

if (browserPeer?.ratios) {
  const { warm, cold } = browserPeer.ratios;
  targets.push({ target: 'Chromium, web demo on onnxruntime-web wasm: warm batch-1 latency <= 1.0x tfjs-backend-wasm (same model, each asked for the same threads)', measured: `${warm.toFixed(2)}x`, met: warm <= 1.0 });
  targets.push({ target: `Chromium, web demo: cold start to first shown result (${NETWORK.mbitPerSecond} Mbit/s, ${NETWORK.rttMs} ms RTT) <= 1.5x tfjs-backend-wasm`, measured: `${cold.toFixed(2)}x`, met: cold <= 1.5 });
}

const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, date: new Date().toISOString() };
const fmt = fmtNum;
const header = ['group', 'what', 'ms/image (median)', 'spread (min-max)', 'runs', 'GFLOP/s', '% of peak', 'peak RSS MiB', 'note'];
const table = rows.map((r) => [
  r.group,
  r.name,
  fmt(r.perImage.median),
  `${fmt(r.perImage.min)}-${fmt(r.perImage.max)}`,
  String(r.perImage.runs),
  r.gflops ? r.gflops.toFixed(1) : '',
  r.gflops ? `${((r.gflops / peak.gflops) * 100).toFixed(0)}%` : '',
  r.rssMb ? r.rssMb.toFixed(0) : '',
  r.note ?? '',
]);
const peakLine = `machine peak: ${peak.gflops.toFixed(1)} GFLOP/s (${peak.n}x${peak.n} float32 MatMul on onnxruntime-node, median ${peak.timing.median.toFixed(1)} ms of ${peak.timing.runs} runs)`;
const widths = header.map((h, c) => Math.max(h.length, ...table.map((row) => row[c].length)));
console.log(`${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}\n${peakLine}`);
for (const row of [header, ...table]) console.log(row.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd());
for (const s of skipped) console.log(`skipped: ${s}`);
for (const t of targets) console.log(`${t.met ? 'met   ' : 'MISSED'}  ${t.target}: ${t.measured}`);

if (!quick) {
  const md = [
    '# Benchmarks',
    '',
    'Measured by `npm run bench` (test/src/bench/run.ts) in one run on one machine; medians after warm-up, spread = min-max over the runs. Training and tfjs inference run each configuration in a fresh process (peak RSS is that process\'s). Model3 costs ' + `${gflopPerImageFull.toFixed(2)} GFLOP per image forward at ${FULL} (training counted as 3x forward).`,
    '',
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.date}.`,
    '',
    peakLine,
    '',
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...table.map((row) => `| ${row.join(' | ')} |`),
    '',
    ...skipped.map((s) => `- skipped: ${s}`),
    '',
    '## Targets',
    '',
    '| target | measured | |',
    '|---|---|---|',
    ...targets.map((t) => `| ${t.target} | ${t.measured} | ${t.met ? 'met' : 'missed'} |`),
    '',
    'What limits each number, and what was tried: [performance.md](performance.md).',
    '',
  ].join('\n');
  await writeFile(join(repo, 'docs', 'benchmarks.md'), md);
  await writeFile(join(repo, 'docs', 'benchmarks.json'), `${JSON.stringify({ machine, peak, rows, skipped }, null, 2)}\n`);
  console.log('wrote docs/benchmarks.md and docs/benchmarks.json');
}
