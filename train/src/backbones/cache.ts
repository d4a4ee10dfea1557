// The download cache: one folder per URL, <cacheDir>/<first 16 hex of sha256(url)>/, holding model.json,
// its shards and a record of where they came from and their bundle digest. An entry is assembled in a
// temporary folder beside it and renamed into place only when complete and verified, so an entry is
// always whole; temporary folders left by killed processes are removed by the next run.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bundleDigest, inspectBundle } from './manifest.js';

/** The record file inside an entry. */
export const RECORD_FILE = 'pets-backbone.json';

export interface CacheRecord {
  url: string;
  /** Bundle digest of the entry's model.json and shards. */
  sha256: string;
  /** model.json and the shards, as paths inside the entry. */
  files: string[];
  bytes: number;
  downloadedAt: string;
}

/** Temporary folders older than this are removed even when their process may still run. */
const STALE_MS = 24 * 3600 * 1000;
const TEMP_NAME = /^\.([0-9a-f]{16})\.(tmp|old)-(\d+)-[0-9a-f]{8}$/;

export function cacheKey(url: string): string {
  return createHash('sha256').update(url).digest('hex').slice(0, 16);
}

export function entryDir(cacheDir: string, url: string): string {
  return join(cacheDir, cacheKey(url));
}

function siblingName(cacheDir: string, key: string, kind: 'tmp' | 'old'): string {
  return join(cacheDir, `.${key}.${kind}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** A fresh temporary folder for assembling the entry of `url`. */
export async function makeTempEntry(cacheDir: string, url: string): Promise<string> {
  await mkdir(cacheDir, { recursive: true });
  const dir = siblingName(cacheDir, cacheKey(url), 'tmp');
  await mkdir(dir);
  return dir;
}

export async function writeRecord(dir: string, record: CacheRecord): Promise<void> {
  await writeFile(join(dir, RECORD_FILE), `${JSON.stringify(record, null, 2)}\n`);
}

async function readRecord(dir: string): Promise<CacheRecord | undefined> {
  try {
    const record = JSON.parse(await readFile(join(dir, RECORD_FILE), 'utf8')) as CacheRecord;
    return typeof record.url === 'string' && typeof record.sha256 === 'string' ? record : undefined;
  } catch {
    return undefined;
  }
}

/** An entry whose files still have the digest its record holds. */
export interface VerifiedEntry {
  dir: string;
  modelJson: string;
  record: CacheRecord;
}

/** The entry of `url` if it exists, belongs to that URL and its files match the recorded digest. */
export async function verifiedEntry(cacheDir: string, url: string): Promise<VerifiedEntry | undefined> {
  return verifyDir(entryDir(cacheDir, url), url);
}

async function verifyDir(dir: string, url: string): Promise<VerifiedEntry | undefined> {
  const record = await readRecord(dir);
  if (!record || record.url !== url) return undefined;
  const modelJson = join(dir, 'model.json');
  try {
    const digest = await bundleDigest(await inspectBundle(modelJson));
    return digest === record.sha256 ? { dir, modelJson, record } : undefined;
  } catch {
    return undefined;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temporary folders whose process has ended (killed mid-download) or that are a day old. */
export async function removeStaleTemps(cacheDir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(cacheDir);
  } catch {
    return;
  }
  for (const name of names) {
    const match = TEMP_NAME.exec(name);
    if (!match) continue;
    const pid = Number(match[3]);
    if (pid === process.pid) continue;
    const path = join(cacheDir, name);
    const age = await stat(path).then((s) => Date.now() - s.mtimeMs, () => 0);
    if (!processAlive(pid) || age > STALE_MS) await rm(path, { recursive: true, force: true });
  }
}

/**
 * Puts the complete, verified temporary folder `tmp` in place as the entry of `url`. When another
 * process has put a valid entry with the same digest there first, that one stays; a damaged or
 * different entry is moved aside and replaced. Returns the entry's folder.
 */
export async function commitEntry(cacheDir: string, url: string, tmp: string, sha256: string): Promise<string> {
  const dir = entryDir(cacheDir, url);
  for (let tries = 0; ; tries++) {
    try {
      await rename(tmp, dir);
      return dir;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (!(code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'EPERM') || tries >= 3) {
        await rm(tmp, { recursive: true, force: true });
        throw error;
      }
    }
    const existing = await verifyDir(dir, url);
    if (existing && existing.record.sha256 === sha256) {
      await rm(tmp, { recursive: true, force: true });
      return dir;
    }
    const old = siblingName(cacheDir, cacheKey(url), 'old');
    await rename(dir, old).catch(() => undefined);
    await rm(old, { recursive: true, force: true });
  }
}
