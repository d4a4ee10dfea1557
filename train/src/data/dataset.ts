// Reads a labelled image dataset from disk: the Oxford-IIIT Pet layout (annotations/*.txt + images/) or
// one folder per class. Labels always come from the data, never from a hard-coded breed list.
import type { Dirent } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';

/** One labelled image. */
export interface DatasetItem {
  /** Image name (Oxford layout, e.g. "Abyssinian_12") or path below the root with '/' (folder layout). */
  id: string;
  /** Absolute path of the image file. */
  path: string;
  /** Index into Dataset.labels. */
  label: number;
}

export interface Dataset {
  /** Absolute path of the dataset folder. */
  root: string;
  layout: 'oxford-pet' | 'folders';
  /** Class names in model output order. */
  labels: string[];
  trainval: DatasetItem[];
  /** Empty when the data has no test split; carve one with carveTest() from split.ts. */
  test: DatasetItem[];
  /** Listed images whose file does not exist (left out of trainval/test; the caller warns once). */
  missing: DatasetItem[];
}

/** The dataset on disk cannot be used; the message names the problem and the fix. */
export class DatasetError extends Error {
  override name = 'DatasetError';
}

/** File extensions (lower case) read as images in the folder-per-class layout. */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif'];

const LINE_FORMAT = '"Image CLASS-ID SPECIES BREED-ID" (e.g. "Abyssinian_12 1 1 1")';
const NEITHER = 'expected annotations/list.txt (Oxford-IIIT Pet layout) or one folder per class';

/**
 * Folder label order: case-insensitive, ties broken by exact code units. Plain comparisons rather than
 * localeCompare so the order (and so the model's outputs) does not depend on the machine's locale; it is
 * also the official Oxford-IIIT Pet CLASS-ID order, so a per-class copy of that dataset keeps its labels.
 */
export function compareLabels(a: string, b: string): number {
  const la = a.toLowerCase();
  const lb = b.toLowerCase();
  if (la !== lb) return la < lb ? -1 : 1;
  return a === b ? 0 : a < b ? -1 : 1;
}

export async function loadDataset(root: string): Promise<Dataset> {
  if (typeof root !== 'string' || root === '') {
    throw new TypeError(`"root" must be a non-empty path string; got ${JSON.stringify(root)}.`);
  }
  const dir = resolve(root);
  const info = await stat(dir).catch(() => null);
  if (!info) throw new DatasetError(`Dataset folder ${dir} does not exist: check the path (${NEITHER}).`);
  if (!info.isDirectory()) throw new DatasetError(`Dataset path ${dir} is not a folder: ${NEITHER}.`);
  if (await isFile(join(dir, 'annotations', 'list.txt'))) return loadOxford(dir);
  if (await isDirectory(join(dir, 'annotations'))) {
    throw new DatasetError(`${join(dir, 'annotations', 'list.txt')} is missing: re-extract annotations.tar.gz into ${dir}.`);
  }
  return loadFolders(dir);
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isFile() ?? false;
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isDirectory() ?? false;
}

// ---- Oxford-IIIT Pet layout ----

interface Entry {
  name: string;
  classId: number;
  /** "file:line" for messages. */
  where: string;
}

/** "american_bulldog_117" -> "american_bulldog": the image name minus its trailing _<digits>. */
function breedOf(name: string): string {
  return name.replace(/_\d+$/, '');
}

async function readAnnotations(file: string): Promise<Entry[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new DatasetError(`Split file ${file} is missing: re-extract annotations.tar.gz (it holds list.txt, trainval.txt and test.txt).`);
  }
  const entries: Entry[] = [];
  text.replace(/^\uFEFF/, '').split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    const where = `${file}:${i + 1}`;
    const ok = fields.length === 4 && /^[^/\\]+_\d+$/.test(fields[0]) && fields.slice(1).every((f) => /^\d+$/.test(f));
    if (!ok || Number(fields[1]) < 1) {
      const shown = JSON.stringify(line.length > 80 ? `${line.slice(0, 80)}...` : line);
      throw new DatasetError(`${where}: malformed line ${shown}; expected ${LINE_FORMAT}. Fix or remove the line.`);
    }
    entries.push({ name: fields[0], classId: Number(fields[1]), where });
  });
  return entries;
}

