// `pets-train evaluate`: a run's checkpoint on a split: loss, accuracy, per-class accuracy, confusion matrix.
/* eslint-disable no-console -- a CLI command prints its results */
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { BACKEND_NAMES, describeBackend, type BackendRequest } from '../backend/index.js';
import { evaluateRun, SPLIT_NAMES, type SplitName } from '../evaluate-run.js';

export const command = 'evaluate';
export const describe = 'Evaluate a run\'s checkpoint on a split (writes JSON, confusion CSV and PNG)';

export function builder(yargs: Argv) {
  return yargs
    .option('run', { type: 'string', demandOption: true, describe: 'Run directory written by pets-train' })
    .option('checkpoint', { type: 'string', default: 'best', describe: 'best, last or epoch-N' })
    .option('split', { choices: SPLIT_NAMES, default: 'test' as SplitName, describe: 'Which split of the run\'s dataset' })
    .option('data', { type: 'string', describe: 'Dataset root [default: the one the run trained on]' })
    .option('backend', { choices: BACKEND_NAMES, default: 'auto' as BackendRequest, describe: 'TensorFlow.js backend' })
    .option('json', { type: 'boolean', default: false, describe: 'Print the result as JSON on stdout' });
}

type Args = ArgumentsCamelCase<Awaited<ReturnType<typeof builder>['argv']>>;

export async function handler(argv: Args): Promise<void> {
  const { result, files, backend, labels } = await evaluateRun({
    run: argv.run,
    checkpoint: argv.checkpoint,
    split: argv.split,
    data: argv.data,
    backend: argv.backend,
    onWarning: (message) => console.error(`warning: ${message}`),
  });
  describeBackend(backend).forEach((line) => console.error(line));
  if (argv.json) {
    const { predictions: _predictions, ...summary } = result;
    console.log(JSON.stringify({ ...summary, labels, files }, null, 2));
    return;
  }
  console.log(`${argv.split}: loss ${result.loss.toFixed(4)} accuracy ${result.accuracy.toFixed(4)} on ${result.count} images`);
  const width = Math.max(...labels.map((l) => l.length));
  for (const c of result.perClass) {
    const acc = c.accuracy === null ? '   -  ' : `${(c.accuracy * 100).toFixed(1).padStart(5)}%`;
    console.log(`  ${c.label.padEnd(width)}  ${acc}  (${c.correct}/${c.count})`);
  }
  console.log(`wrote ${files.json}, ${files.csv}, ${files.png}`);
}
