// The table pets-export prints after exporting: runs ranked by validation accuracy, with what each
// export produced and how closely it matched tfjs.
import { isAbsolute, relative } from 'node:path';
import type { ExportRunsResult } from './export-runs.js';

export function formatBytes(bytes: number): string {
  return bytes >= 1024 ** 2 ? `${(bytes / 1024 ** 2).toFixed(2)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

/** A metric with fixed digits, or "-" when the run has none (a run without validation images stores null). */
export function formatMetric(value: number | null | undefined, digits = 4): string {
  return typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : '-';
}

/** A path relative to `cwd` when it lies below it, else absolute. */
export function displayPath(path: string, cwd = process.cwd()): string {
  const rel = relative(cwd, path);
  return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd()).join('\n');
}

/** Ranked table of the successful exports (paths relative to `cwd`); failures are reported apart. */
export function formatSummary(result: ExportRunsResult, cwd = process.cwd()): string {
  const rows = [['rank', 'run', 'checkpoint', 'val_acc', 'val_loss', 'file', 'size', 'max |Δp|', 'top-1', 'ORT ms/img']];
  result.ranking.forEach((r, i) => {
    const size = r.fp32Bytes === null ? formatBytes(r.bytes) : `${formatBytes(r.bytes)} (fp32 ${formatBytes(r.fp32Bytes)})`;
    rows.push([
      String(i + 1),
      displayPath(r.runDir, cwd),
      `${r.checkpoint} (epoch ${r.epoch})`,
      formatMetric(r.metrics.valAccuracy),
      formatMetric(r.metrics.valLoss),
      displayPath(r.file, cwd),
      size,
      r.verification.maxAbsDiff.toExponential(1),
      `${r.verification.top1Agree}/${r.verification.images}`,
      r.verification.ortMsPerImage.toFixed(2),
    ]);
  });
  return result.ranking.length > 0 ? table(rows) : 'no run was exported';
}