function labelsFrom(entries: Entry[], file: string): string[] {
  const byId = new Map<number, Entry>();
  const byBreed = new Map<string, Entry>();
  for (const entry of entries) {
    const breed = breedOf(entry.name);
    const sameId = byId.get(entry.classId);
    const sameBreed = byBreed.get(breed);
    const clash =
      sameId && breedOf(sameId.name) !== breed ? sameId : sameBreed && sameBreed.classId !== entry.classId ? sameBreed : undefined;
    if (clash) {
      throw new DatasetError(
        `${entry.where}: ${entry.name} has CLASS-ID ${entry.classId} but ${clash.where} gives CLASS-ID ${clash.classId} ` +
          `to ${clash.name}; each CLASS-ID must name exactly one breed. Fix the inconsistent line.`,
      );
    }
    if (!sameId) byId.set(entry.classId, entry);
    if (!sameBreed) byBreed.set(breed, entry);
  }
  if (byId.size === 0) throw new DatasetError(`Empty dataset: ${file} lists no images; expected lines ${LINE_FORMAT}.`);
  const gaps = [...Array(Math.max(...byId.keys())).keys()].map((i) => i + 1).filter((id) => !byId.has(id));
  if (gaps.length > 0) {
    throw new DatasetError(`${file}: CLASS-IDs must run 1..N without gaps; missing ${gaps.slice(0, 10).join(', ')}. Fix list.txt.`);
  }
  if (byId.size < 2) throw new DatasetError(`${file} defines only 1 class; training needs at least 2.`);
  return [...byId.keys()].sort((a, b) => a - b).map((id) => breedOf(byId.get(id)!.name));
}

async function loadOxford(root: string): Promise<Dataset> {
  const annotations = join(root, 'annotations');
  const listFile = join(annotations, 'list.txt');
  const labels = labelsFrom(await readAnnotations(listFile), listFile);
  const imagesDir = join(root, 'images');
  if (!(await isDirectory(imagesDir))) {
    throw new DatasetError(`Image folder ${imagesDir} is missing: extract images.tar.gz into ${root}.`);
  }
  // One directory listing instead of 7,349 stat calls.
  const present = new Set(await readdir(imagesDir));
  const missing = new Map<string, DatasetItem>();
  const listed: Record<string, number> = {};
  const split = async (name: string): Promise<DatasetItem[]> => {
    const items = new Map<string, DatasetItem>();
    const entries = await readAnnotations(join(annotations, name));
    listed[name] = entries.length;
    for (const entry of entries) {
      const label = entry.classId - 1;
      if (label >= labels.length) {
        throw new DatasetError(
          `${entry.where}: unknown CLASS-ID ${entry.classId} for ${entry.name}; ${listFile} defines 1..${labels.length}. ` +
            `Fix the line or use the list.txt that belongs to this split file.`,
        );
      }
      if (breedOf(entry.name) !== labels[label]) {
        throw new DatasetError(
          `${entry.where}: ${entry.name} has CLASS-ID ${entry.classId}, which list.txt gives to "${labels[label]}". Fix the line.`,
        );
      }
      const item = { id: entry.name, path: join(imagesDir, `${entry.name}.jpg`), label };
      if (!present.has(`${entry.name}.jpg`)) missing.set(entry.name, item);
      else if (!items.has(entry.name)) items.set(entry.name, item); // a repeated line adds nothing
    }
    return [...items.values()];
  };
  const trainval = await split('trainval.txt');
  const test = await split('test.txt');
  const testIds = new Set(test.map((item) => item.id));
  const both = trainval.filter((item) => testIds.has(item.id));
  if (both.length > 0) {
    throw new DatasetError(
      `${both.length} image(s) are in both trainval.txt and test.txt (first: ${both[0].id}); ` +
        'a test image seen in training inflates accuracy. Remove them from one file.',
    );
  }
  if (listed['trainval.txt'] === 0) {
    throw new DatasetError(`Empty dataset: ${join(annotations, 'trainval.txt')} lists no images; restore it from annotations.tar.gz (or list the training images in it, one "Image CLASS-ID SPECIES BREED-ID" line each).`);
  }
  if (trainval.length === 0) {
    throw new DatasetError(`Empty dataset: none of the images listed in trainval.txt exist in ${imagesDir}; extract images.tar.gz there.`);
  }
  return { root, layout: 'oxford-pet', labels, trainval, test, missing: [...missing.values()] };
}

