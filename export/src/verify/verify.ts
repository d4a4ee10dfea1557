// Proves an exported file: runs it with onnxruntime-node and the tfjs model on the same inputs, compares
// probabilities and logits, and times ORT on the CPU.
import type { LayersModel } from '@pets/train/tfjs';
import { compareOutputs, type ParityMetrics } from './compare.js';
import type { VerificationInputs } from './inputs.js';
import { openOrtModel } from './ort.js';
import { tfjsReference } from './tfjs-reference.js';
import type { OutputsMode } from '../onnx/model-head.js';

/** Largest accepted max |Δp|: float32 models must match tfjs to rounding; float16 weights cost ~1e-3. */
/**
 * Largest max |Δp| an export may show against tfjs. float16: its rounding of the weights alone moves a
 * 28-layer MobileNet's logits by 0.3-0.7% (relative, measured on the bundled sample), which moves a
 * trained model's probabilities by up to 1.3e-2; shallow models stay under 1e-3.
 */
export const TOLERANCE = { fp32: 1e-5, fp16: 2e-2 } as const;

export interface VerificationReport extends ParityMetrics {
  /** What the inputs were. */
  source: string;
  /** The max |Δp| limit applied. */
  tolerance: number;
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
  fp16: boolean;
  /** What the model outputs, as given to exportModel(). Default 'auto'. */
  outputs?: OutputsMode;
}

export async function verifyExport(args: VerifyArgs): Promise<VerificationReport> {
  const { x, shape, source } = args.inputs;
  const reference = tfjsReference(args.model, x, shape, args.outputs);
  const ort = await openOrtModel(args.onnx);
  try {
    const actual = await ort.run(x, shape);
    const metrics = compareOutputs(reference, actual, shape[0]);
    const tolerance = args.fp16 ? TOLERANCE.fp16 : TOLERANCE.fp32;
    const ortMsPerImage = await ort.msPerImage(x, shape);
    return { ...metrics, source, tolerance, passed: metrics.maxAbsDiff <= tolerance, ortMsPerImage };
  } finally {
    await ort.release();
  }
}

/** One line for people: "max |Δp| 1.2e-7, mean 3.4e-9, logits rel err 5.6e-7, top-1 8/8 on 8 test images from ...". */
export function describeVerification(report: VerificationReport): string {
  return (
    `max |Δp| ${report.maxAbsDiff.toExponential(2)} (limit ${report.tolerance.toExponential(0)}), mean |Δp| ${report.meanAbsDiff.toExponential(2)}, ` +
    `max logit rel err ${report.maxLogitRelErr.toExponential(2)}, top-1 agreement ${report.top1Agree}/${report.images} on ${report.source}; ` +
    `ORT CPU ${report.ortMsPerImage.toFixed(2)} ms/img`
  );
}
