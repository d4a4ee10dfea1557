// Deterministic stratified splits (train/validation from trainval, or a test split for a dataset that has
// none) and a printable table of images per split and class.
import { createRng, deriveSeed } from '../util/random.js';
import type { Dataset } from './dataset.js';

export interface SplitResult<T> {
  /** Items not held out, in input order. */
  kept: T[];
  /** Held-out items, in input order. */
  heldOut: T[];
}

/**
 * Holds out round(n * fraction) items of each class, clamped so a class of n >= 2 items keeps at least one
 * and holds out at least one; a class with a single item is kept whole. The same items, seed and fraction
 * always give the same split.
 */
export function stratifiedSplit<T extends { label: number }>(items: T[], fraction: number, seed: number): SplitResult<T> {
  if (!Array.isArray(items)) throw new TypeError(`"items" must be an array of { label } objects; got ${typeof items}.`);
  if (typeof fraction !== 'number' || !(fraction > 0 && fraction < 1)) {
    throw new RangeError(`"fraction" must be a number in (0, 1), e.g. 0.2; got ${String(fraction)}.`);
  }
  if (!Number.isInteger(seed)) throw new RangeError(`"seed" must be an integer; got ${String(seed)}.`);
  const byClass = new Map<number, number[]>();
  items.forEach((item, i) => {
    const label = item?.label;
    if (!Number.isInteger(label) || label < 0) {
      throw new RangeError(`"items[${i}].label" must be a non-negative integer; got ${String(label)}.`);
    }
    const indices = byClass.get(label) ?? [];
    indices.push(i);
    byClass.set(label, indices);
  });
  const held = new Set<number>();
  for (const [label, indices] of byClass) {
    if (indices.length < 2) continue;
    const count = Math.min(indices.length - 1, Math.max(1, Math.round(indices.length * fraction)));
    // One generator per class, so a class's split does not change when other classes are added or removed.
    const rng = createRng(deriveSeed(seed, label));
    for (const i of rng.shuffle([...indices]).slice(0, count)) held.add(i);
  }
  return {
    kept: items.filter((_, i) => !held.has(i)),
    heldOut: items.filter((_, i) => held.has(i)),
  };
}

/** A dataset without a test split -> the same dataset with a stratified test split carved from trainval. */
export function carveTest(dataset: Dataset, fraction: number, seed: number): Dataset {
  if (dataset.test.length > 0) {
    throw new RangeError(`"dataset.test" must be empty to carve a test split; it already has ${dataset.test.length} images.`);
  }
  const { kept, heldOut } = stratifiedSplit(dataset.trainval, fraction, seed);
  return { ...dataset, trainval: kept, test: heldOut };
}

/** Images per class in each split. */
export interface SplitCounts {
  labels: string[];
  /** Split names in table order. */
  splits: string[];
  /** perClass[s][c]: images of class c in split s. */
  perClass: number[][];
}

export function countPerSplit(splits: Record<string, readonly { label: number }[]>, labels: readonly string[]): SplitCounts {
  const names = Object.keys(splits);
  const perClass = names.map((name) => {
    const counts = new Array<number>(labels.length).fill(0);
    for (const item of splits[name]) {
      if (!Number.isInteger(item.label) || item.label < 0 || item.label >= labels.length) {
        throw new RangeError(`Split "${name}" has label ${item.label}; expected an integer in [0, ${labels.length - 1}].`);
      }
      counts[item.label]++;
    }
    return counts;
  });
  return { labels: [...labels], splits: names, perClass };
}

export interface FormatSplitOptions {
  /** Also list every class with its count in each split. Default false. */
  perClass?: boolean;
}

function table(rows: (string | number)[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => String(row[c]).length)));
  return rows
    .map((row) => row.map((cell, c) => (c === 0 ? String(cell).padEnd(widths[c]) : String(cell).padStart(widths[c]))).join('  '))
    .join('\n');
}

/**
 * Printable summary: images, classes present and min/max images per class for each split and in total;
 * a class with 0 images in a split shows as min 0 (and lowers the classes count).
 */
export function formatSplitCounts(counts: SplitCounts, options: FormatSplitOptions = {}): string {
  const total = counts.labels.map((_, c) => counts.perClass.reduce((sum, split) => sum + split[c], 0));
  const row = (name: string, perClass: number[]): (string | number)[] => [
    name,
    perClass.reduce((a, b) => a + b, 0),
    perClass.filter((n) => n > 0).length,
    perClass.length ? Math.min(...perClass) : 0,
    perClass.length ? Math.max(...perClass) : 0,
  ];
  const summary = table([
    ['split', 'images', 'classes', 'min/class', 'max/class'],
    ...counts.splits.map((name, s) => row(name, counts.perClass[s])),
    row('total', total),
  ]);
  if (!options.perClass) return summary;
  const detail = table([
    ['class', ...counts.splits, 'total'],
    ...counts.labels.map((label, c) => [label, ...counts.perClass.map((split) => split[c]), total[c]]),
  ]);
  return `${summary}\n\n${detail}`;
}