// ---- Folder-per-class layout ----

async function entriesOf(dir: string): Promise<{ name: string; isDir: boolean }[]> {
  const entries: Dirent[] = await readdir(dir, { withFileTypes: true });
  const visible = entries.filter((e) => !e.name.startsWith('.'));
  // Symbolic links are followed: class folders and images are often linked in from elsewhere.
  const out = await Promise.all(
    visible.map(async (e) => {
      const isDir = e.isSymbolicLink() ? await isDirectory(join(dir, e.name)) : e.isDirectory();
      return { name: e.name, isDir };
    }),
  );
  return out.sort((a, b) => compareLabels(a.name, b.name));
}

/** Class folder name -> image file names (one level deep; nested folders are not read). */
async function classFolders(dir: string): Promise<Map<string, string[]>> {
  const classes = new Map<string, string[]>();
  for (const entry of await entriesOf(dir)) {
    if (!entry.isDir) continue;
    const files = await entriesOf(join(dir, entry.name));
    const images = files.filter((f) => !f.isDir && IMAGE_EXTENSIONS.includes(extname(f.name).toLowerCase()));
    classes.set(entry.name, images.map((f) => f.name));
  }
  return classes;
}

function hasImages(classes: Map<string, string[]>): boolean {
  return [...classes.values()].some((files) => files.length > 0);
}

async function loadFolders(root: string): Promise<Dataset> {
  let train = await classFolders(root);
  let test = new Map<string, string[]>();
  let trainPrefix = '';
  if (train.has('train') && train.has('test')) {
    const splitTrain = await classFolders(join(root, 'train'));
    const splitTest = await classFolders(join(root, 'test'));
    if (hasImages(splitTrain)) [train, test, trainPrefix] = [splitTrain, splitTest, 'train/'];
  }
  if (!hasImages(train)) throw new DatasetError(`Dataset folder ${root} has no usable layout: ${NEITHER}.`);
  const labels = [...train.keys()];
  for (const [name, files] of train) {
    if (files.length === 0) {
      throw new DatasetError(`Class folder ${join(root, trainPrefix, name)} has no images (${IMAGE_EXTENSIONS.join(', ')}): add images or remove it.`);
    }
  }
  if (test.size > 0 && [...test.keys()].join('/') !== labels.join('/')) {
    const onlyTest = [...test.keys()].filter((n) => !train.has(n));
    const onlyTrain = labels.filter((n) => !test.has(n));
    throw new DatasetError(
      `train/ and test/ must hold the same class folders; only in train/: ${onlyTrain.join(', ') || '-'}; ` +
        `only in test/: ${onlyTest.join(', ') || '-'}. Add or remove folders so both match.`,
    );
  }
  if (labels.length < 2) throw new DatasetError(`${root} has only 1 class folder (${labels[0]}); training needs at least 2.`);
  const items = (classes: Map<string, string[]>, prefix: string): DatasetItem[] =>
    labels.flatMap((name, label) =>
      (classes.get(name) ?? []).map((file) => ({ id: `${prefix}${name}/${file}`, path: join(root, prefix, name, file), label })),
    );
  return { root, layout: 'folders', labels, trainval: items(train, trainPrefix), test: items(test, 'test/'), missing: [] };
}
