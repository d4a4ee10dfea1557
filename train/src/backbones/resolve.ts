// --backbone NAME|PATH|URL to a model.json on disk: a known name's bundled folder, a local file or
// folder, or a download into the cache (verified, then reused without a request).
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commitEntry, makeTempEntry, removeStaleTemps, verifiedEntry, writeRecord } from './cache.js';
import { downloadFile } from './download.js';
import { BackboneError } from './errors.js';
import { KNOWN_BACKBONES, findKnownBackbone, findKnownByUrl, type KnownBackbone } from './known.js';
import { bundleDigest, groupBytes, inspectBundle, parseModelJson, shardSpecs, type ShardSpec } from './manifest.js';
import { bundledBackbonesDir, defaultCacheDir } from './paths.js';

/** Progress of a download, reported after each chunk and each completed file. */
export interface DownloadProgress {
  /** The file that received bytes or completed (a path relative to model.json). */
  file: string;
  /** Bytes of `file` received so far in this attempt. */
  received: number;
  /** Its size as announced by the server, when announced. */
  total: number | null;
  filesDone: number;
  /** 1 until model.json has arrived, then 1 + the number of shards. */
  filesTotal: number;
  /** Bytes received over all files. */
  bytesDone: number;
  /** Bytes of model.json and all shards, known once model.json has arrived. */
  bytesTotal: number | null;
}

export interface ResolveOptions {
  /** Download cache. Default: defaultCacheDir(). */
  cacheDir?: string;
  /** Expected bundle digest (lowercase hex); a mismatch is a BackboneError. Default: the known backbone's pinned one, if any. */
  sha256?: string;
  /** Download progress. Default: none. */
  onProgress?: (progress: DownloadProgress) => void;
  /** Further attempts per file after a connection error or a cut-off download. Default: 3. */
  retries?: number;
  /** Wait before the first retry (ms), doubled for each further one. Default: 500. */
  retryDelayMs?: number;
  /** Abort a request that receives nothing for this long (ms). Default: 30000. */
  idleTimeoutMs?: number;
  /** Shards downloaded at the same time. Default: 4. */
  concurrency?: number;
}

export interface ResolvedBackbone {
  /** Absolute path of model.json. */
  modelJson: string;
  source: 'bundled' | 'path' | 'url' | 'cache';
  /** What was asked for. */
  spec: string;
  known?: KnownBackbone;
  /** Bundle digest of model.json and its shards (bundleDigest in manifest.ts); loadBackbone checks it. */
  sha256: string;
  /** The model.json URL it was downloaded from (for a bundled backbone, where it is published). */
  url?: string;
}

function checkDigest(actual: string, expected: string | undefined, what: string): void {
  if (expected !== undefined && actual !== expected.toLowerCase()) {
    throw new BackboneError(`Checksum mismatch for ${what}: its bundle digest is ${actual}, expected ${expected}; the files differ from the expected ones (pass the right --backbone or sha256).`);
  }
}

function unknownSpec(spec: string): BackboneError {
  const bundled = KNOWN_BACKBONES.filter((b) => b.bundled).map((b) => (b.aliases.length ? `${b.name} (${b.aliases.join(', ')})` : b.name));
  const published = KNOWN_BACKBONES.filter((b) => !b.bundled).length;
  return new BackboneError(
    `Unknown backbone "${spec}": not a known name, an http(s) URL, or an existing model.json or folder. Bundled: ${bundled.join(', ')}; ${published} more download by name (pets-train backbones lists them).`,
  );
}

