// npm run bench rows for pets-serve: POST /v2/models/{name}/classify over loopback with autocannon (a fixed
// number of requests, so it stops by itself) at 1, 8 and 64 concurrent clients, next to in-process
// classify() on the same photos at the same concurrency; and an overload row (far more clients than
// --max-queue admits): every request answered 200 or 503, none lost, and the server's peak RSS.
// Standalone: node test/dist/src/bench/serve.js --model M.onnx [--quick]
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createClassifier } from '@pets/runtime';
import type { Row } from './inference.js';
import { summarize } from './stats.js';

const repo = fileURLToPath(new URL('../../../..', import.meta.url));
const serveBin = join(repo, 'node_modules', '.bin', 'pets-serve');
const LEVELS = [1, 8, 64];

export interface ServeBench {
  rows: (Row & { rssMb?: number })[];
  skipped: string[];
  targets: { target: string; measured: string; met: boolean }[];
}

interface Level {
  /** Images per second. */
  throughput: number;
  p50: number;
  p99: number;
}

interface Server {
  child: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

async function startServer(model: string, args: string[]): Promise<Server> {
  const child = spawn(process.execPath, [serveBin, '--model', `bench=${model}`, '--port', '0', '--log-level', 'warn', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let stderr = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr?.on('data', (c: Buffer) => {
      stderr += c.toString();
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match) resolve(match[1]);
    });
    void exited.then((code) => reject(new Error(`pets-serve exited with ${code}: ${stderr.trim().split('\n').pop()}`)));
  });
  return {
    child,
    url,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Peak and current resident memory of a process, MiB (Linux /proc; null elsewhere). */
function rss(pid: number): { peak: number; now: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) / 1024;
    return { peak: kib('VmHWM'), now: kib('VmRSS') };
  } catch {
    return null;
  }
}

async function load(url: string, photos: Buffer[], connections: number, amount: number) {
  const start = performance.now();
  const result = await autocannon({
    url,
    connections,
    amount,
    timeout: 120,
    requests: photos.map((body) => ({ method: 'POST' as const, path: '/v2/models/bench/classify', body, headers: { 'content-type': 'image/jpeg' } })),
  });
  const seconds = (performance.now() - start) / 1000;
  const count = (status: number) => result.statusCodeStats?.[`${status}`]?.count ?? 0;
  return { result, seconds, ok: count(200), busy: count(503) };
}

async function inProcess(model: string, photos: Buffer[], concurrency: number, amount: number): Promise<Level> {
  const classifier = await createClassifier({ model });
  try {
    await Promise.all(photos.map((p) => classifier.classify(p)));
    const latencies: number[] = [];
    let next = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < amount) {
          const photo = photos[next++ % photos.length];
          const t = performance.now();
          await classifier.classify(photo);
          latencies.push(performance.now() - t);
        }
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    latencies.sort((a, b) => a - b);
    return { throughput: amount / seconds, p50: latencies[Math.floor(latencies.length * 0.5)], p99: latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))] };
  } finally {
    await classifier.dispose();
  }
}

const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const single = (ms: number) => summarize([ms]);

