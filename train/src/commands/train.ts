// `pets-train [train]`: parse flags, call train(), show progress and results.
/* eslint-disable no-console -- a CLI command prints its results */
import cliProgress from 'cli-progress';
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { BACKEND_NAMES, defaultWasmThreads, describeBackend, type BackendRequest } from '../backend/index.js';
import { DEFAULT_PRESET, PRESET_NAMES, PRESETS, type PresetName } from '../presets.js';
import { NORMALIZATION_NAMES } from '../backbones/index.js';
import { downloadProgressPrinter } from './download-progress.js';
import { datasetDownloadPrinter } from './download.js';
import { parseMd5Overrides } from '../dataset-download/index.js';
import { train, type TrainEvent } from '../train.js';

export const command = ['$0', 'train'];
export const describe = 'Train a classifier on a dataset: a pretrained backbone with a new head, or a reference-study model (default command)';

const defaults = PRESETS[DEFAULT_PRESET];

export function builder(yargs: Argv) {
  return yargs
    .option('data', { type: 'string', demandOption: true, describe: 'Dataset root: Oxford-IIIT Pet layout (annotations/, images/) or one folder per class' })
    .option('download', { type: 'boolean', default: false, describe: 'Download the Oxford-IIIT Pet dataset into --data first when that folder does not exist (as pets-train download)' })
    .option('mirror', { type: 'string', describe: 'With --download: base URL serving images.tar.gz and annotations.tar.gz [the official server]' })
    .option('md5', { type: 'string', describe: 'With --download: md5s of a mirror\'s own archives, images=HEX,annotations=HEX [the official archives\']' })
    .option('out', { type: 'string', demandOption: true, describe: 'Run directory (checkpoints, history, curves, evaluation)' })
    .option('preset', { choices: PRESET_NAMES, default: DEFAULT_PRESET as PresetName, describe: 'mobilenet, darknet: a bundled ImageNet backbone with a new head (transfer learning); model1-5: the reference study from scratch' })
    .option('backbone', { type: 'string', describe: 'Transfer: a known backbone name (pets-train backbones), a model.json path or folder, or an http(s) URL (downloaded once into --cache-dir) [preset: mobilenet_v1_0.75_224 / darknet-tiny]' })
    .option('backbone-layer', { type: 'string', describe: 'Transfer: layer whose output is the features [known backbone: its feature layer; else its last global pooling or feature map]' })
    .option('normalize', { choices: NORMALIZATION_NAMES, describe: 'Transfer: how the backbone expects pixels scaled, when it is not a known one: unit x/255, symmetric x/127.5-1, imagenet mean/std' })
    .option('backbone-sha256', { type: 'string', describe: 'Transfer: sha256 the backbone\'s files (model.json, then shards in manifest order) must have' })
    .option('cache-dir', { type: 'string', describe: 'Transfer: folder for downloaded backbones [PETS_CACHE_DIR, else ~/.cache/pets/backbones]' })
    .option('fine-tune', { type: 'number', describe: 'Transfer: epochs of stage 2, which also trains the top of the backbone (BatchNormalization stays in inference mode) [preset: 0]' })
    .option('fine-tune-lr', { type: 'number', describe: 'Transfer: learning rate of stage 2 [--learning-rate / 10]' })
    .option('mirror-features', { type: 'boolean', describe: 'Transfer head on cached features: also train on each image\'s mirror image, computed once [preset: on]' })
    .option('unfreeze-from', { type: 'string', describe: 'Transfer: first backbone layer stage 2 trains [mobilenet: conv_dw_12; darknet: conv2d_13]' })
    .option('backend', { choices: BACKEND_NAMES, default: 'auto' as BackendRequest, describe: 'TensorFlow.js backend; auto tries node-gpu, node, wasm, cpu' })
    .option('threads', { type: 'number', default: defaultWasmThreads(), describe: 'Threads of the wasm backend (1: its single-threaded build); results do not depend on it' })
    .option('epochs', { type: 'number', describe: `Maximum epochs (transfer: of stage 1, the head on the frozen backbone) [preset: ${defaults.epochs}; model1-5 ${PRESETS.model5.epochs}]` })
    .option('batch-size', { type: 'number', describe: `Images per step [preset: ${defaults.batchSize}]` })
    .option('learning-rate', { type: 'number', describe: 'Adam learning rate [preset: 1e-3; model5 3e-4]' })
    .option('image-size', { type: 'number', describe: `Input side in pixels [transfer: the backbone's; model1-5 ${PRESETS.model5.imageSize}]` })
    .option('micro-batch', {
      type: 'number',
      describe: 'Images per forward/backward pass: batches are split and gradients accumulated (BatchNorm statistics then per pass) [default: the whole batch, split on wasm when it would not fit its 4 GiB heap]',
    })
    .option('dropout', { type: 'number', describe: 'Dropout before the classifier [preset: transfer 0.2; model1-2 0; model3-5 0.5]' })
    .option('augment', { type: 'boolean', describe: 'Augmentation: rotation ±10°, zoom ±10%, brightness ×0.7–1.3, flip [preset: model4-5 on]; transfer heads then run the backbone forward every step instead of caching its features' })
    .option('val-fraction', { type: 'number', default: 0.2, describe: 'Fraction of trainval per class held out for validation' })
    .option('test-fraction', { type: 'number', default: 0.2, describe: 'Test fraction carved out when the dataset has no test split' })
    .option('seed', { type: 'number', default: 42, describe: 'Seed of split, initial weights, shuffle, augmentation, dropout' })
    .option('early-stopping', { type: 'number', default: 0, describe: 'Stop after N epochs without a better validation result (0: off)' })
    .option('resume', { type: 'boolean', default: false, describe: 'Continue the run in --out from its last checkpoint' })
    .option('cache-mb', { type: 'number', default: 2048, describe: 'Memory for decoded pixels (MiB); the rest spills to disk' })
    .option('keep-checkpoints', { type: 'boolean', default: false, describe: 'Keep every epoch, not only best and last' })
    .option('limit', { type: 'number', describe: 'Use at most N images per split (quick trials)' })
    .option('json', { type: 'boolean', default: false, describe: 'Print the result as JSON on stdout' })
    .example('$0 --data ~/oxford-iiit-pet --out runs/mobilenet --fine-tune 5', 'transfer learning on the bundled MobileNet: head, then fine-tuning')
    .example('$0 --data ~/oxford-iiit-pet --backbone https://example.org/web_model/model.json --normalize symmetric --out runs/mine', 'your own Layers model as the backbone')
    .example('$0 --data ~/oxford-iiit-pet --preset model5 --out runs/m5', 'the reference study\'s best model, from scratch')
    .example('$0 --data data/pets-mini --preset model3 --image-size 64 --epochs 5 --out runs/mini', 'a quick run on the sample');
}

