// exportRun(): a pets-train run directory -> one verified .onnx file carrying its contract and provenance.
// The file is written under a temporary name, proven against the tfjs checkpoint with onnxruntime-node,
// and only then renamed into place; any failure leaves nothing at the output path.
import { constants } from 'node:fs';
import { access, mkdir, readFile, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { chooseBackend, commitTemporary, loadCheckpoint, resolveCheckpoint, writeTemporary, type BackendReport, type BackendRequest, type EpochMetrics, type RunConfig } from '@pets/train';
import { ExportError, VerificationError } from './errors.js';
import { exportModel } from './export-model.js';
import { checkOpset, DEFAULT_OPSET } from './onnx/opset.js';
import { quantizeModel } from './quantize/quantize-model.js';
import { verificationInputs } from './verify/inputs.js';
import { describeVerification, verifyExport, type VerificationReport } from './verify/verify.js';
import { EXPORTER } from './version.js';

/** Options of exportRun(); each has a pets-export flag of the same name in kebab-case. */
export interface ExportRunOptions {
  /** Run directory written by pets-train. */
  run: string;
  /** Output .onnx file. */
  out: string;
  /** best, last or epoch-N. Default best. */
  checkpoint?: string;
  /** ONNX opset, MIN_OPSET..MAX_OPSET. Default 17. */
  opset?: number;
  /** Weights and compute: fp32, fp16 (float32 input/outputs) or int8 (QDQ, calibrated). Default fp32. */
  dtype?: Dtype;
  /** Same as dtype 'fp16' (kept for existing callers). Default false. */
  fp16?: boolean;
  /** int8: training images of the run the activation ranges are calibrated on. Default 64. */
  calibrationImages?: number;
  /** Fold BatchNormalization into the Conv before it. Default true. */
  foldBatchNorm?: boolean;
  /** Inputs to verify on (test images, or seeded random inputs without data). Default 8. */
  verifyImages?: number;
  /** Dataset for the verification images. Default the one the run trained on (its config.json). */
  data?: string;
  /** tfjs backend for the reference outputs. Default auto. */
  backend?: BackendRequest;
  onEvent?: (event: ExportEvent) => void;
}

export type ExportEvent =
  | { type: 'backend'; report: BackendReport }
  | { type: 'warning'; message: string }
  | { type: 'checkpoint'; dir: string; epoch: number; valAccuracy: number }
  | { type: 'calibrating'; stage: 'calibration' | 'bias correction'; done: number; total: number; source: string }
  | { type: 'written'; file: string; bytes: number; fp32Bytes: number | null }
  | { type: 'verified'; report: VerificationReport; line: string };

export interface ExportRunResult {
  runDir: string;
  /** The checkpoint asked for (best, last, epoch-N) and the directory it resolved to. */
  checkpoint: string;
  checkpointDir: string;
  epoch: number;
  metrics: EpochMetrics;
  file: string;
  /** Size of the written file. */
  bytes: number;
  dtype: Dtype;
  /** With fp16 or int8: the size the float32 model would have. */
  fp32Bytes: number | null;
  opCounts: Record<string, number>;
  verification: VerificationReport;
  provenance: Record<string, unknown>;
}

export const DEFAULT_VERIFY_IMAGES = 8;
export const DEFAULT_CALIBRATION_IMAGES = 64;
export const DTYPES = ['fp32', 'fp16', 'int8'] as const;
export type Dtype = (typeof DTYPES)[number];

/** The dtype asked for, from dtype and its older alias fp16. */
export function resolveDtype(options: { dtype?: string; fp16?: boolean }): Dtype {
  if (options.dtype !== undefined && !(DTYPES as readonly string[]).includes(options.dtype)) {
    throw new RangeError(`Unsupported dtype "${options.dtype}". Expected one of: ${DTYPES.join(', ')}.`);
  }
  if (options.fp16 && options.dtype !== undefined && options.dtype !== 'fp16') {
    throw new RangeError(`"fp16" must be false when "dtype" is ${options.dtype} (fp16 is the same as dtype fp16); give one of them.`);
  }
  return (options.dtype as Dtype | undefined) ?? (options.fp16 ? 'fp16' : 'fp32');
}

function fsReason(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}

async function readRunConfig(runDir: string): Promise<RunConfig> {
  const info = await stat(runDir).catch(() => null);
  if (!info?.isDirectory()) throw new ExportError(`Run directory ${runDir} does not exist.`);
  try {
    return JSON.parse(await readFile(join(runDir, 'config.json'), 'utf8')) as RunConfig;
  } catch (error) {
    throw new ExportError(`${runDir} is not a pets-train run (cannot read config.json: ${fsReason(error)}).`);
  }
}

/** Fails early, before any work, when the output cannot be written. */
export async function checkWritable(file: string): Promise<void> {
  const info = await stat(file).catch(() => null);
  if (info?.isDirectory()) throw new ExportError(`Output ${file} is a directory; give a file name such as ${join(file, 'model.onnx')}.`);
  try {
    await mkdir(dirname(file), { recursive: true });
    await access(dirname(file), constants.W_OK);
  } catch (error) {
    throw new ExportError(`Cannot write ${file}: ${fsReason(error)}.`);
  }
}

export function checkVerifyImages(count: number): void {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`"verifyImages" must be a positive integer; got ${count}.`);
}

