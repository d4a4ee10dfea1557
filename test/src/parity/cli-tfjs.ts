// pets-parity --tfjs: runs runTfjsParity() and prints its table, as the --run mode does for checkpoints.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SAMPLE } from '../cli-run.js';
import { formatReports } from './format.js';
import type { ParityProvider } from './run-parity.js';
import { runTfjsParity } from './run-parity-tfjs.js';

export interface TfjsParityArgs {
  tfjs: string;
  model: string;
  images?: string;
  providers: ParityProvider[];
  limit?: number;
  webgpuLimit: number;
  maxDp?: number;
  json?: string;
}

export async function tfjsParity(argv: TfjsParityArgs): Promise<void> {
  const report = await runTfjsParity({
    tfjs: argv.tfjs, model: argv.model, images: argv.images ?? join(SAMPLE, 'images'), providers: argv.providers.filter((p) => p !== 'cuda'),
    limit: argv.limit, webgpuLimit: argv.webgpuLimit, maxAbsProbability: argv.maxDp, onProgress: (m) => process.stderr.write(`\r${m}   `),
  });
  process.stderr.write('\n');
  console.log(`${report.model} vs ${report.tfjs}, ${report.images} images of ${report.imagesDir}, ${report.fp16 ? 'fp16' : 'fp32'} model, tfjs on ${report.referenceBackend}`);
  console.log(formatReports(report.providers));
  if (argv.json) await writeFile(argv.json, `${JSON.stringify(report, null, 2)}\n`);
  console.log(report.passed ? 'PASS' : 'FAIL: a tolerance is broken');
  if (!report.passed) process.exitCode = 1;
}
