// Decoded, resized training pixels, so that no epoch decodes an image twice. Each image is stored as 8-bit
// RGB at the contract's size (H*W*3 bytes, the exact resizeToContract() output; normalization is left to
// the batch loader). The full Oxford-IIIT Pet set at 224x224 is 7,349 x 150,528 B ~= 1.03 GiB, which fits
// the default 2 GiB bound; images beyond the bound go to one flat spill file of fixed-size records in
// spillDir and are read back with positional reads each epoch (the OS page cache usually serves them).
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelContract } from '@pets/runtime/contract';
import { decodeImage } from '@pets/runtime/node-decode';
import { resizeToContract } from '@pets/runtime/preprocess';

/** Default memory bound for cached pixels: 2 GiB. */
export const DEFAULT_CACHE_BYTES = 2 * 1024 ** 3;

export interface ImageCacheOptions {
  /** Bytes of pixels kept in memory; images past this go to the spill file. Default 2 GiB. */
  maxBytes?: number;
  /** Folder for the spill file, created when needed. Default os.tmpdir() (which may be RAM-backed: pass a disk folder). */
  spillDir?: string;
  /** Largest image accepted, in decoded pixels. Default decodeImage's (100 MP). */
  maxPixels?: number;
}

export interface LoadOptions {
  /** Images decoded at once. Default 3: sharp decodes on its own threads while the resize runs on this one. */
  concurrency?: number;
  /** Called after each distinct not-yet-cached image, decoded or failed. */
  onProgress?(done: number, total: number): void;
}

export interface LoadResult<T> {
  /** Items now in the cache, in input order. */
  loaded: T[];
  /** Items that could not be decoded (corrupt, missing, too large), with the reason; they are skipped. */
  failed: { item: T; error: string }[];
}

/** An image path, or anything with one (a DatasetItem). */
export type CacheKey = string | { path: string };

type Slot = { memory: Uint8Array } | { record: number };

interface Spill {
  path: string;
  handle: FileHandle;
  cleanup: () => void;
}

function keyOf(key: CacheKey): string {
  return typeof key === 'string' ? key : key.path;
}

export class ImageCache {
  /** Bytes per cached image: height * width * 3. */
  readonly imageBytes: number;
  readonly maxBytes: number;
  private readonly slots = new Map<string, Slot>();
  private memoryBytes = 0;
  private records = 0;
  private spill?: Promise<Spill>;
  private closed = false;

