// Downloads the model with a progress callback: a ReadableStream reader counts the bytes as they arrive.

export type ProgressCallback = (loaded: number, total: number | undefined) => void;

/**
 * The bytes at `url`. `expectedBytes` is the total when the response has no usable Content-Length
 * (a compressing host sends the compressed size or none).
 */
export async function fetchWithProgress(url: string, expectedBytes: number | undefined, onProgress: ProgressCallback): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`Cannot download the model ${url}: HTTP ${response.status} ${response.statusText}.`);
  const length = Number(response.headers.get('content-length'));
  const compressed = response.headers.has('content-encoding') && response.headers.get('content-encoding') !== 'identity';
  const total = length > 0 && !compressed ? length : expectedBytes;
  onProgress(0, total);
  if (!response.body) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    onProgress(bytes.length, total);
    return bytes;
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.length;
    onProgress(loaded, total);
  }
  const bytes = new Uint8Array(loaded);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}
