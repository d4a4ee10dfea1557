// Precompressed copies of a built site's files (FILE.br and FILE.gz beside FILE), for servers that pick
// them by Accept-Encoding (serve.ts through sirv, nginx gzip_static/brotli_static): compressing the
// 14-28 MB onnxruntime-web .wasm once at build time instead of on every request.
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** Files worth compressing: text and binaries that compress; photos are compressed already. */
const COMPRESSIBLE = /\.(html|css|m?js|json|map|wasm|onnx|bin|svg|txt)$/;
/** A copy is written only when it saves at least this share of the original's bytes. */
const MIN_SAVING = 0.05;
/** Default brotli quality: 9 compresses the 14 MB wasm in ~3 s; 11 saves another 14% and takes ~70 s. */
export const DEFAULT_BROTLI_QUALITY = 9;

export interface PrecompressOptions {
  /** Brotli quality, 0-11. Default 9. */
  brotliQuality?: number;
  /** Where compressed copies are kept between builds, by content hash. Default: none. */
  cacheDir?: string;
  /** Which files (relative paths) to keep there: those that never change, like onnxruntime-web's. Default: all. */
  cacheable?: (name: string) => boolean;
}

async function cached(cacheDir: string | undefined, key: string, make: () => Promise<Uint8Array>): Promise<Uint8Array> {
  if (!cacheDir) return make();
  const file = join(cacheDir, key);
  const hit = await readFile(file).catch(() => undefined);
  if (hit) return hit;
  const bytes = await make();
  await mkdir(cacheDir, { recursive: true });
  const partial = `${file}.partial-${process.pid}`;
  await writeFile(partial, bytes);
  await rename(partial, file);
  return bytes;
}

/**
 * Writes FILE.br and FILE.gz beside each compressible FILE under `dir` that they shrink by 5% or more;
 * returns the written copies (relative paths) with their sizes.
 */
export async function precompress(dir: string, options: PrecompressOptions = {}): Promise<Record<string, number>> {
  const quality = options.brotliQuality ?? DEFAULT_BROTLI_QUALITY;
  if (!Number.isInteger(quality) || quality < 0 || quality > 11) throw new RangeError(`"brotliQuality" must be an integer from 0 to 11; got ${String(quality)}.`);
  const names = (await readdir(dir, { recursive: true })).filter((name) => COMPRESSIBLE.test(name)).sort();
  const written: Record<string, number> = {};
  await Promise.all(
    names.map(async (name) => {
      const original = await readFile(join(dir, name));
      const hash = createHash('sha256').update(original).digest('hex');
      const variants: [string, () => Promise<Uint8Array>][] = [
        [
          `br${quality}`,
          () =>
            brotli(original, {
              params: { [constants.BROTLI_PARAM_QUALITY]: quality, [constants.BROTLI_PARAM_LGWIN]: 24, [constants.BROTLI_PARAM_SIZE_HINT]: original.length },
            }),
        ],
        ['gz9', () => gzipAsync(original, { level: 9 })],
      ];
      for (const [key, make] of variants) {
        const cacheDir = (options.cacheable?.(name) ?? true) ? options.cacheDir : undefined;
        const bytes = await cached(cacheDir, `${hash}.${key}`, make);
        if (bytes.length > original.length * (1 - MIN_SAVING)) continue;
        const copy = `${name}.${key.startsWith('br') ? 'br' : 'gz'}`;
        await writeFile(join(dir, copy), bytes);
        written[copy] = bytes.length;
      }
    }),
  );
  return written;
}
