// md5 of a file, streamed: the archives are checked against the published digests without reading
// 800 MB into memory.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export async function md5File(path: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
