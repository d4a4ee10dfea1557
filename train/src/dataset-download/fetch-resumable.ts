// One large file over HTTP(S), resumable: bytes go to a .part file that survives an interrupted run, and
// the next attempt (or run) asks for the rest with `Range: bytes=N-`. A 206 appends; a 200 means the
// server ignores Range, so the file starts over. Dropped connections are retried with exponential backoff.
import { rm, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { UNREACHABLE, networkCode } from '../backbones/download.js';
import { writeBody } from '../util/write-body.js';
import { DatasetDownloadError } from './errors.js';

export interface ResumableFetchOptions {
  /** Further attempts after a dropped connection, a cut-off body or HTTP 408/429/5xx. Default 5. */
  retries?: number;
  /** Wait before the first retry (ms); doubled for each further one. Default 1000. */
  retryDelayMs?: number;
  /** Abort an attempt that receives nothing for this long (ms). Default 60000. */
  idleTimeoutMs?: number;
  /** Stops the download (no retry) when aborted; the .part file is kept for the next run. */
  signal?: AbortSignal;
  /** Called when a response starts: the bytes already on disk and the whole file's size, if known. */
  onStart?: (info: { resumedFrom: number; total: number | null }) => void;
  /** Called after each chunk with the bytes on disk and the whole file's size, if known. */
  onBytes?: (bytes: number, total: number | null) => void;
  /** Called before a retry, with the reason and the wait. */
  onRetry?: (info: { attempt: number; delayMs: number; reason: string }) => void;
}

/** A failure worth another attempt. */
class TransientError extends DatasetDownloadError {}

function isConnectionError(error: unknown): boolean {
  if (error instanceof TransientError) return true;
  if (error instanceof DatasetDownloadError) return false;
  if (error instanceof TypeError) return true;
  const code = networkCode(error);
  return code !== undefined && (UNREACHABLE.has(code) || code === 'ECONNRESET' || code === 'ETIMEDOUT' || code === 'EPIPE' || code.startsWith('UND_ERR'));
}

async function sizeOf(path: string): Promise<number> {
  return (await stat(path).catch(() => null))?.size ?? 0;
}

function lengthOf(response: Response): number | null {
  const encoding = response.headers.get('content-encoding');
  if (encoding && encoding !== 'identity') return null;
  const value = response.headers.get('content-length');
  return value !== null && /^\d+$/.test(value) ? Number(value) : null;
}

/** The first byte and the whole size of a 206's `Content-Range: bytes A-B/TOTAL`. */
function contentRange(response: Response): { start: number; total: number | null } | null {
  const match = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(response.headers.get('content-range') ?? '');
  return match ? { start: Number(match[1]), total: match[2] === '*' ? null : Number(match[2]) } : null;
}

async function attempt(url: string, part: string, options: ResumableFetchOptions): Promise<void> {
  const idleMs = options.idleTimeoutMs ?? 60_000;
  const idle = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => idle.abort(new TransientError(`No data from ${url} for ${idleMs / 1000} s`)), idleMs);
  };
  const signal = options.signal ? AbortSignal.any([options.signal, idle.signal]) : idle.signal;
  const have = await sizeOf(part);
  let written = have;
  let total: number | null = null;
  arm();
  try {
    const response = await fetch(url, { signal, redirect: 'follow', headers: have > 0 ? { range: `bytes=${have}-` } : {} });
    if (response.status === 416 && have > 0) {
      // The .part file is as long as the file or longer (it changed on the server): start over.
      await response.body?.cancel().catch(() => undefined);
      await rm(part, { force: true });
      throw new TransientError(`${url} refused to resume at byte ${have} (HTTP 416); starting over`);
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      const status = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
      if (response.status === 408 || response.status === 429 || response.status >= 500) throw new TransientError(`${url} answered ${status}`);
      throw new DatasetDownloadError(`${url} answered ${status}; check the URL (a --mirror must serve images.tar.gz and annotations.tar.gz).`);
    }
    const range = response.status === 206 ? contentRange(response) : null;
    const append = range !== null && range.start === have;
    if (append) {
      total = range.total;
    } else {
      // 200 (Range ignored) or a range that does not start where the file ends: the body is the whole file.
      if (response.status === 206) {
        await response.body?.cancel().catch(() => undefined);
        await rm(part, { force: true });
        throw new TransientError(`${url} answered a Range request with "${response.headers.get('content-range')}"; starting over`);
      }
      written = 0;
      total = lengthOf(response);
    }
    if (append && total === null) {
      const rest = lengthOf(response);
      total = rest === null ? null : have + rest;
    }
    options.onStart?.({ resumedFrom: append ? have : 0, total });
    await writeBody(response, part, append ? 'a' : 'w', {
      onChunk: arm,
      onWritten: (bytes) => {
        written += bytes;
        options.onBytes?.(written, total);
      },
    });
  } catch (error) {
    if (idle.signal.aborted) throw idle.signal.reason;
    if (options.signal?.aborted) throw options.signal.reason ?? error;
    if (isConnectionError(error) && !(error instanceof DatasetDownloadError) && written > have) {
      throw new TransientError(`Download of ${url} was cut off after ${written}${total === null ? '' : ` of ${total}`} bytes (${networkCode(error) ?? (error as Error).message})`);
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
  if (total !== null && written !== total) throw new TransientError(`Download of ${url} was cut off after ${written} of ${total} bytes`);
}

function finalError(error: unknown, url: string, attempts: number, part: string): Error {
  if (error instanceof DatasetDownloadError && !(error instanceof TransientError)) return error;
  if (!isConnectionError(error)) return error as Error;
  const code = networkCode(error);
  if (code && UNREACHABLE.has(code)) return new DatasetDownloadError(`Cannot reach ${new URL(url).host} (${code}); check the network, or pass --mirror.`);
  const detail = error instanceof TransientError ? error.message : (code ?? ((error as Error).cause as Error | undefined)?.message ?? (error as Error).message);
  return new DatasetDownloadError(`Downloading ${url} failed after ${attempts} attempt${attempts === 1 ? '' : 's'} (${detail}); run again to resume from ${part}.`);
}

/** Downloads `url` into `part` (resuming what is there); returns when `part` holds the whole file. */
export async function fetchResumable(url: string, part: string, options: ResumableFetchOptions = {}): Promise<void> {
  const retries = options.retries ?? 5;
  const delay = options.retryDelayMs ?? 1000;
  let progressed = false;
  for (let tries = 0; ; tries++) {
    const before = await sizeOf(part);
    try {
      await attempt(url, part, options);
      return;
    } catch (error) {
      progressed ||= (await sizeOf(part)) > before;
      const code = networkCode(error);
      // Offline before the first byte: say so at once rather than after a minute of backoff.
      const offline = !progressed && code !== undefined && UNREACHABLE.has(code);
      if (options.signal?.aborted || offline || !isConnectionError(error) || tries >= retries) throw finalError(error, url, tries + 1, part);
      const delayMs = delay * 2 ** tries;
      options.onRetry?.({ attempt: tries + 1, delayMs, reason: error instanceof Error ? error.message : String(error) });
      await sleep(delayMs, undefined, { signal: options.signal }).catch(() => undefined);
      if (options.signal?.aborted) throw finalError(error, url, tries + 1, part);
    }
  }
}
