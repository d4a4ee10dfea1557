// Named errors callers branch on; pure, shared by the Node and browser entries.

/** An input could not be decoded as an image (corrupt, truncated, not an image, too large). */
export class ImageDecodeError extends Error {
  override name = 'ImageDecodeError';
  /** The input as the caller named it: a path, or a description such as "buffer #2 (1234 bytes)". */
  readonly input: string;

  constructor(input: string, reason: string, options?: { cause?: unknown }) {
    super(`Cannot decode image ${input}: ${reason}`, options);
    this.input = input;
  }
}

/** An explicitly requested execution provider cannot run; the message says why and what to install. */
export class ExecutionProviderError extends Error {
  override name = 'ExecutionProviderError';
}
