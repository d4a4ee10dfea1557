// The input contract of a model pets did not train: from flags, or from the metadata.json a Teachable
// Machine export carries next to model.json (labels, image size, and the normalization its library feeds).
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CROP_MODES, createContract, type CropMode, type ModelContract } from '@pets/runtime/contract';
import { NORMALIZATION_NAMES, parseNormalization } from '@pets/train';
import { ExportError } from '../errors.js';

/**
 * What @teachablemachine/image feeds its models (src/utils/tf.ts, capture()): `x / 127 - 1`, not / 127.5,
 * so 255 becomes 1.00787. See docs/byo-model.md for the crop and resize it does before that
 * (TEACHABLE_MACHINE_CROP).
 */
export const TEACHABLE_MACHINE_NORMALIZATION: ModelContract['normalization'] = Object.freeze({
  scale: 1 / 127, mean: [1, 1, 1], std: [1, 1, 1],
}) as ModelContract['normalization'];

/** @teachablemachine/image's cropTo(): the short side resized to the input size, the center square kept. */
export const TEACHABLE_MACHINE_CROP: CropMode = 'center';

/** @teachablemachine/image's IMAGE_SIZE, used when metadata.json has no imageSize. */
export const TEACHABLE_MACHINE_IMAGE_SIZE = 224;

/** The contract flags of pets-export --tfjs; each overrides what metadata.json says. */
export interface ForeignContractOptions {
  /** Labels in output order, or a file: one per line, or a JSON array. Default metadata.json's. */
  labels?: string[] | string;
  /** Input side in pixels. Default metadata.json's imageSize, else the model's own input size. */
  imageSize?: number;
  /** unit (x/255), symmetric (x/127.5 - 1) or imagenet (mean/std). Required unless metadata.json decides. */
  normalize?: string;
  /** Per-channel mean (1 or 3 numbers) after scaling; overrides --normalize's. */
  mean?: number[];
  /** Per-channel std (1 or 3 numbers); overrides --normalize's. */
  std?: number[];
  /** Scale applied to 8-bit values first; overrides --normalize's. */
  scale?: number;
  /** The region resized: none (the whole image) or center. Default center for Teachable Machine, else none. */
  crop?: CropMode;
}

/** A metadata.json next to model.json, as Teachable Machine writes it (labels, imageSize, packageName...). */
export interface ModelMetadata {
  file: string;
  labels?: string[];
  imageSize?: number;
  teachableMachine: boolean;
  /** The whole object, kept in the export's provenance. */
  raw: Record<string, unknown>;
}

/** Reads metadata.json beside model.json; null when there is none. */
export async function readMetadata(modelJson: string): Promise<ModelMetadata | null> {
  const file = join(dirname(modelJson), 'metadata.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return null;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ExportError(`${file} is not valid JSON (${(error as Error).message.split('\n')[0]}).`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ExportError(`${file} is not a JSON object.`);
  const meta = raw as Record<string, unknown>;
  const labels = Array.isArray(meta.labels) && meta.labels.every((l) => typeof l === 'string') ? (meta.labels as string[]) : undefined;
  const teachableMachine = (typeof meta.packageName === 'string' && meta.packageName.startsWith('@teachablemachine/')) || typeof meta.tmVersion === 'string';
  if (teachableMachine && meta.grayscale === true) throw new ExportError(`${file} describes a grayscale Teachable Machine model; pets models take RGB images.`);
  const imageSize = typeof meta.imageSize === 'number' ? meta.imageSize : undefined;
  return { file, labels, imageSize, teachableMachine, raw: meta };
}

/** Labels from a file: a JSON array, or one label per line (blank lines ignored). */
export async function readLabelsFile(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ExportError(`Cannot read the labels file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`);
  }
  if (text.trimStart().startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new ExportError(`The labels file ${file} starts with "[" but is not a JSON array (${(error as Error).message.split('\n')[0]}).`);
    }
    if (!Array.isArray(parsed) || !parsed.every((l) => typeof l === 'string')) throw new ExportError(`The labels file ${file} must be a JSON array of strings.`);
    return parsed as string[];
  }
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
}

function triple(values: number[] | undefined, flag: string): [number, number, number] | undefined {
  if (values === undefined) return undefined;
  if (!(values.length === 1 || values.length === 3) || !values.every(Number.isFinite)) {
    throw new RangeError(`"${flag}" must be 1 or 3 numbers; got ${JSON.stringify(values)}.`);
  }
  return values.length === 1 ? [values[0], values[0], values[0]] : [values[0], values[1], values[2]];
}

function normalization(options: ForeignContractOptions, metadata: ModelMetadata | null): ModelContract['normalization'] {
  const explicit = options.mean !== undefined || options.std !== undefined || options.scale !== undefined;
  let base: ModelContract['normalization'] | undefined;
  if (options.normalize !== undefined) base = parseNormalization(options.normalize);
  else if (metadata?.teachableMachine) base = { ...TEACHABLE_MACHINE_NORMALIZATION, mean: [1, 1, 1], std: [1, 1, 1] };
  else if (explicit) base = { scale: 1, mean: [0, 0, 0], std: [1, 1, 1] };
  if (!base) {
    throw new ExportError(`The model's normalization is unknown: give --normalize (${NORMALIZATION_NAMES.join(', ')}) or --mean/--std/--scale.`);
  }
  return {
    scale: options.scale ?? base.scale,
    mean: triple(options.mean, 'mean') ?? base.mean,
    std: triple(options.std, 'std') ?? base.std,
  };
}

/**
 * The contract for a foreign model. `modelSize`: the model's own fixed input size, if it has one.
 * Labels and normalization must come from the options or a Teachable Machine metadata.json.
 */
export async function foreignContract(
  options: ForeignContractOptions,
  metadata: ModelMetadata | null,
  modelSize: { height: number; width: number } | null,
): Promise<ModelContract> {
  const labels = typeof options.labels === 'string' ? await readLabelsFile(options.labels) : options.labels ?? metadata?.labels;
  if (!labels) throw new ExportError('The model has no labels: give --labels FILE (one per line, or a JSON array), or put a metadata.json with "labels" next to model.json.');
  const size = options.imageSize ?? metadata?.imageSize ?? (metadata?.teachableMachine ? TEACHABLE_MACHINE_IMAGE_SIZE : undefined);
  const imageSize = size !== undefined ? { height: size, width: size } : modelSize;
  if (!imageSize) throw new ExportError('The model does not fix its input size: give --image-size.');
  if (options.crop !== undefined && !CROP_MODES.includes(options.crop)) {
    throw new RangeError(`"crop" must be one of: ${CROP_MODES.join(', ')}; got ${JSON.stringify(options.crop)}.`);
  }
  const crop = options.crop ?? (metadata?.teachableMachine ? TEACHABLE_MACHINE_CROP : 'none');
  return createContract({ labels, imageSize, normalization: normalization(options, metadata), crop });
}