export async function exportRun(options: ExportRunOptions): Promise<ExportRunResult> {
  const emit = options.onEvent ?? (() => {});
  const opset = options.opset ?? DEFAULT_OPSET;
  checkOpset(opset);
  const count = options.verifyImages ?? DEFAULT_VERIFY_IMAGES;
  checkVerifyImages(count);
  const dtype = resolveDtype(options);
  const fp16 = dtype === 'fp16';
  const calibrationImages = options.calibrationImages ?? DEFAULT_CALIBRATION_IMAGES;
  if (!Number.isInteger(calibrationImages) || calibrationImages < 1) throw new RangeError(`"calibrationImages" must be a positive integer; got ${calibrationImages}.`);
  const foldBatchNorm = options.foldBatchNorm ?? true;
  const which = options.checkpoint ?? 'best';
  const runDir = resolve(options.run);
  const file = resolve(options.out);
  const config = await readRunConfig(runDir);
  await checkWritable(file);
  emit({ type: 'backend', report: await chooseBackend(options.backend ?? 'auto') });
  const checkpointDir = await resolveCheckpoint(runDir, which);
  const { model, contract, info, optimizerWeights } = await loadCheckpoint(checkpointDir);
  optimizerWeights.forEach((w) => w.tensor.dispose());
  try {
    emit({ type: 'checkpoint', dir: checkpointDir, epoch: info.epoch, valAccuracy: info.metrics.valAccuracy });
    const provenance = {
      sourceRun: runDir,
      checkpoint: which,
      checkpointDir: relative(runDir, checkpointDir),
      weightsSha256: info.weightsSha256,
      epoch: info.epoch,
      metrics: info.metrics,
      preset: config.preset,
      // Transfer runs: the pretrained backbone the model starts from, as resolved when it trained.
      ...(config.transfer ? { backbone: { spec: config.transfer.backbone, sha256: config.transfer.backboneSha256, layer: config.transfer.backboneLayer } } : {}),
      trainBackend: info.backend,
      checkpointCreatedAt: info.createdAt,
      exporter: { name: EXPORTER.name, version: EXPORTER.version },
      exportedAt: new Date().toISOString(),
      opset,
      fp16,
      dtype,
      foldBatchNorm,
    };
    const exported = exportModel(model, contract, { opset, fp16, foldBatchNorm, provenance });
    const fp32Bytes = fp16 ? exportModel(model, contract, { opset, foldBatchNorm }).bytes.length : dtype === 'int8' ? exported.bytes.length : null;
    const imageOptions = {
      contract,
      data: options.data ?? config.data,
      dataExplicit: options.data !== undefined,
      testFraction: config.testFraction ?? 0.2,
      seed: config.seed ?? 42,
      onWarning: (message: string) => emit({ type: 'warning', message }),
    };
    const inputs = await verificationInputs({ ...imageOptions, count });
    if (dtype === 'int8') {
      const calibration = await verificationInputs({ ...imageOptions, count: calibrationImages, split: 'trainval' });
      const quantized = await quantizeModel(exported.bytes, {
        x: calibration.x, shape: calibration.shape,
        onProgress: (stage, done, total) => emit({ type: 'calibrating', stage, done, total, source: calibration.source }),
      });
      exported.bytes = quantized.bytes;
      exported.opCounts = quantized.opCounts;
    }
    let tmp: string;
    try {
      tmp = await writeTemporary(file, exported.bytes);
    } catch (error) {
      throw new ExportError(`Cannot write ${file}: ${fsReason(error)}.`);
    }
    try {
      emit({ type: 'written', file, bytes: exported.bytes.length, fp32Bytes });
      const verification = await verifyExport({ model, onnx: tmp, inputs, dtype });
      const line = describeVerification(verification);
      if (!verification.passed) {
        throw new VerificationError(`${file} was not written: the ONNX model does not match the tfjs checkpoint: ${line}.`);
      }
      await commitTemporary(tmp, file);
      emit({ type: 'verified', report: verification, line });
      return {
        runDir, checkpoint: which, checkpointDir, epoch: info.epoch, metrics: info.metrics, file, dtype,
        bytes: exported.bytes.length, fp32Bytes, opCounts: exported.opCounts, verification, provenance,
      };
    } finally {
      await rm(tmp, { force: true });
    }
  } finally {
    model.dispose();
  }
}

/** The file name a run gets in an output directory: the run directory's name. */
export function fileNameForRun(runDir: string): string {
  return `${basename(resolve(runDir))}.onnx`;
}
