// Timing with warm-up, several runs, median and spread: what every benchmark row reports.

export interface Timing {
  /** Median milliseconds per run. */
  median: number;
  min: number;
  max: number;
  runs: number;
}

/** Times `fn` `runs` times after `warmup` untimed calls. */
export async function measure(fn: () => unknown, options: { warmup?: number; runs?: number } = {}): Promise<Timing> {
  for (let i = 0; i < (options.warmup ?? 1); i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < (options.runs ?? 5); i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return summarize(times);
}

export function summarize(times: number[]): Timing {
  const sorted = [...times].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], runs: sorted.length };
}

/** The same timing per unit (image), e.g. a batch of 16 divided by 16. */
export function perUnit(t: Timing, units: number): Timing {
  return { median: t.median / units, min: t.min / units, max: t.max / units, runs: t.runs };
}