  constructor(
    readonly contract: ModelContract,
    private readonly options: ImageCacheOptions = {},
  ) {
    const { height, width } = contract?.imageSize ?? {};
    if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
      throw new TypeError('"contract" must be a ModelContract with a positive integer imageSize { height, width }.');
    }
    this.imageBytes = height * width * 3;
    this.maxBytes = options.maxBytes ?? DEFAULT_CACHE_BYTES;
    if (typeof this.maxBytes !== 'number' || !(this.maxBytes >= 0)) {
      throw new RangeError(`"maxBytes" must be a number >= 0 (Infinity for no bound); got ${String(options.maxBytes)}.`);
    }
  }

  /** Number of cached images. */
  get size(): number {
    return this.slots.size;
  }

  get bytesInMemory(): number {
    return this.memoryBytes;
  }

  get bytesSpilled(): number {
    return this.records * this.imageBytes;
  }

  has(key: CacheKey): boolean {
    return this.slots.has(keyOf(key));
  }

  /** Decodes and resizes every item not cached yet, each distinct path once; bad images are reported, not thrown. */
  async load<T extends { path: string }>(items: readonly T[], options: LoadOptions = {}): Promise<LoadResult<T>> {
    this.checkOpen();
    if (!Array.isArray(items) || !items.every((item) => typeof item?.path === 'string' && item.path !== '')) {
      throw new TypeError('"items" must be an array of objects with a non-empty string "path".');
    }
    const concurrency = options.concurrency ?? 3;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
      throw new RangeError(`"concurrency" must be an integer in [1, 64]; got ${String(options.concurrency)}.`);
    }
    const todo = [...new Set(items.map((item) => item.path))].filter((path) => !this.slots.has(path));
    const errors = new Map<string, string>();
    let next = 0;
    let done = 0;
    let aborted = false;
    const worker = async (): Promise<void> => {
      while (next < todo.length && !aborted) {
        const path = todo[next++];
        let pixels: Uint8Array | undefined;
        try {
          pixels = resizeToContract(await decodeImage(path, { maxPixels: this.options.maxPixels }), this.contract).data;
        } catch (error) {
          errors.set(path, error instanceof Error ? error.message : String(error));
        }
        try {
          if (pixels) await this.store(path, pixels);
        } catch (error) {
          aborted = true; // a spill write failed (disk full?): not the image's fault, so stop and report it
          throw error;
        }
        options.onProgress?.(++done, todo.length);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, todo.length) }, worker));
    const loaded: T[] = [];
    const failed: LoadResult<T>['failed'] = [];
    for (const item of items) {
      const error = errors.get(item.path);
      if (error === undefined) loaded.push(item);
      else failed.push({ item, error });
    }
    return { loaded, failed };
  }

  /** A copy of one image's RGB pixels (a copy, so that augmenting it cannot corrupt the cache). */
  async get(key: CacheKey): Promise<Uint8Array> {
    const out = new Uint8Array(this.imageBytes);
    await this.fill([key], out);
    return out;
  }

  /** Writes the images' RGB pixels back to back into `out` from `offset`: the batch loader's path. */
  async fill(keys: readonly CacheKey[], out: Uint8Array, offset = 0): Promise<void> {
    this.checkOpen();
    if (!(out instanceof Uint8Array)) throw new TypeError('"out" must be a Uint8Array.');
    const need = offset + keys.length * this.imageBytes;
    if (!Number.isInteger(offset) || offset < 0 || need > out.length) {
      throw new RangeError(`"out" holds ${out.length} bytes; ${keys.length} images at offset ${offset} need ${need}.`);
    }
    const slots = keys.map((key) => {
      const slot = this.slots.get(keyOf(key));
      if (!slot) throw new RangeError(`Image ${keyOf(key)} is not in the cache; load() it first.`);
      return slot;
    });
    await Promise.all(
      slots.map(async (slot, i) => {
        const at = offset + i * this.imageBytes;
        if ('memory' in slot) out.set(slot.memory, at);
        else await this.readRecord(slot.record, out, at);
      }),
    );
  }

  /** Frees the memory and removes the spill file; the cache cannot be used afterwards. Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    this.slots.clear();
    this.memoryBytes = 0;
    const spill = await this.spill?.catch(() => undefined);
    this.spill = undefined;
    if (!spill) return;
    process.off('exit', spill.cleanup);
    await spill.handle.close().catch(() => undefined);
    await rm(spill.path, { force: true });
  }

  /** Path of the spill file, once something has spilled. */
  async spillPath(): Promise<string | undefined> {
    return (await this.spill)?.path;
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('This ImageCache is closed; create a new one.');
  }

  private async store(path: string, pixels: Uint8Array): Promise<void> {
    if (this.memoryBytes + this.imageBytes <= this.maxBytes) {
      this.memoryBytes += this.imageBytes;
      this.slots.set(path, { memory: pixels });
      return;
    }
    const record = this.records++; // claimed before awaiting, so concurrent writers never share a record
    const { handle } = await this.openSpill();
    for (let written = 0; written < this.imageBytes; ) {
      const result = await handle.write(pixels, written, this.imageBytes - written, record * this.imageBytes + written);
      written += result.bytesWritten;
    }
    this.slots.set(path, { record });
  }

  private async readRecord(record: number, out: Uint8Array, at: number): Promise<void> {
    const { handle, path } = await this.openSpill();
    for (let got = 0; got < this.imageBytes; ) {
      const { bytesRead } = await handle.read(out, at + got, this.imageBytes - got, record * this.imageBytes + got);
      if (bytesRead === 0) throw new Error(`Spill file ${path} is truncated at record ${record}; was it removed or changed?`);
      got += bytesRead;
    }
  }

  private openSpill(): Promise<Spill> {
    this.spill ??= (async () => {
      const dir = this.options.spillDir ?? tmpdir();
      await mkdir(dir, { recursive: true });
      const path = join(dir, `pets-image-cache-${process.pid}-${randomBytes(4).toString('hex')}.bin`);
      const handle = await open(path, 'wx+');
      // A multi-GiB file must not outlive a process that forgot close() (signals still skip this).
      const cleanup = (): void => rmSync(path, { force: true });
      process.on('exit', cleanup);
      return { path, handle, cleanup };
    })();
    return this.spill;
  }
}
