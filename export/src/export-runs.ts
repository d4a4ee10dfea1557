// exportRuns(): several runs (or glob patterns) -> one verified .onnx per run in an output directory,
// named after the run directory, and a ranking by validation accuracy. One failing run is reported and
// the others still export.
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ExportError } from './errors.js';
import { checkVerifyImages, exportRun, fileNameForRun, type ExportRunOptions, type ExportRunResult } from './export-run.js';
import { checkOpset, DEFAULT_OPSET } from './onnx/opset.js';
import { expandPattern, isPattern } from './util/glob.js';

/** Options of exportRuns(): those of exportRun(), with several runs. */
export interface ExportRunsOptions extends Omit<ExportRunOptions, 'run' | 'out' | 'onEvent'> {
  /** Run directories or glob patterns (runs/*). */
  runs: string[];
  /** With one run: the .onnx file (or an existing directory). With several: the output directory. */
  out: string;
  /** Events of each run's export, tagged with the run. */
  onEvent?: (run: string, event: Parameters<NonNullable<ExportRunOptions['onEvent']>>[0]) => void;
}

export interface ExportRunsResult {
  /** Successful exports, best validation accuracy first (ties: lower validation loss). */
  ranking: ExportRunResult[];
  failures: { run: string; error: Error }[];
}

export async function resolveRuns(patterns: string[]): Promise<string[]> {
  const runs: string[] = [];
  for (const pattern of patterns) {
    const matches = await expandPattern(pattern);
    if (matches.length === 0) throw new ExportError(`No run directory matches "${pattern}".`);
    runs.push(...matches.map((m) => resolve(m)));
  }
  return [...new Set(runs)];
}

/**
 * Where each run's model goes: <out>/<run>.onnx when --out is a directory (it exists as one, ends with a
 * slash, or several runs or a glob were asked for), else --out itself.
 */
export async function outputFiles(runs: string[], out: string, several = runs.length > 1): Promise<string[]> {
  const target = resolve(out);
  const info = await stat(target).catch(() => null);
  const isDirectory = info ? info.isDirectory() : several || /[\\/]$/.test(out);
  if (runs.length === 1 && !isDirectory) return [target];
  if (info && !info.isDirectory()) throw new ExportError(`With ${runs.length} runs, --out must be a directory; ${target} is a file.`);
  const files = runs.map((run) => join(target, fileNameForRun(run)));
  const seen = new Map<string, string>();
  runs.forEach((run, i) => {
    const other = seen.get(files[i]);
    if (other) throw new ExportError(`Runs ${other} and ${run} would both be written to ${files[i]}; export them to different --out directories.`);
    seen.set(files[i], run);
  });
  return files;
}

export async function exportRuns(options: ExportRunsOptions): Promise<ExportRunsResult> {
  if (options.runs.length === 0) throw new ExportError('No run given: name one with --run.');
  checkOpset(options.opset ?? DEFAULT_OPSET);
  if (options.verifyImages !== undefined) checkVerifyImages(options.verifyImages);
  const runs = await resolveRuns(options.runs);
  const several = options.runs.length > 1 || options.runs.some(isPattern);
  const files = await outputFiles(runs, options.out, several);
  const results: ExportRunResult[] = [];
  const failures: ExportRunsResult['failures'] = [];
  for (const [i, run] of runs.entries()) {
    const { runs: _runs, onEvent, ...shared } = options;
    try {
      results.push(await exportRun({ ...shared, run, out: files[i], onEvent: (event) => onEvent?.(run, event) }));
    } catch (error) {
      if (runs.length === 1) throw error;
      failures.push({ run, error: error instanceof Error ? error : new Error(String(error)) });
    }
  }
  // A run without validation images stores null metrics: it ranks last.
  const finite = (x: number | null, fallback: number) => (typeof x === 'number' && Number.isFinite(x) ? x : fallback);
  const ranking = results.sort(
    (a, b) => finite(b.metrics.valAccuracy, -1) - finite(a.metrics.valAccuracy, -1) || finite(a.metrics.valLoss, Infinity) - finite(b.metrics.valLoss, Infinity),
  );
  return { ranking, failures };
}
