// pets-export: one command. The handler calls exportRuns(); only this top level turns errors into
// messages and exit codes.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import * as exportCommand from './commands/export.js';
import { failUsage, reportError } from '@pets/runtime/cli-errors';
import { EXPORT_USER_ERRORS } from './commands/errors.js';

try {
  await yargs(hideBin(process.argv))
    .scriptName('pets-export')
    .command(exportCommand)
    .strict()
    .help()
    .alias('h', 'help')
    .version(false)
    .wrap(Math.min(110, process.stdout.columns || 110))
    .fail(failUsage)
    .parseAsync();
} catch (error) {
  process.exitCode = reportError('pets-export', error, EXPORT_USER_ERRORS);
}
