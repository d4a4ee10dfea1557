// The error a remote classifier raises when the inference server cannot be used; pure, for both entries.

/** What went wrong: an HTTP error status, no connection, no answer in time, or an answer off the protocol. */
export type RemoteFailure = 'http' | 'network' | 'timeout' | 'protocol';

/** The server answered with an error, could not be reached, timed out, or broke the protocol. */
export class RemoteInferenceError extends Error {
  override name = 'RemoteInferenceError';
  readonly failure: RemoteFailure;
  /** The HTTP status, when the server answered. */
  readonly status: number | null;
  /** The endpoint, e.g. "POST http://127.0.0.1:8000/v2/models/m5/infer". */
  readonly endpoint: string;
  /** Seconds the server asked to wait before retrying (Retry-After on 503), or null. */
  readonly retryAfter: number | null;

  constructor(
    endpoint: string,
    failure: RemoteFailure,
    detail: string,
    options: { status?: number; retryAfter?: number | null; cause?: unknown } = {},
  ) {
    super(`${endpoint}: ${detail}`, { cause: options.cause });
    this.failure = failure;
    this.endpoint = endpoint;
    this.status = options.status ?? null;
    this.retryAfter = options.retryAfter ?? null;
  }
}