async function resolveBundled(known: KnownBackbone & { bundled: string }, spec: string, options: ResolveOptions): Promise<ResolvedBackbone> {
  const root = bundledBackbonesDir();
  if (!root) {
    const instead = known.url ? `pass --backbone ${known.url} to download it` : 'pass a path or URL';
    throw new BackboneError(`The bundled backbone "${known.name}" lives in the pets repository's data/backbones folder, which is not above ${fileURLToPath(import.meta.url)}; ${instead}.`);
  }
  const modelJson = join(root, known.bundled, 'model.json');
  if (!(await stat(modelJson).then((s) => s.isFile(), () => false))) {
    throw new BackboneError(`${modelJson} is missing; restore the bundled folder (git checkout -- data/backbones/${known.bundled}).`);
  }
  let sha256 = known.sha256;
  if (sha256 === undefined || options.sha256 !== undefined) {
    sha256 = await bundleDigest(await inspectBundle(modelJson));
    checkDigest(sha256, options.sha256, `data/backbones/${known.bundled}`);
  }
  return { modelJson, source: 'bundled', spec, known, sha256, url: known.url };
}

async function resolveLocal(spec: string, options: ResolveOptions): Promise<ResolvedBackbone> {
  const path = spec.startsWith('file:') ? fileURLToPath(spec) : resolvePath(spec);
  const info = await stat(path).catch(() => undefined);
  if (!info) throw unknownSpec(spec);
  const modelJson = info.isDirectory() ? join(path, 'model.json') : path;
  if (info.isDirectory() && !(await stat(modelJson).then((s) => s.isFile(), () => false))) {
    throw new BackboneError(`Folder ${path} has no model.json; pass the folder of a TensorFlow.js Layers model or its model.json.`);
  }
  const sha256 = await bundleDigest(await inspectBundle(modelJson));
  checkDigest(sha256, options.sha256, modelJson);
  return { modelJson, source: 'path', spec, sha256 };
}

