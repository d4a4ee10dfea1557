// Streams an HTTP response body into a file, for the backbone and dataset downloads.
import { open } from 'node:fs/promises';

export interface WriteBodyHooks {
  /** Called as each chunk arrives, before it is written (downloads re-arm their idle timeout here). */
  onChunk?: () => void;
  /** Called after each chunk is written, with its size. */
  onWritten?: (bytes: number) => void;
}

/** Writes `response`'s body to `path`, truncating ('w') or appending ('a'), synced to disk before it returns. */
export async function writeBody(response: Response, path: string, flags: 'w' | 'a', hooks: WriteBodyHooks = {}): Promise<void> {
  const handle = await open(path, flags);
  try {
    if (response.body) {
      for await (const chunk of response.body) {
        hooks.onChunk?.();
        await handle.write(chunk);
        hooks.onWritten?.(chunk.byteLength);
      }
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}
