// Atomic file and directory writes: a temporary name beside the target, then rename, so that a reader
// (or a process killed with SIGKILL at any moment) sees either the old complete file or the new one.
// The two steps are exported too, for writers that check the file between them (pets-export verifies
// the model's own bytes before it takes the target name).
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export function temporaryName(target: string): string {
  return join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Writes and fsyncs `data` under a temporary name next to `target`; returns that name. */
export async function writeTemporary(target: string, data: string | Uint8Array): Promise<string> {
  await mkdir(dirname(target), { recursive: true });
  const tmp = temporaryName(target);
  try {
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
  return tmp;
}

/** Moves a temporary file to its target (atomic on one file system); removes it if that fails. */
export async function commitTemporary(tmp: string, target: string): Promise<void> {
  try {
    await rename(tmp, target);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

/** Writes data to path atomically (fsync'd temporary file, then rename). */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await commitTemporary(await writeTemporary(path, data), path);
}

/**
 * Creates a directory atomically: `fill` writes into a temporary directory, which is then renamed to
 * `path` (which must not exist yet). On failure the temporary directory is removed.
 */
export async function writeDirectoryAtomic(path: string, fill: (tmpDir: string) => Promise<void>): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = temporaryName(path);
  await mkdir(tmp);
  try {
    await fill(tmp);
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
}
