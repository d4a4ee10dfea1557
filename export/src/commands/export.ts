// `pets-export`: parse flags, call exportRuns(), report each step on stderr and the ranking on stdout.
/* eslint-disable no-console -- a CLI command prints its results */
import { relative } from 'node:path';
import { BACKEND_NAMES, describeBackend, type BackendRequest } from '@pets/train';
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { ExportError } from '../errors.js';
import { DEFAULT_CALIBRATION_IMAGES, DEFAULT_VERIFY_IMAGES, DTYPES, type ExportEvent } from '../export-run.js';
import { exportRuns } from '../export-runs.js';
import { DEFAULT_OPSET, MAX_OPSET, MIN_OPSET } from '../onnx/opset.js';
import { displayPath, formatBytes, formatMetric, formatSummary } from '../summary-table.js';
import { TOLERANCE } from '../verify/verify.js';
import { TRITON_CLI_OPTIONS, writeTritonModels } from '../triton/cli-options.js';
import { describeError } from '@pets/runtime/cli-errors';
import { EXPORT_USER_ERRORS } from './errors.js';
import { checkMode, TFJS_OPTIONS, tfjsHandler } from './export-tfjs.js';

export const command = '$0';
export const describe = 'Export pets-train checkpoints, or any TensorFlow.js image classifier (--tfjs), to ONNX, verified against tfjs';

export function builder(yargs: Argv) {
  return yargs
    .option('run', { type: 'string', array: true, describe: 'Run directory written by pets-train; repeat it or use a glob (runs/*) for several' })
    .option('out', { type: 'string', demandOption: true, describe: 'Output .onnx file; with several runs, a directory (files are named after the run directories)' })
    .options(TFJS_OPTIONS)
    .check(checkMode)
    .option('checkpoint', { type: 'string', default: 'best', describe: 'best, last or epoch-N' })
    .option('opset', { type: 'number', default: DEFAULT_OPSET, describe: `ONNX opset, ${MIN_OPSET}-${MAX_OPSET}` })
    .option('dtype', { choices: DTYPES, describe: 'Weights and compute: fp32; fp16 (half the size; input and outputs stay float32); int8 (QDQ, activations calibrated, a quarter of the size) [default: fp32]' })
    .option('fp16', { type: 'boolean', default: false, describe: 'Same as --dtype fp16' })
    .option('calibration-images', { type: 'number', default: DEFAULT_CALIBRATION_IMAGES, describe: 'int8: training images of the run the activation ranges are calibrated on' })
    .option('fold-bn', { type: 'boolean', default: true, describe: 'Fold BatchNormalization into the Conv before it (--no-fold-bn keeps BatchNormalization nodes)' })
    .option('verify-images', { type: 'number', default: DEFAULT_VERIFY_IMAGES, describe: `Test images the export is verified on (max |Δp| ${TOLERANCE.fp32.toExponential()}, fp16 ${TOLERANCE.fp16.toExponential()})` })
    .option('data', { type: 'string', describe: 'Dataset for the verification images [default: the one the run trained on]' })
    .option('backend', { choices: BACKEND_NAMES, default: 'auto' as BackendRequest, describe: 'TensorFlow.js backend for the reference outputs' })
    .option('json', { type: 'boolean', default: false, describe: 'Print the results as JSON on stdout' })
    .options(TRITON_CLI_OPTIONS)
    .example('$0 --run runs/m5 --out models/m5.onnx', 'export the best checkpoint of one run')
    .example('$0 --run "runs/*" --out models/ --fp16', 'every run, ranked by validation accuracy, as float16 models')
    .example('$0 --run runs/m5 --out models/m5.onnx --triton-repo triton/', 'and a Triton model repository serving it (docs/triton.md)')
    .example('$0 --tfjs tm-model/model.json --out tm.onnx', 'a Teachable Machine export (labels, size, normalization from its metadata.json)')
    .example('$0 --tfjs web_model/ --labels labels.txt --normalize imagenet --out model.onnx', 'any TensorFlow.js Layers or graph model');
}

type Args = ArgumentsCamelCase<Awaited<ReturnType<typeof builder>['argv']>>;

/** Renders export events on stderr, prefixed with the run when there are several. */
function eventPrinter(): (run: string, event: ExportEvent) => void {
  let backendShown = false;
  return (run, event) => {
    const name = displayPath(run);
    switch (event.type) {
      case 'backend':
        if (!backendShown) describeBackend(event.report).forEach((line) => console.error(line));
        backendShown = true;
        break;
      case 'warning':
        console.error(`${name}: warning: ${event.message}`);
        break;
      case 'calibrating':
        if (event.stage === 'calibration' && event.done === event.total) console.error(`${name}: calibrated int8 ranges on ${event.source}`);
        if (event.stage === 'bias correction') process.stderr.write(`\r${name}: int8 bias correction, layer ${event.done}/${event.total}${event.done === event.total ? '\n' : ''}`);
        break;
      case 'checkpoint':
        console.error(`${name}: ${relative(run, event.dir)} (epoch ${event.epoch}, val_acc ${formatMetric(event.valAccuracy)})`);
        break;
      case 'written': {
        const fp32 = event.fp32Bytes === null ? '' : ` (float32 would be ${formatBytes(event.fp32Bytes)})`;
        console.error(`${name}: wrote ${formatBytes(event.bytes)}${fp32}, verifying...`);
        break;
      }
      case 'verified':
        console.error(`${name}: verified: ${event.line}`);
        break;
    }
  };
}

export async function handler(argv: Args): Promise<void> {
  if (argv.tfjs !== undefined) {
    await tfjsHandler(argv);
    return;
  }
  const result = await exportRuns({
    runs: argv.run as string[],
    out: argv.out,
    checkpoint: argv.checkpoint,
    opset: argv.opset,
    dtype: argv.dtype,
    fp16: argv.fp16,
    calibrationImages: argv.calibrationImages,
    foldBatchNorm: argv.foldBn,
    verifyImages: argv.verifyImages,
    data: argv.data,
    backend: argv.backend,
    onEvent: eventPrinter(),
  });
  if (argv.json) {
    const failures = result.failures.map((f) => ({ run: f.run, error: f.error.name, message: f.error.message }));
    console.log(JSON.stringify({ ranking: result.ranking, failures }, null, 2));
  } else {
    console.log(formatSummary(result));
  }
  for (const f of result.failures) console.error(`${displayPath(f.run)}: failed: ${describeError(f.error, EXPORT_USER_ERRORS)}`);
  const triton = await writeTritonModels(result.ranking.map((r) => r.file), argv);
  for (const f of triton) console.error(`${displayPath(f.file)}: triton: failed: ${describeError(f.error, EXPORT_USER_ERRORS)}`);
  if (triton.length > 0) throw new ExportError(`${triton.length} of ${result.ranking.length} models were not written to the Triton repository.`);
  if (result.failures.length > 0) {
    throw new ExportError(`${result.failures.length} of ${result.failures.length + result.ranking.length} runs failed to export.`);
  }
}
