// Proves an exported file: runs it with onnxruntime-node and the tfjs model on the same inputs, compares
// probabilities and logits, and times ORT on the CPU.
import type { LayersModel } from '@pets/train/tfjs';
import { compareOutputs, type ParityMetrics } from './compare.js';
import type { VerificationInputs } from './inputs.js';
import { openOrtModel } from './ort.js';
import { tfjsReference, type TfjsOutputs } from './tfjs-reference.js';
import type { OutputsMode } from '../onnx/model-head.js';

/**
 * Largest max |Δp| an export may show against tfjs. float16: its rounding of the weights alone moves a
 * 28-layer MobileNet's logits by 0.3-0.7% (relative, measured on the bundled sample), which moves a
 * trained model's probabilities by up to 1.3e-2; shallow models stay under 1e-3.
 */
export const TOLERANCE = { fp32: 1e-5, fp16: 2e-2 } as const;

/**
 * int8 (QDQ, calibrated) is held to its top-1 class instead: at least this share of the verification
 * images must keep the float32 model's top-1; its max |Δp| is reported, not limited (docs/int8.md).
 */
export const INT8_MIN_TOP1_AGREEMENT = 0.98;

export interface VerificationReport extends ParityMetrics {
  /** What the inputs were. */
  source: string;
  /** The max |Δp| limit applied (Infinity for int8, which is held to INT8_MIN_TOP1_AGREEMENT). */
  tolerance: number;
  /** The least top-1 agreement accepted (1 share = every image); 0 for fp32/fp16, held to max |Δp|. */
  minTop1Agreement: number;
  passed: boolean;
  /** Median ORT CPU milliseconds per image, batch 1. */
  ortMsPerImage: number;
}

export interface VerifyArgs {
  /** The tfjs model the file was exported from. */
  model: LayersModel;
  /** Path (or bytes) of the exported ONNX model. */
  onnx: string | Uint8Array;
  inputs: VerificationInputs;
  dtype: 'fp32' | 'fp16' | 'int8';
  /** What the model outputs, as given to exportModel(). Default 'auto'. */
  outputs?: OutputsMode;
}

export async function verifyExport(args: VerifyArgs): Promise<VerificationReport> {
  return verifyAgainst(tfjsReference(args.model, args.inputs.x, args.inputs.shape, args.outputs), args);
}

/**
 * verifyExport() against reference outputs already computed on `inputs`: the check of every exporter
 * (a graph model's reference comes from tfjs-converter's executor, not from a LayersModel).
 */
export async function verifyAgainst(reference: TfjsOutputs, args: Pick<VerifyArgs, 'onnx' | 'inputs' | 'dtype'>): Promise<VerificationReport> {
  const { x, shape, source } = args.inputs;
  const ort = await openOrtModel(args.onnx);
  try {
    const actual = await ort.run(x, shape);
    const metrics = compareOutputs(reference, actual, shape[0]);
    const tolerance = args.dtype === 'int8' ? Infinity : TOLERANCE[args.dtype];
    const minTop1Agreement = args.dtype === 'int8' ? INT8_MIN_TOP1_AGREEMENT : 0;
    const ortMsPerImage = await ort.msPerImage(x, shape);
    const passed = metrics.maxAbsDiff <= tolerance && metrics.top1Agree >= minTop1Agreement * metrics.images;
    return { ...metrics, source, tolerance, minTop1Agreement, passed, ortMsPerImage };
  } finally {
    await ort.release();
  }
}

/** One line for people: "max |Δp| 1.2e-7, mean 3.4e-9, logits rel err 5.6e-7, top-1 8/8 on 8 test images from ...". */
export function describeVerification(report: VerificationReport): string {
  return (
    `max |Δp| ${report.maxAbsDiff.toExponential(2)}${Number.isFinite(report.tolerance) ? ` (limit ${report.tolerance.toExponential(0)})` : ''}, mean |Δp| ${report.meanAbsDiff.toExponential(2)}, ` +
    `max logit rel err ${report.maxLogitRelErr.toExponential(2)}, top-1 agreement ${report.top1Agree}/${report.images}` +
    `${report.minTop1Agreement > 0 ? ` (at least ${report.minTop1Agreement * 100}%)` : ''} on ${report.source}; ` +
    `ORT CPU ${report.ortMsPerImage.toFixed(2)} ms/img`
  );
}