/** A shard path from a downloaded manifest, checked so that it stays inside the cache entry. */
function safeShardPath(path: string, url: string): string {
  const segments = path.split('/');
  const bad = path.startsWith('/') || /[\\:?#\0]/.test(path) || segments.some((s) => s === '' || s === '.' || s === '..') || path === 'model.json';
  if (bad) throw new BackboneError(`${url} names the shard "${path}", which is not a plain relative file name; pets downloads only shards that sit beside model.json.`);
  return path;
}

/** Runs `work` over `items`, `limit` at a time; the first failure aborts the others and is thrown once all have stopped. */
async function pool<T>(items: readonly T[], limit: number, work: (item: T, signal: AbortSignal) => Promise<void>): Promise<void> {
  const stop = new AbortController();
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const item = items[next++];
      try {
        await work(item, stop.signal);
      } catch (error) {
        failure ??= { error };
        stop.abort(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.error;
}

async function download(url: string, spec: string, known: KnownBackbone | undefined, expected: string | undefined, cacheDir: string, options: ResolveOptions): Promise<ResolvedBackbone> {
  const tmp = await makeTempEntry(cacheDir, url);
  try {
    const fileOptions = { retries: options.retries ?? 3, retryDelayMs: options.retryDelayMs ?? 500, idleTimeoutMs: options.idleTimeoutMs ?? 30_000 };
    const received = new Map<string, number>();
    let filesDone = 0;
    let filesTotal = 1;
    let bytesTotal: number | null = null;
    const report = (file: string, bytes: number, total: number | null) => {
      received.set(file, bytes);
      if (!options.onProgress) return;
      let bytesDone = 0;
      for (const n of received.values()) bytesDone += n;
      options.onProgress({ file, received: bytes, total, filesDone, filesTotal, bytesDone, bytesTotal });
    };

    const jsonFile = join(tmp, 'model.json');
    const jsonSize = await downloadFile(url, jsonFile, { ...fileOptions, onBytes: (n, total) => report('model.json', n, total) });
    const model = parseModelJson(await readFile(jsonFile), url);
    const shards = shardSpecs(model).map((s): ShardSpec => ({ ...s, path: safeShardPath(s.path, url) }));
    filesDone = 1;
    filesTotal = 1 + shards.length;
    bytesTotal = jsonSize + model.weightsManifest.reduce((n, g) => n + groupBytes(g), 0);
    report('model.json', jsonSize, jsonSize);

    await pool(shards, options.concurrency ?? 4, async (shard, signal) => {
      const shardUrl = new URL(shard.path, url).href;
      const target = join(tmp, shard.path);
      if (shard.path.includes('/')) await mkdir(dirname(target), { recursive: true });
      const wrongSize = (size: number) =>
        new BackboneError(`Shard ${shard.path} from ${shardUrl} is ${size} bytes, expected ${shard.bytes} from the weightsManifest of ${url}; the server holds a different or damaged file.`);
      const size = await downloadFile(shardUrl, target, {
        ...fileOptions,
        signal,
        checkLength: (total) => {
          if (total !== null && shard.bytes !== undefined && total !== shard.bytes) throw wrongSize(total);
        },
        onBytes: (n, total) => report(shard.path, n, total),
      });
      if (shard.bytes !== undefined && size !== shard.bytes) throw wrongSize(size);
      filesDone++;
      report(shard.path, size, size);
    });

    // Sizes of multi-file groups, then the digest, from the files as they are on disk.
    const sha256 = await bundleDigest(await inspectBundle(jsonFile));
    checkDigest(sha256, expected, url);
    const files = ['model.json', ...shards.map((s) => s.path)];
    await writeRecord(tmp, { url, sha256, files, bytes: bytesTotal, downloadedAt: new Date().toISOString() });
    const dir = await commitEntry(cacheDir, url, tmp, sha256);
    return { modelJson: join(dir, 'model.json'), source: 'url', spec, known, sha256, url };
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
}

async function resolveUrl(url: string, spec: string, known: KnownBackbone | undefined, options: ResolveOptions): Promise<ResolvedBackbone> {
  // A known backbone's pinned digest describes its bundled folder; for published-only ones it is the download's.
  const expected = options.sha256 ?? (known && !known.bundled ? known.sha256 : undefined);
  const cacheDir = resolvePath(options.cacheDir ?? defaultCacheDir());
  await removeStaleTemps(cacheDir);
  const cached = await verifiedEntry(cacheDir, url);
  if (cached && (expected === undefined || cached.record.sha256 === expected.toLowerCase())) {
    return { modelJson: cached.modelJson, source: 'cache', spec, known, sha256: cached.record.sha256, url };
  }
  // No entry, a damaged one, or one that does not have the expected digest: download it (again); the
  // old entry is replaced only by a complete, verified one.
  return download(url, spec, known, expected, cacheDir, options);
}

/**
 * Resolves --backbone: a known name or alias (its bundled folder, else its published URL), an http(s)
 * URL of a model.json (downloaded into the cache once), or a model.json file or a folder holding one.
 */
export async function resolveBackbone(spec: string, options: ResolveOptions = {}): Promise<ResolvedBackbone> {
  if (typeof spec !== 'string') throw new TypeError(`Parameter "spec" must be a string; got ${typeof spec}.`);
  if (spec.trim() === '') throw new RangeError('Parameter "spec" must be a backbone name, URL or path; got an empty string.');
  if (options.sha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(options.sha256)) {
    throw new RangeError(`Option "sha256" must be 64 hex digits; got "${options.sha256}".`);
  }
  const known = findKnownBackbone(spec);
  if (known?.bundled) return resolveBundled(known as KnownBackbone & { bundled: string }, spec, options);
  if (known?.url) return resolveUrl(known.url, spec, known, options);
  if (/^https?:\/\//i.test(spec)) {
    let url: string;
    try {
      url = new URL(spec).href;
    } catch {
      throw new BackboneError(`"${spec}" is not a valid URL; pass the http(s) URL of a model.json.`);
    }
    return resolveUrl(url, spec, findKnownByUrl(url), options);
  }
  return resolveLocal(spec, options);
}
