// int8 against fp32 and fp16, per exported model: file size, batch-1 latency in onnxruntime-node (CPU,
// the three sessions timed side by side) and in Chromium on onnxruntime-web's wasm provider (one page per
// model, the runtime's own in-page timing), and the top-1 agreement pets-export verified.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ONNX_NAMES } from '@pets/runtime/contract';
import { exportRun, quantizeModel, verificationInputs, type Dtype, type ExportRunResult } from '@pets/export';
import { createClassifier } from '@pets/runtime';
import { CHROMIUM_PATH, openBrowserRuntime } from '../parity/browser.js';
import type { Row } from './inference.js';
import { measureSideBySide, summarize } from './stats.js';

const DTYPES: Dtype[] = ['fp32', 'fp16', 'int8'];

export interface Int8Bench {
  rows: Row[];
  skipped: string[];
  /** Per model: dtype -> median ms/image, for the targets. */
  medians: { model: string; node: Record<string, number>; web: Record<string, number> }[];
}

async function benchRun(label: string, run: string, photo: string, quick: boolean, out: Int8Bench, progress: (m: string) => void): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'pets-int8-bench-'));
  try {
    const exported: Partial<Record<Dtype, ExportRunResult>> = {};
    const bytes: Partial<Record<Dtype, Uint8Array>> = {};
    const failed: Partial<Record<Dtype, string>> = {};
    for (const dtype of DTYPES) {
      progress(`int8 bench: exporting ${label} as ${dtype}`);
      try {
        exported[dtype] = await exportRun({ run, out: join(dir, `${dtype}.onnx`), dtype });
        bytes[dtype] = new Uint8Array(await readFile((exported[dtype] as ExportRunResult).file));
      } catch (error) {
        failed[dtype] = (error as Error).message;
      }
    }
    if (!bytes.fp32) {
      out.skipped.push(`${label}: ${failed.fp32}`);
      return;
    }
    const reader = await createClassifier({ model: bytes.fp32, executionProviders: ['cpu'] });
    const { contract } = reader.info;
    await reader.dispose();
    if (!bytes.int8 && failed.int8?.includes('does not match')) {
      // Verification refused the int8 file; its size and speed are still worth knowing: quantize it here.
      const config = JSON.parse(await readFile(join(run, 'config.json'), 'utf8')) as { data: string; seed?: number; testFraction?: number };
      const calibration = await verificationInputs({ contract, count: 64, data: config.data, testFraction: config.testFraction ?? 0.2, seed: config.seed ?? 42, split: 'trainval' });
      bytes.int8 = (await quantizeModel(bytes.fp32, { x: calibration.x, shape: calibration.shape })).bytes;
      out.skipped.push(`${label} int8 did not pass verification (measured anyway): ${failed.int8}`);
    } else if (failed.int8 || failed.fp16) {
      out.skipped.push(`${label}: ${failed.int8 ?? failed.fp16}`);
    }
    const done = DTYPES.filter((d) => bytes[d]);
    const sessions = Object.fromEntries(await Promise.all(done.map(async (d) => [d, await ort.InferenceSession.create(bytes[d] as Uint8Array, { executionProviders: ['cpu'] })] as const)));
    const { height: h, width: w } = contract.imageSize;
    const input = new ort.Tensor('float32', new Float32Array(h * w * 3).map((_, i) => ((i * 7919) % 255) / 127.5 - 1), [1, h, w, 3]);
    const node = await measureSideBySide(Object.fromEntries(done.map((d) => [d, () => sessions[d].run({ [ONNX_NAMES.input]: input })])), { rounds: quick ? 2 : 5 });
    await Promise.all(Object.values(sessions).map((s) => s.release()));
    const medians = { model: label, node: {} as Record<string, number>, web: {} as Record<string, number> };
    for (const d of done) {
      const v = exported[d]?.verification;
      medians.node[d] = node[d].median;
      const verified = v ? `top-1 ${v.top1Agree}/${v.images}, max |Δp| ${v.maxAbsDiff.toExponential(1)} vs tfjs` : 'failed verification';
      out.rows.push({
        group: 'int8', name: `${label} ${d}: onnxruntime-node CPU, batch 1`, perImage: node[d],
        note: `${((bytes[d] as Uint8Array).length / 2 ** 20).toFixed(2)} MiB; ${verified}; ${(node.fp32.median / node[d].median).toFixed(2)}x fp32's speed`,
      });
    }
    if (!existsSync(CHROMIUM_PATH)) {
      out.skipped.push(`int8 Chromium rows: no Chromium at ${CHROMIUM_PATH}`);
    } else {
      for (const d of done) {
        progress(`int8 bench: ${label} ${d} in Chromium (onnxruntime-web wasm)`);
        const browser = await openBrowserRuntime(bytes[d] as Uint8Array);
        try {
          const r = await browser.benchPreprocess(photo, quick ? 5 : 15);
          const t = summarize(r.infer);
          medians.web[d] = t.median;
          out.rows.push({ group: 'int8', name: `${label} ${d}: Chromium onnxruntime-web ${r.executionProvider}, batch 1`, perImage: t });
        } finally {
          await browser.close();
        }
      }
      for (const d of done) {
        const row = out.rows.find((r) => r.name === `${label} ${d}: Chromium onnxruntime-web wasm, batch 1`);
        if (row) row.note = `${(medians.web.fp32 / medians.web[d]).toFixed(2)}x fp32's speed`;
      }
    }
    out.medians.push(medians);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * `runs`: label -> pets-train run directory (a missing one is skipped with the reason). `photo`: a JPEG
 * for the in-browser timing.
 */
export async function int8Rows(runs: Record<string, string>, photo: string, quick: boolean, progress: (m: string) => void): Promise<Int8Bench> {
  const out: Int8Bench = { rows: [], skipped: [], medians: [] };
  for (const [label, run] of Object.entries(runs)) {
    if (!existsSync(join(run, 'config.json'))) {
      out.skipped.push(`int8 rows for ${label}: no run at ${run} (npm start trains it)`);
      continue;
    }
    await benchRun(label, run, photo, quick, out, progress);
  }
  return out;
}
