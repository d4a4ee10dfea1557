// The parity report as a table for people (the JSON report is for machines).
import type { ProviderReport } from './compare.js';

const e = (x: number | null) => (x === null || Number.isNaN(x) ? '-' : x.toExponential(2));
const pct = (x: number) => (Number.isNaN(x) ? '-' : `${(x * 100).toFixed(2)}%`);

export function formatReports(reports: ProviderReport[]): string {
  const rows = [['provider', 'status', 'images', 'max |Δp|', 'mean |Δp|', 'logits rel err', 'top-1', 'top-5', 'limit |Δp|']];
  for (const r of reports) {
    rows.push([r.provider, r.status, String(r.images), e(r.maxAbsProbability), e(r.meanAbsProbability), e(r.maxLogitsRelativeError), pct(r.top1Agreement), pct(r.top5Agreement), e(r.tolerance.maxAbsProbability)]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const lines = rows.map((row) => row.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd());
  for (const r of reports) {
    if (r.reason) lines.push(`${r.provider}: ${r.status === 'skipped' ? 'skipped' : 'FAILED'}: ${r.reason}`);
    if (r.nearTies.length) lines.push(`${r.provider}: near-ties (top-2 within ${r.tolerance.nearTie}), not counted for top-1: ${r.nearTies.join(', ')}`);
    if (r.worst.length) lines.push(`${r.provider}: worst images: ${r.worst.map((w) => `${w.image} (${e(w.maxAbsProbability)})`).join(', ')}`);
  }
  return lines.join('\n');
}
