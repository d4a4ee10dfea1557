// pets-train: train (default command), summary, evaluate, backbones and download. Handlers call plain functions; only this
// top level turns errors into messages and exit codes.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import * as backbonesCommand from './commands/backbones.js';
import * as downloadCommand from './commands/download.js';
import * as evaluateCommand from './commands/evaluate.js';
import * as summaryCommand from './commands/summary.js';
import * as trainCommand from './commands/train.js';
import { failUsage, reportError } from '@pets/runtime/cli-errors';
import { TRAIN_USER_ERRORS } from './commands/errors.js';

try {
  await yargs(hideBin(process.argv))
    .scriptName('pets-train')
    .command(trainCommand)
    .command(summaryCommand)
    .command(evaluateCommand)
    .command(backbonesCommand)
    .command(downloadCommand)
    .strict()
    .help()
    .alias('h', 'help')
    .version(false)
    .wrap(Math.min(110, process.stdout.columns || 110))
    .fail(failUsage)
    .parseAsync();
} catch (error) {
  process.exitCode = reportError('pets-train', error, TRAIN_USER_ERRORS);
}