export async function serveRows(model: string, photoPaths: string[], quick: boolean, progress: (message: string) => void): Promise<ServeBench> {
  const out: ServeBench = { rows: [], skipped: [], targets: [] };
  const photos = await Promise.all(photoPaths.map((p) => readFile(p)));
  const amount = quick ? 64 : 256;
  const served = new Map<number, Level>();
  let server: Server;
  try {
    server = await startServer(model, ['--max-queue', '256']);
  } catch (error) {
    out.skipped.push(`pets-serve: ${(error as Error).message}`);
    return out;
  }
  let rssAtLoad: { peak: number; now: number } | null = null;
  try {
    await load(server.url, photos, 4, photos.length);
    for (const clients of LEVELS) {
      progress(`pets-serve: ${amount} POST /classify at ${clients} clients, then in-process classify() at ${clients} callers`);
      const { result, seconds, ok } = await load(server.url, photos, clients, amount);
      if (ok !== amount) out.skipped.push(`pets-serve at ${clients} clients: ${ok} of ${amount} answered 200 (errors ${result.errors}, non-2xx ${result.non2xx})`);
      const level: Level = { throughput: amount / seconds, p50: result.latency.p50, p99: result.latency.p99 };
      served.set(clients, level);
      const local = await inProcess(model, photos, clients, amount);
      const ratio = level.throughput / local.throughput;
      out.rows.push({
        group: 'serve',
        name: `in-process classify(), ${clients} concurrent callers, ${basename(model)}`,
        perImage: single(1000 / local.throughput),
        note: `${fmt(local.throughput)} img/s; latency p50 ${fmt(local.p50)} ms, p99 ${fmt(local.p99)} ms`,
      });
      out.rows.push({
        group: 'serve',
        name: `pets-serve POST /classify (JPEG), ${clients} clients on loopback`,
        perImage: single(1000 / level.throughput),
        note: `${fmt(level.throughput)} img/s; latency p50 ${fmt(level.p50)} ms, p99 ${fmt(level.p99)} ms; ${ratio.toFixed(2)}x in-process throughput`,
      });
      if (clients === 8) out.targets.push({ target: 'pets-serve /classify at 8 clients: throughput >= 0.8x in-process classify()', measured: `${ratio.toFixed(2)}x`, met: ratio >= 0.8 });
    }
    rssAtLoad = rss(server.child.pid as number);
  } finally {
    await server.stop();
  }

  // Overload: four times as many clients as the queue admits, each sending without pause.
  const clients = 256;
  const total = quick ? 512 : 2048;
  progress(`pets-serve overload: ${total} requests from ${clients} clients, --max-queue 64`);
  const busy = await startServer(model, ['--max-queue', '64']);
  try {
    await load(busy.url, photos, 4, photos.length);
    const { result, seconds, ok, busy: refused } = await load(busy.url, photos, clients, total);
    const lost = total - ok - refused;
    const memory = rss(busy.child.pid as number);
    out.rows.push({
      group: 'serve',
      name: `pets-serve overload: ${total} requests, ${clients} clients, --max-queue 64`,
      perImage: single((seconds * 1000) / total),
      rssMb: memory?.peak,
      note: `200: ${ok}, 503: ${refused}, lost: ${lost} (errors ${result.errors}, timeouts ${result.timeouts}); ms per answer; server peak RSS ${memory ? fmt(memory.peak) : '?'} MiB (${rssAtLoad ? fmt(rssAtLoad.peak) : '?'} MiB at 64 clients)`,
    });
    out.targets.push({ target: 'pets-serve overload: every request answered 200 or 503, none lost', measured: `${ok} + ${refused} of ${total}, ${result.errors} errors`, met: lost === 0 && result.errors === 0 });
    if (memory && rssAtLoad) {
      out.targets.push({ target: 'pets-serve overload: peak RSS <= 1.5x the peak at 64 clients', measured: `${fmt(memory.peak)} vs ${fmt(rssAtLoad.peak)} MiB`, met: memory.peak <= 1.5 * rssAtLoad.peak });
    }
  } finally {
    await busy.stop();
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--model');
  if (at < 0) throw new Error('Usage: node test/dist/src/bench/serve.js --model M.onnx [--quick]');
  const images = join(repo, 'data', 'pets-mini', 'images');
  const names = ['Abyssinian_158', 'Birman_144', 'Bombay_10', 'British_Shorthair_176', 'Egyptian_Mau_140', 'Persian_131', 'Persian_134', 'Ragdoll_10', 'Russian_Blue_111', 'Russian_Blue_112', 'Siamese_158', 'Siamese_175', 'american_bulldog_168', 'beagle_121', 'beagle_164', 'beagle_171'];
  const result = await serveRows(process.argv[at + 1], names.map((n) => join(images, `${n}.jpg`)), process.argv.includes('--quick'), (m) => process.stderr.write(`${m}\n`));
  for (const r of result.rows) console.log(`${r.name}: ${fmt(r.perImage.median)} ms/image; ${r.note}`);
  for (const s of result.skipped) console.log(`skipped: ${s}`);
  for (const t of result.targets) console.log(`${t.met ? 'met   ' : 'MISSED'}  ${t.target}: ${t.measured}`);
}
