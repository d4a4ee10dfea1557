// `pets-train [train]`: parse flags, call train(), show progress and results.
/* eslint-disable no-console -- a CLI command prints its results */
import cliProgress from 'cli-progress';
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { BACKEND_NAMES, defaultWasmThreads, describeBackend, type BackendRequest } from '../backend/index.js';
import { PRESET_NAMES, PRESETS, type PresetName } from '../presets.js';
import { train, type TrainEvent } from '../train.js';

export const command = ['$0', 'train'];
export const describe = 'Train a reference-study model on a dataset (default command)';

const defaults = PRESETS.model5;

export function builder(yargs: Argv) {
  return yargs
    .option('data', { type: 'string', demandOption: true, describe: 'Dataset root: Oxford-IIIT Pet layout (annotations/, images/) or one folder per class' })
    .option('out', { type: 'string', demandOption: true, describe: 'Run directory (checkpoints, history, curves, evaluation)' })
    .option('preset', { choices: PRESET_NAMES, default: 'model5' as PresetName, describe: 'Reference study model' })
    .option('backend', { choices: BACKEND_NAMES, default: 'auto' as BackendRequest, describe: 'TensorFlow.js backend; auto tries node-gpu, node, wasm, cpu' })
    .option('threads', { type: 'number', default: defaultWasmThreads(), describe: 'Threads of the wasm backend (1: its single-threaded build); results do not depend on it' })
    .option('epochs', { type: 'number', describe: `Maximum epochs [preset: ${defaults.epochs}]` })
    .option('batch-size', { type: 'number', describe: `Images per step [preset: ${defaults.batchSize}]` })
    .option('learning-rate', { type: 'number', describe: 'Adam learning rate [preset: 1e-3; model5 3e-4]' })
    .option('image-size', { type: 'number', describe: `Input side in pixels [preset: ${defaults.imageSize}]` })
    .option('micro-batch', {
      type: 'number',
      describe: 'Images per forward/backward pass: batches are split and gradients accumulated (BatchNorm statistics then per pass) [default: the whole batch, split on wasm when it would not fit its 4 GiB heap]',
    })
    .option('dropout', { type: 'number', describe: 'Dropout before the classifier [preset: 0; model3-5 0.5]' })
    .option('augment', { type: 'boolean', describe: 'Augmentation: rotation ±10°, zoom ±10%, brightness ×0.7–1.3, flip [preset: model4-5 on]' })
    .option('val-fraction', { type: 'number', default: 0.2, describe: 'Fraction of trainval per class held out for validation' })
    .option('test-fraction', { type: 'number', default: 0.2, describe: 'Test fraction carved out when the dataset has no test split' })
    .option('seed', { type: 'number', default: 42, describe: 'Seed of split, initial weights, shuffle, augmentation, dropout' })
    .option('early-stopping', { type: 'number', default: 0, describe: 'Stop after N epochs without a better validation result (0: off)' })
    .option('resume', { type: 'boolean', default: false, describe: 'Continue the run in --out from its last checkpoint' })
    .option('cache-mb', { type: 'number', default: 2048, describe: 'Memory for decoded pixels (MiB); the rest spills to disk' })
    .option('keep-checkpoints', { type: 'boolean', default: false, describe: 'Keep every epoch, not only best and last' })
    .option('limit', { type: 'number', describe: 'Use at most N images per split (quick trials)' })
    .option('json', { type: 'boolean', default: false, describe: 'Print the result as JSON on stdout' })
    .example('$0 --data ~/oxford-iiit-pet --preset model5 --out runs/m5', 'the reference study\'s best model')
    .example('$0 --data data/pets-mini --preset model3 --image-size 64 --epochs 5 --out runs/mini', 'a quick run on the sample');
}

type Args = ArgumentsCamelCase<Awaited<ReturnType<typeof builder>['argv']>>;

