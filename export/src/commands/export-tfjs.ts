// pets-export --tfjs: the flags of a foreign TensorFlow.js model and the handler that calls exportTfjsModel().
/* eslint-disable no-console -- a CLI command prints its results */
import { describeBackend, NORMALIZATION_NAMES, type BackendRequest } from '@pets/train';
import { CROP_MODES, type CropMode } from '@pets/runtime/contract';
import { UsageError } from '@pets/runtime/cli-errors';
import type { Options } from 'yargs';
import { resolveDtype } from '../export-run.js';
import { exportTfjsModel, type ExportTfjsEvent } from '../export-tfjs.js';
import { displayPath, formatBytes } from '../summary-table.js';

/** Flags of the --tfjs mode; --out, --opset, --fp16, --fold-bn, --verify-images, --backend and --json are shared with --run. */
export const TFJS_OPTIONS = {
  tfjs: { type: 'string', describe: 'Export this TensorFlow.js model.json (Layers or graph format, or its folder) instead of a pets-train run' },
  labels: { type: 'string', describe: '--tfjs: labels file, one per line or a JSON array [default: metadata.json\'s]' },
  'image-size': { type: 'number', describe: '--tfjs: input side in pixels [default: metadata.json\'s, else the model\'s input size]' },
  normalize: { type: 'string', choices: NORMALIZATION_NAMES, describe: '--tfjs: unit (x/255), symmetric (x/127.5-1), imagenet (mean/std) [default: Teachable Machine\'s x/127-1 from metadata.json]' },
  mean: { type: 'number', array: true, describe: '--tfjs: per-channel mean after scaling (1 or 3 numbers), overrides --normalize' },
  std: { type: 'number', array: true, describe: '--tfjs: per-channel std (1 or 3 numbers), overrides --normalize' },
  scale: { type: 'number', describe: '--tfjs: factor for 8-bit values before mean/std, overrides --normalize' },
  crop: { type: 'string', choices: CROP_MODES, describe: '--tfjs: resize the whole image (none) or its center region of the input\'s aspect ratio (center) [default: center for Teachable Machine, else none]' },
  logits: { type: 'boolean', default: false, describe: '--tfjs: the model outputs logits (a softmax is added) [default: detected from its last op]' },
  images: { type: 'string', describe: '--tfjs: folder of photos to verify on [default: the bundled data/pets-mini]' },
} as const satisfies Record<string, Options>;

/** Exactly one of --run and --tfjs; the run-only flags only with --run. */
export function checkMode(argv: { run?: unknown; tfjs?: unknown; data?: unknown; dtype?: unknown }): true {
  if ((argv.run === undefined) === (argv.tfjs === undefined)) throw new UsageError('Give either --run (pets-train runs) or --tfjs (a TensorFlow.js model.json), not both or neither.');
  if (argv.tfjs !== undefined && argv.dtype === 'int8') throw new UsageError('--dtype int8 calibrates on the training images of a pets-train run: use it with --run (with --tfjs, use fp32 or fp16).');
  if (argv.tfjs !== undefined && argv.data !== undefined) throw new UsageError('--data is for --run; give --images FOLDER to verify a --tfjs model on your photos.');
  return true;
}

interface TfjsArgs {
  tfjs?: string;
  out: string;
  labels?: string;
  imageSize?: number;
  normalize?: string;
  mean?: number[];
  std?: number[];
  scale?: number;
  crop?: CropMode;
  logits: boolean;
  images?: string;
  opset: number;
  dtype?: string;
  fp16: boolean;
  foldBn: boolean;
  verifyImages: number;
  backend: BackendRequest;
  json: boolean;
}

function printEvent(event: ExportTfjsEvent): void {
  switch (event.type) {
    case 'backend':
      describeBackend(event.report).forEach((line) => console.error(line));
      break;
    case 'warning':
      console.error(`warning: ${event.message}`);
      break;
    case 'model': {
      const { contract } = event;
      const n = contract.normalization;
      const from = event.from === 'teachable-machine' ? 'Teachable Machine metadata.json' : 'flags';
      console.error(`${displayPath(event.file)}: ${event.format} model, ${contract.labels.length} labels, ${contract.imageSize.width}x${contract.imageSize.height}, x = (p * ${n.scale.toPrecision(6)} - [${n.mean.join(', ')}]) / [${n.std.join(', ')}], crop ${contract.crop ?? 'none'} (contract from ${from})`);
      break;
    }
    case 'written':
      console.error(`wrote ${formatBytes(event.bytes)}, verifying...`);
      break;
    case 'verified':
      console.error(`verified: ${event.line}`);
      break;
  }
}

export async function tfjsHandler(argv: TfjsArgs): Promise<void> {
  const dtype = resolveDtype(argv);
  const result = await exportTfjsModel({
    tfjs: argv.tfjs as string,
    out: argv.out,
    labels: argv.labels,
    imageSize: argv.imageSize,
    normalize: argv.normalize,
    mean: argv.mean,
    std: argv.std,
    scale: argv.scale,
    crop: argv.crop,
    logits: argv.logits,
    images: argv.images,
    opset: argv.opset,
    fp16: dtype === 'fp16',
    foldBatchNorm: argv.foldBn,
    verifyImages: argv.verifyImages,
    backend: argv.backend,
    onEvent: printEvent,
  });
  if (argv.json) {
    const { file, modelJson, format, contract, bytes, opCounts, verification } = result;
    console.log(JSON.stringify({ file, modelJson, format, contract, bytes, opCounts, verification }, null, 2));
  } else {
    console.log(`${displayPath(result.file)}: ${result.format} model, ${result.contract.labels.length} classes, ${formatBytes(result.bytes)}, max |Δp| ${result.verification.maxAbsDiff.toExponential(2)} vs tfjs`);
  }
}
