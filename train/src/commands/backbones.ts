// `pets-train backbones`: the known pretrained backbones as a table (or JSON), and where downloads go.
/* eslint-disable no-console -- a CLI command prints its results */
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { KNOWN_BACKBONES, defaultCacheDir, normalizationName, type KnownBackbone } from '../backbones/index.js';

export { downloadProgressPrinter } from './download-progress.js';

export const command = 'backbones';
export const describe = 'List the known pretrained backbones for --backbone (bundled or downloaded by name)';

export function builder(yargs: Argv) {
  return yargs.option('json', { type: 'boolean', default: false, describe: 'Print the list as JSON' });
}

type Args = ArgumentsCamelCase<Awaited<ReturnType<typeof builder>['argv']>>;

function where(b: KnownBackbone): string {
  return [b.bundled ? 'bundled' : undefined, b.url ? 'URL' : undefined].filter(Boolean).join(' + ');
}

function normalization(b: KnownBackbone): string {
  const n = b.normalization;
  return normalizationName(n) ?? `scale ${n.scale} mean ${n.mean.join(',')} std ${n.std.join(',')}`;
}

/** The known backbones as an aligned text table. */
export function formatBackboneTable(backbones: readonly KnownBackbone[]): string {
  const header = ['name', 'aliases', 'where', 'input', 'normalization', 'feature layer', 'unfreeze from', 'license'];
  const rows = backbones.map((b) => [b.name, b.aliases.join(', ') || '-', where(b), String(b.inputSize), normalization(b), b.featureLayer, b.unfreezeFrom, b.license]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export async function handler(argv: Args): Promise<void> {
  const cacheDir = defaultCacheDir();
  if (argv.json) {
    console.log(JSON.stringify({ cacheDir, backbones: KNOWN_BACKBONES.map((b) => ({ ...b, normalizationName: normalizationName(b.normalization) ?? null })) }, null, 2));
    return;
  }
  console.log(formatBackboneTable(KNOWN_BACKBONES));
  console.log(`\n--backbone takes a name or alias above, a model.json (or its folder), or an http(s) URL of one. Downloads are cached in ${cacheDir} ($PETS_CACHE_DIR).`);
}
