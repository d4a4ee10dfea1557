// exportTfjsModel(): any TensorFlow.js image classifier (a model.json, Layers or graph format, that pets
// did not train) -> one verified .onnx file with the contract from flags or its metadata.json. Like
// exportRun(): written under a temporary name, proven against tfjs with onnxruntime-node, then renamed.
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { chooseBackend, commitTemporary, writeTemporary, type BackendRequest } from '@pets/train';
import { ModelContractError, type ModelContract } from '@pets/runtime/contract';
import { ExportError, VerificationError } from './errors.js';
import { checkVerifyImages, checkWritable, DEFAULT_VERIFY_IMAGES, type ExportEvent } from './export-run.js';
import { foreignContract, readMetadata, type ForeignContractOptions } from './foreign/contract.js';
import { convertTfjsModel } from './foreign/convert.js';
import { foreignVerificationInputs } from './foreign/images.js';
import { disposeTfjsModel, loadTfjsModel, outputWidth } from './foreign/load.js';
import { readTfjsBundle, type TfjsFormat } from './foreign/model-json.js';
import { foreignReference } from './foreign/reference.js';
import { checkOpset, DEFAULT_OPSET } from './onnx/opset.js';
import { describeVerification, verifyAgainst, type VerificationReport } from './verify/verify.js';
import { EXPORTER } from './version.js';

/** Options of exportTfjsModel(); each has a pets-export --tfjs flag of the same name in kebab-case. */
export interface ExportTfjsOptions extends ForeignContractOptions {
  /** model.json of a TensorFlow.js model (Layers or graph), or its folder. */
  tfjs: string;
  /** Output .onnx file. */
  out: string;
  /** The model outputs logits, whatever its last op: a softmax is added. Default false (detected). */
  logits?: boolean;
  /** ONNX opset, MIN_OPSET..MAX_OPSET. Default 17. */
  opset?: number;
  /** float16 weights and compute, float32 input/outputs. Default false. */
  fp16?: boolean;
  /** Fold BatchNormalization into the Conv before it. Default true. */
  foldBatchNorm?: boolean;
  /** Folder of photos to verify on. Default the bundled sample data/pets-mini (random inputs outside the repository). */
  images?: string;
  /** How many images to verify on. Default 8. */
  verifyImages?: number;
  /** tfjs backend for the reference outputs. Default auto. */
  backend?: BackendRequest;
  onEvent?: (event: ExportTfjsEvent) => void;
}

export type ExportTfjsEvent =
  | Exclude<ExportEvent, { type: 'checkpoint' }>
  | { type: 'model'; file: string; format: TfjsFormat; contract: ModelContract; from: 'teachable-machine' | 'flags' };

export interface ExportTfjsResult {
  file: string;
  /** model.json the model was read from. */
  modelJson: string;
  format: TfjsFormat;
  contract: ModelContract;
  bytes: number;
  opCounts: Record<string, number>;
  verification: VerificationReport;
  provenance: Record<string, unknown>;
}

export async function exportTfjsModel(options: ExportTfjsOptions): Promise<ExportTfjsResult> {
  const emit = options.onEvent ?? (() => {});
  const opset = options.opset ?? DEFAULT_OPSET;
  checkOpset(opset);
  const count = options.verifyImages ?? DEFAULT_VERIFY_IMAGES;
  checkVerifyImages(count);
  const fp16 = options.fp16 ?? false;
  const foldBatchNorm = options.foldBatchNorm ?? true;
  const logits = options.logits ?? false;
  const file = resolve(options.out);
  const bundle = await readTfjsBundle(options.tfjs);
  const metadata = await readMetadata(bundle.modelJson);
  await checkWritable(file);
  emit({ type: 'backend', report: await chooseBackend(options.backend ?? 'auto') });
  const loaded = await loadTfjsModel(bundle);
  try {
    const contract = await foreignContract(options, metadata, loaded.inputSize);
    emit({ type: 'model', file: bundle.modelJson, format: bundle.format, contract, from: metadata?.teachableMachine ? 'teachable-machine' : 'flags' });
    const fixed = loaded.inputSize;
    if (fixed && (fixed.height !== contract.imageSize.height || fixed.width !== contract.imageSize.width)) {
      throw new ModelContractError(`The model's input size ${fixed.width}x${fixed.height} does not match the contract's ${contract.imageSize.width}x${contract.imageSize.height}${metadata?.imageSize !== undefined ? ` (imageSize of ${metadata.file})` : ''}; give --image-size ${fixed.width} or fix it.`);
    }
    const width = outputWidth(loaded, contract.imageSize);
    if (width !== contract.labels.length) {
      throw new ExportError(`The model outputs ${width} classes but ${contract.labels.length} labels were given; give one label per output.`);
    }
    const provenance = {
      source: 'tfjs',
      modelJson: bundle.modelJson,
      format: bundle.format,
      bundleSha256: bundle.sha256,
      ...(metadata ? { metadata: metadata.raw } : {}),
      logits,
      exporter: { name: EXPORTER.name, version: EXPORTER.version },
      exportedAt: new Date().toISOString(),
      opset,
      fp16,
      foldBatchNorm,
    };
    const exported = convertTfjsModel(loaded, contract, { opset, fp16, foldBatchNorm, provenance, logits });
    const inputs = await foreignVerificationInputs({ contract, count, images: options.images, onWarning: (message) => emit({ type: 'warning', message }) });
    let tmp: string;
    try {
      tmp = await writeTemporary(file, exported.bytes);
    } catch (error) {
      throw new ExportError(`Cannot write ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`);
    }
    try {
      emit({ type: 'written', file, bytes: exported.bytes.length, fp32Bytes: null });
      const reference = foreignReference(loaded, inputs.x, inputs.shape, logits);
      const verification = await verifyAgainst(reference, { onnx: tmp, inputs, dtype: fp16 ? 'fp16' : 'fp32' });
      const line = describeVerification(verification);
      if (!verification.passed) throw new VerificationError(`${file} was not written: the ONNX model does not match the tfjs model: ${line}.`);
      await commitTemporary(tmp, file);
      emit({ type: 'verified', report: verification, line });
      return { file, modelJson: bundle.modelJson, format: bundle.format, contract, bytes: exported.bytes.length, opCounts: exported.opCounts, verification, provenance };
    } finally {
      await rm(tmp, { force: true });
    }
  } finally {
    disposeTfjsModel(loaded);
  }
}
