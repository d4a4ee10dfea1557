// Turns an error into what the user sees: one line for their mistakes, the stack for ours
// (the approach of train/src/commands/errors.ts, with the exporter's own error names).
/* eslint-disable no-console -- the CLI's top level reports errors on stderr */

/** Errors caused by the user's input or machine; reported as one line without a stack trace. */
const USER_ERRORS = new Set([
  'UsageError',
  'ExportError',
  'UnsupportedLayerError',
  'VerificationError',
  'CheckpointError',
  'ModelContractError',
  'BackendUnavailableError',
  'DatasetError',
  'ImageDecodeError',
]);

/** Our own RangeError/TypeError messages name the parameter and the valid values (see STYLE.md). */
const VALIDATION_MESSAGE = /must be|Expected one of|Unsupported /;

export function isUserError(error: Error): boolean {
  return USER_ERRORS.has(error.name) || ((error.name === 'RangeError' || error.name === 'TypeError') && VALIDATION_MESSAGE.test(error.message));
}

/** The message for one error: its text, or its stack when it is a bug. */
export function describeError(error: unknown): string {
  const err = error instanceof Error ? error : new Error(String(error));
  return isUserError(err) ? err.message : `unexpected error (please report it):\n${err.stack ?? err.message}`;
}

/** Prints the error and returns the exit code: 2 for usage errors, 1 otherwise. */
export function reportError(program: string, error: unknown): number {
  const err = error instanceof Error ? error : new Error(String(error));
  const hint = err.name === 'UsageError' ? `\nRun "${program} --help" for the options.` : '';
  console.error(`${program}: ${describeError(err)}${hint}`);
  return err.name === 'UsageError' ? 2 : 1;
}
