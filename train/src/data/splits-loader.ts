// From a dataset and a run's settings to the three splits a run uses, each with its labels and a source of
// cached pixels. Used by training and by evaluation so both see exactly the same split.
import { createContract } from '@pets/runtime/contract';
import type { PixelSource } from '../batches.js';
import type { Dataset, DatasetItem } from './dataset.js';
import { ImageCache } from './image-cache.js';
import { carveTest, countPerSplit, formatSplitCounts, stratifiedSplit } from './split.js';

export const SPLIT_NAMES = ['train', 'val', 'test'] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];

export interface SplitData {
  items: DatasetItem[];
  /** Class index per item. */
  labels: Int32Array;
  /** Cached model-sized RGB pixels by position in `items`. */
  pixels: PixelSource;
}

export interface LoadedSplits extends Record<SplitName, SplitData> {
  /** A printable table of images per split. */
  summary: string;
  /** Frees the cache (and its spill file). */
  close(): Promise<void>;
}

/** The settings of a run that decide its splits. */
export interface SplitSettings {
  valFraction: number;
  testFraction: number;
  seed: number;
  imageSize: number;
  /** At most this many images per split, drawn per class; null for all. */
  limit: number | null;
}

export interface OpenSplitsOptions {
  cacheBytes: number;
  spillDir: string;
  /** Only these splits are decoded and cached. Default all three. */
  only?: SplitName[];
  onWarning?: (message: string) => void;
  onProgress?: (done: number, total: number) => void;
}

const MAX_LISTED = 20;

function listNames(items: { id: string }[], reason?: (i: number) => string): string {
  const shown = items.slice(0, MAX_LISTED).map((item, i) => (reason ? `${item.id} (${reason(i)})` : item.id));
  return `${shown.join(', ')}${items.length > MAX_LISTED ? `, and ${items.length - MAX_LISTED} more` : ''}`;
}

function limitItems(items: DatasetItem[], limit: number | null, seed: number): DatasetItem[] {
  if (limit === null || items.length <= limit) return items;
  return stratifiedSplit(items, limit / items.length, seed).heldOut;
}

/** Splits the dataset (val from trainval; test from the dataset or carved), then decodes every image once. */
export async function openSplits(dataset: Dataset, settings: SplitSettings, options: OpenSplitsOptions): Promise<LoadedSplits> {
  const warn = options.onWarning ?? (() => {});
  if (dataset.missing.length > 0) {
    warn(`${dataset.missing.length} listed images have no file and are skipped: ${listNames(dataset.missing)}`);
  }
  const withTest = dataset.test.length > 0 ? dataset : carveTest(dataset, settings.testFraction, settings.seed);
  const { kept, heldOut } = stratifiedSplit(withTest.trainval, settings.valFraction, settings.seed);
  const chosen: Record<SplitName, DatasetItem[]> = {
    train: limitItems(kept, settings.limit, settings.seed),
    val: limitItems(heldOut, settings.limit, settings.seed),
    test: limitItems(withTest.test, settings.limit, settings.seed),
  };
  const wanted = new Set(options.only ?? SPLIT_NAMES);
  const contract = createContract({ labels: dataset.labels, imageSize: settings.imageSize });
  const cache = new ImageCache(contract, { maxBytes: options.cacheBytes, spillDir: options.spillDir });
  const toLoad = SPLIT_NAMES.filter((name) => wanted.has(name)).flatMap((name) => chosen[name]);
  const { failed } = await cache.load(toLoad, { onProgress: options.onProgress });
  if (failed.length > 0) {
    warn(`${failed.length} images cannot be decoded and are skipped: ${listNames(failed.map((f) => f.item), (i) => failed[i].error)}`);
  }
  const bad = new Set(failed.map((f) => f.item.path));
  const split = (name: SplitName): SplitData => {
    const items = wanted.has(name) ? chosen[name].filter((item) => !bad.has(item.path)) : [];
    return {
      items,
      labels: Int32Array.from(items, (item) => item.label),
      pixels: (indices) => Promise.all(indices.map((i) => cache.get(items[i]))),
    };
  };
  const splits = { train: split('train'), val: split('val'), test: split('test') };
  const counts = countPerSplit({ train: splits.train.items, val: splits.val.items, test: splits.test.items }, dataset.labels);
  return { ...splits, summary: formatSplitCounts(counts), close: () => cache.close() };
}
