// Turns an error into what the user sees: one line for their mistakes, the stack for ours.
/* eslint-disable no-console -- the CLI's top level reports errors on stderr */

/** Errors caused by the user's input or machine; reported as one line without a stack trace. */
const USER_ERRORS = new Set([
  'UsageError',
  'DatasetError',
  'TrainOptionsError',
  'CheckpointError',
  'BackendUnavailableError',
  'ImageSizeError',
  'BatchMemoryError',
  'ModelContractError',
]);

/** Our own RangeError/TypeError messages name the parameter and the valid values (see STYLE.md). */
const VALIDATION_MESSAGE = /must be|Expected one of|Unknown preset|Unsupported /;

/** Prints the error and returns the exit code: 2 for usage errors, 1 otherwise. */
export function reportError(program: string, error: unknown): number {
  const err = error instanceof Error ? error : new Error(String(error));
  const userError =
    USER_ERRORS.has(err.name) || ((err.name === 'RangeError' || err.name === 'TypeError') && VALIDATION_MESSAGE.test(err.message));
  if (userError) console.error(`${program}: ${err.message}${err.name === 'UsageError' ? `\nRun "${program} --help" for the options.` : ''}`);
  else console.error(`${program}: unexpected error (please report it):\n${err.stack ?? err.message}`);
  return err.name === 'UsageError' ? 2 : 1;
}
