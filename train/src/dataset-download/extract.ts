// Streaming tar extraction with node-tar: the archive is read from disk in chunks, never whole in memory.
// node-tar gunzips when the first bytes are gzip's 1f 8b, so a plain tar served under the .tar.gz name
// (some mirrors do) extracts too; the sniff here only turns anything else into a clear error.
import { open } from 'node:fs/promises';
import { extract } from 'tar';
import { DatasetDownloadError } from './errors.js';

/** gzip, a plain tar (ustar magic at byte 257), or neither. */
export async function sniffArchive(path: string): Promise<'gzip' | 'tar' | 'unknown'> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(265);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
    if (bytesRead >= 262 && head.toString('latin1', 257, 262) === 'ustar') return 'tar';
    return 'unknown';
  } finally {
    await handle.close();
  }
}

/** Extracts the archive at `path` into the existing folder `dir`. */
export async function extractArchive(path: string, dir: string, name = path): Promise<void> {
  const kind = await sniffArchive(path);
  if (kind === 'unknown') throw new DatasetDownloadError(`${name} is neither gzip nor tar; delete it and download again.`);
  const warnings: string[] = [];
  // strict: a damaged entry fails the extraction instead of leaving a partial folder that looks complete.
  try {
    await extract({ file: path, cwd: dir, strict: true, onwarn: (_code, message) => warnings.push(String(message)) });
  } catch (error) {
    throw new DatasetDownloadError(`Extracting ${name} failed (${(error as Error).message.replace(/\s+/g, ' ')}); delete it and download again.`, { cause: error });
  }
  if (warnings.length > 0) throw new DatasetDownloadError(`Extracting ${name} failed (${warnings[0]}); delete it and download again.`);
}
