// pets-train: train (default command), summary and evaluate. Handlers call plain functions; only this
// top level turns errors into messages and exit codes.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import * as evaluateCommand from './commands/evaluate.js';
import * as summaryCommand from './commands/summary.js';
import * as trainCommand from './commands/train.js';
import { reportError } from './commands/errors.js';

class UsageError extends Error {
  override name = 'UsageError';
}

try {
  await yargs(hideBin(process.argv))
    .scriptName('pets-train')
    .command(trainCommand)
    .command(summaryCommand)
    .command(evaluateCommand)
    .strict()
    .help()
    .alias('h', 'help')
    .version(false)
    .wrap(Math.min(110, process.stdout.columns || 110))
    .fail((message, error) => {
      throw error ?? new UsageError(message);
    })
    .parseAsync();
} catch (error) {
  process.exitCode = reportError('pets-train', error);
}