/** Renders training events on stderr: a progress bar per epoch, then one summary line. */
export function progressPrinter(): (event: TrainEvent) => void {
  const interactive = Boolean(process.stderr.isTTY);
  let bar: cliProgress.SingleBar | undefined;
  const newBar = (format: string) =>
    new cliProgress.SingleBar({ format, stream: process.stderr, hideCursor: interactive, noTTYOutput: !interactive, notTTYSchedule: 10_000, etaBuffer: 20 }, cliProgress.Presets.shades_classic);
  return (event) => {
    switch (event.type) {
      case 'backend':
        describeBackend(event.report).forEach((line) => console.error(line));
        break;
      case 'warning':
        console.error(`warning: ${event.message}`);
        break;
      case 'cache':
        if (!bar) {
          bar = newBar('decoding images |{bar}| {value}/{total} | ETA {eta_formatted}');
          bar.start(event.total, 0);
        }
        bar.update(event.done);
        if (event.done === event.total) {
          bar.stop();
          bar = undefined;
        }
        break;
      case 'dataset':
        console.error(event.splits.summary);
        break;
      case 'micro-batch': {
        const { plan } = event;
        const gib = (plan.wholeBatchBytes / 2 ** 30).toFixed(1);
        if (plan.passes > 1) {
          const why = plan.reason === 'requested' ? 'as requested' : `one pass of the whole batch would need about ${gib} GiB`;
          console.error(`micro-batches: ${plan.passes} passes of up to ${plan.size} images per step, gradients accumulated (${why})`);
        }
        break;
      }
      case 'resume':
        console.error(`resuming after epoch ${event.epoch}`);
        break;
      case 'epoch-start':
        bar = newBar(`epoch ${event.epoch}/${event.epochs} |{bar}| {value}/{total} steps | ETA {eta_formatted} | loss {loss} acc {acc}`);
        bar.start(event.steps, 0, { loss: '-', acc: '-' });
        break;
      case 'step':
        bar?.update(event.step, { loss: event.loss.toFixed(4), acc: event.accuracy.toFixed(4) });
        break;
      case 'epoch-end': {
        bar?.stop();
        bar = undefined;
        const r = event.record;
        console.error(
          `epoch ${r.epoch}: loss ${r.loss.toFixed(4)} acc ${r.accuracy.toFixed(4)} | val_loss ${r.valLoss.toFixed(4)} val_acc ${r.valAccuracy.toFixed(4)} | ${r.seconds.toFixed(1)} s${event.best ? ' | best so far' : ''}`,
        );
        break;
      }
      case 'early-stop':
        console.error(`early stopping after epoch ${event.epoch}: no better validation result for ${event.patience} epochs`);
        break;
      case 'test':
        console.error(`test (best checkpoint): loss ${event.result.loss.toFixed(4)} accuracy ${event.result.accuracy.toFixed(4)} on ${event.result.count} images`);
        break;
    }
  };
}

export async function handler(argv: Args): Promise<void> {
  const result = await train({
    data: argv.data,
    out: argv.out,
    preset: argv.preset,
    backend: argv.backend,
    threads: argv.threads,
    epochs: argv.epochs,
    batchSize: argv.batchSize,
    learningRate: argv.learningRate,
    imageSize: argv.imageSize,
    microBatch: argv.microBatch,
    dropout: argv.dropout,
    augment: argv.augment,
    valFraction: argv.valFraction,
    testFraction: argv.testFraction,
    seed: argv.seed,
    earlyStopping: argv.earlyStopping,
    resume: argv.resume,
    cacheMb: argv.cacheMb,
    keepCheckpoints: argv.keepCheckpoints,
    limit: argv.limit,
    onEvent: progressPrinter(),
  });
  const { history: _history, ...summary } = result;
  if (argv.json) {
    console.log(JSON.stringify({ ...summary, test: result.test && { loss: result.test.loss, accuracy: result.test.accuracy, count: result.test.count } }, null, 2));
  } else {
    console.log(`best checkpoint: epoch ${result.best.epoch} (val_acc ${result.best.valAccuracy.toFixed(4)}) in ${result.runDir}/checkpoints/${result.best.dir}`);
  }
}
