// What the pets command-line tools print for an error: one line for the user's mistakes, the stack for
// ours, and the exit code (2 for usage errors, 1 otherwise). Shared by pets-classify, pets-train,
// pets-export and pets-parity, which each name the error classes their users can cause.
/* eslint-disable no-console -- the CLIs' top level reports errors on stderr */

/** A command line that yargs (or a handler) rejects. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** yargs' .fail() handler: validation messages become UsageErrors, thrown errors pass through. */
export function failUsage(message: string | null | undefined, error: Error | undefined): never {
  throw error ?? new UsageError(message ?? 'Invalid command line.');
}

/** Errors every pets tool reports as the user's: bad command lines, models, images, providers. */
const COMMON = ['UsageError', 'ModelContractError', 'ImageDecodeError', 'ExecutionProviderError'];

/** Our own RangeError/TypeError messages name the parameter and the valid values; ENOENT is a path typo. */
const VALIDATION_MESSAGE = /must be|Expected one of|Unknown preset|Unsupported |ENOENT/;

export function isUserError(error: Error, userErrors: readonly string[] = []): boolean {
  if (COMMON.includes(error.name) || userErrors.includes(error.name)) return true;
  return (error.name === 'RangeError' || error.name === 'TypeError' || 'code' in error) && VALIDATION_MESSAGE.test(error.message);
}

/** The text for one error: its message, or its stack when it is a bug. */
export function describeError(error: unknown, userErrors: readonly string[] = []): string {
  const err = error instanceof Error ? error : new Error(String(error));
  return isUserError(err, userErrors) ? err.message : `unexpected error (please report it):\n${err.stack ?? err.message}`;
}

/** Prints the error as `program: ...` on stderr and returns the exit code. */
export function reportError(program: string, error: unknown, userErrors: readonly string[] = []): number {
  const usage = error instanceof Error && error.name === 'UsageError';
  console.error(`${program}: ${describeError(error, userErrors)}${usage ? `\nRun "${program} --help" for the options.` : ''}`);
  return usage ? 2 : 1;
}
