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

/**
 * Times several functions side by side: rounds in which each function, in turn, gets a pause, one
 * untimed call and then `perRound` timed ones. A slow spell of the machine lands on all of them, so their
 * ratio stays fair. The pause is for onnxruntime: after a run, a session's idle threads spin for tens of
 * milliseconds, and another session run meanwhile took twice its time (measured: 7.4 ms alone, 12-16 ms
 * right after a run of a second session, 8.0 ms 50 ms after it).
 */
export async function measureSideBySide<K extends string>(
  fns: Record<K, () => unknown>,
  options: { rounds?: number; perRound?: number; pauseMs?: number } = {},
): Promise<Record<K, Timing>> {
  const names = Object.keys(fns) as K[];
  const times = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<K, number[]>;
  for (let round = 0; round < (options.rounds ?? 5); round++) {
    for (const name of names) {
      await new Promise((resolve) => setTimeout(resolve, options.pauseMs ?? 200));
      await fns[name]();
      for (let i = 0; i < (options.perRound ?? 3); i++) {
        const start = performance.now();
        await fns[name]();
        times[name].push(performance.now() - start);
      }
    }
  }
  return Object.fromEntries(names.map((name) => [name, summarize(times[name])])) as Record<K, Timing>;
}