type Args = ArgumentsCamelCase<Awaited<ReturnType<typeof builder>['argv']>>;

/** Renders training events on stderr: a progress bar per epoch, then one summary line. */
export function progressPrinter(): (event: TrainEvent) => void {
  const interactive = Boolean(process.stderr.isTTY);
  let bar: cliProgress.SingleBar | undefined;
  const newBar = (format: string) =>
    new cliProgress.SingleBar({ format, stream: process.stderr, hideCursor: interactive, noTTYOutput: !interactive, notTTYSchedule: 10_000, etaBuffer: 20 }, cliProgress.Presets.shades_classic);
  const download = downloadProgressPrinter();
  const datasetDownload = datasetDownloadPrinter();
  /** A bar counting up to `total`, started on the first event and stopped on the last. */
  const count = (format: string, done: number, total: number) => {
    if (!bar) {
      bar = newBar(format);
      bar.start(total, 0);
    }
    bar.update(done);
    if (done === total) {
      bar.stop();
      bar = undefined;
    }
  };
  return (event) => {
    switch (event.type) {
      case 'backend':
        describeBackend(event.report).forEach((line) => console.error(line));
        break;
      case 'warning':
        console.error(`warning: ${event.message}`);
        break;
      case 'download':
        download(event.progress);
        break;
      case 'dataset-download':
        datasetDownload(event.event);
        break;
      case 'backbone':
        console.error(`backbone: ${event.name} (${event.source}, sha256 ${event.sha256.slice(0, 12)}…), cut at "${event.cut}"; ${event.params.toLocaleString('en-US')} parameters in all`);
        break;
      case 'features':
        count('backbone features |{bar}| {value}/{total} images | ETA {eta_formatted}', event.done, event.total);
        break;
      case 'stage':
        if (event.stage !== 'train') {
          const what = event.stage === 'head' ? `the head on the frozen backbone${event.cachedFeatures ? ' (features computed once per image)' : ''}` : 'the head and the top of the backbone';
          console.error(`stage ${event.stage}: epochs ${event.first}-${event.last}, ${what}, learning rate ${event.learningRate}, ${event.trainableParams.toLocaleString('en-US')} trainable parameters`);
        }
        break;
      case 'stage-end':
        if (event.stage !== 'train') console.error(`stage ${event.stage} took ${event.seconds.toFixed(1)} s`);
        break;
      case 'cache':
        count('decoding images |{bar}| {value}/{total} | ETA {eta_formatted}', event.done, event.total);
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
    download: argv.download && { mirror: argv.mirror, md5: argv.md5 === undefined ? undefined : parseMd5Overrides(argv.md5) },
    out: argv.out,
    preset: argv.preset,
    backbone: argv.backbone,
    backboneLayer: argv.backboneLayer,
    normalize: argv.normalize,
    backboneSha256: argv.backboneSha256,
    cacheDir: argv.cacheDir,
    fineTune: argv.fineTune,
    fineTuneLr: argv.fineTuneLr,
    unfreezeFrom: argv.unfreezeFrom,
    mirrorFeatures: argv.mirrorFeatures,
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
    const timings = result.timings.map((t) => `${t.stage} ${t.seconds.toFixed(1)} s`).join(', ');
    console.log(`best checkpoint: epoch ${result.best.epoch} (val_acc ${result.best.valAccuracy.toFixed(4)}) in ${result.runDir}/checkpoints/${result.best.dir}${timings ? ` | time: ${timings}` : ''}`);
  }
}
