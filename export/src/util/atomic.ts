// Writes the model under a temporary name beside its target and renames it into place only once it is
// verified (the idea of train/src/util/atomic.ts, split in two steps so that verification runs on the
// file's own bytes in between): a reader, or a killed process, never sees a partial or unverified file.
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export function temporaryName(target: string): string {
  return join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Writes and fsyncs `data` under a temporary name next to `target`; returns that name. */
export async function writeTemporary(target: string, data: Uint8Array): Promise<string> {
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

/** Moves a verified temporary file to its target (atomic on one file system). */
export async function commitTemporary(tmp: string, target: string): Promise<void> {
  try {
    await rename(tmp, target);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}
