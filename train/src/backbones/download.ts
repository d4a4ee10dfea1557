// One file over HTTP(S) with Node's fetch: streamed to a temporary name beside the target and renamed
// when complete, with the status and Content-Length checked, an idle timeout, and retries with
// exponential backoff on connection errors, cut-off bodies and temporary server errors.
import { rename, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { temporaryName } from '../util/atomic.js';
import { writeBody } from '../util/write-body.js';
import { BackboneError } from './errors.js';

export interface DownloadFileOptions {
  /** Further attempts after a connection error, a cut-off body or HTTP 408/429/5xx. */
  retries: number;
  /** Wait before the first retry (ms); doubled for each further one. */
  retryDelayMs: number;
  /** Abort an attempt that receives nothing for this long (ms). */
  idleTimeoutMs: number;
  /** Stops the download (no retry) when aborted. */
  signal?: AbortSignal;
  /** Called with the size the server announces, before the body is read; throw to refuse the file. */
  checkLength?: (total: number | null) => void;
  /** Called after each chunk with this attempt's bytes so far and the announced size. */
  onBytes?: (received: number, total: number | null) => void;
}

/** A failure worth another attempt; its message is the one reported when none is left. */
class TransientError extends BackboneError {}

export const UNREACHABLE = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN', 'EHOSTDOWN']);

/** The errno-like code of a fetch failure (undici nests the socket's error as `cause`). */
export function networkCode(error: unknown): string | undefined {
  for (let e = error as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string') return e.code;
  }
  return undefined;
}

/** Errors from the connection (fetch's TypeError, a socket code), as opposed to the file system's. */
function isNetworkError(error: unknown): boolean {
  if (error instanceof TransientError) return true;
  if (error instanceof BackboneError) return false;
  if (error instanceof TypeError) return true;
  const code = networkCode(error);
  return code !== undefined && (UNREACHABLE.has(code) || code === 'ECONNRESET' || code === 'ETIMEDOUT' || code === 'EPIPE' || code.startsWith('UND_ERR'));
}

function finalError(error: unknown, url: string, attempts: number): Error {
  if (error instanceof BackboneError) return error;
  if (!isNetworkError(error)) return error as Error;
  const code = networkCode(error);
  const host = new URL(url).host;
  if (code && UNREACHABLE.has(code)) return new BackboneError(`Cannot reach ${host} (${code}); check the network or pass a local path.`);
  const detail = code ?? ((error as Error).cause as Error | undefined)?.message ?? (error as Error).message;
  return new BackboneError(`Downloading ${url} failed after ${attempts} attempt${attempts === 1 ? '' : 's'} (${detail}); check the network and run again, or pass a local path.`);
}

function announcedLength(response: Response): number | null {
  const encoding = response.headers.get('content-encoding');
  // With a content coding, Content-Length counts the encoded bytes and fetch hands out decoded ones.
  if (encoding && encoding !== 'identity') return null;
  const value = response.headers.get('content-length');
  return value !== null && /^\d+$/.test(value) ? Number(value) : null;
}

async function attempt(url: string, tmp: string, options: DownloadFileOptions): Promise<number> {
  const idle = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => idle.abort(new TransientError(`No data from ${url} for ${options.idleTimeoutMs / 1000} s; check the network and run again.`)), options.idleTimeoutMs);
  };
  const signal = options.signal ? AbortSignal.any([options.signal, idle.signal]) : idle.signal;
  let received = 0;
  let total: number | null = null;
  let bodyStarted = false;
  arm();
  try {
    const response = await fetch(url, { signal, redirect: 'follow' });
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      const status = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
      if (response.status === 408 || response.status === 429 || response.status >= 500) throw new TransientError(`${url} answered ${status}; try again later, or pass a local path.`);
      throw new BackboneError(`${url} answered ${status}; check the URL (a backbone URL names a TensorFlow.js Layers model.json).`);
    }
    total = announcedLength(response);
    options.checkLength?.(total);
    bodyStarted = true;
    await writeBody(response, tmp, 'w', {
      onChunk: arm,
      onWritten: (bytes) => {
        received += bytes;
        options.onBytes?.(received, total);
      },
    });
  } catch (error) {
    if (idle.signal.aborted) throw idle.signal.reason;
    if (options.signal?.aborted) throw options.signal.reason ?? error;
    // A connection lost after the headers (its queued chunks may be dropped with it, so even 0 bytes).
    if (bodyStarted && isNetworkError(error) && !(error instanceof BackboneError)) {
      const of = total === null ? '' : ` of ${total}`;
      throw new TransientError(`Download of ${url} was cut off after ${received}${of} bytes (${networkCode(error) ?? (error as Error).message}); check the network and run again.`);
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
  if (total !== null && received !== total) {
    throw new TransientError(`Download of ${url} was cut off after ${received} of ${total} bytes; check the network and run again.`);
  }
  return received;
}

/** Downloads `url` to `target` (whose folder must exist); returns the bytes written. */
export async function downloadFile(url: string, target: string, options: DownloadFileOptions): Promise<number> {
  for (let tries = 0; ; tries++) {
    const tmp = temporaryName(target);
    try {
      const bytes = await attempt(url, tmp, options);
      await rename(tmp, target);
      return bytes;
    } catch (error) {
      await rm(tmp, { force: true });
      if (options.signal?.aborted || !isNetworkError(error) || tries >= options.retries) throw finalError(error, url, tries + 1);
      await sleep(options.retryDelayMs * 2 ** tries, undefined, { signal: options.signal }).catch(() => undefined);
      if (options.signal?.aborted) throw finalError(error, url, tries + 1);
    }
  }
}
