// The one error type routes throw: an HTTP status and the message that becomes the protocol's
// {"error": "..."} body (Open Inference Protocol, "Inference Response JSON Error Object").

export class ServeError extends Error {
  override name = 'ServeError';

  constructor(
    /** The HTTP status the response gets. */
    readonly statusCode: number,
    message: string,
    /** Extra response headers (Retry-After for 503). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** 400: the request does not follow the protocol or does not fit the model. */
export const badRequest = (message: string) => new ServeError(400, message);
