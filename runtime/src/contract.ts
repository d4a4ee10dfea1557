// The model's input contract: the single source of truth for what a pets model expects.
// Pure data and validation. Imports no runtime, no tfjs and nothing from `node:`, so that train, export,
// the Node runtime and the browser runtime all read and check the same object.

/** Version of the contract format; bumped when a field changes meaning. */
export const CONTRACT_VERSION = 1;

/** Image side the reference study trains at, used when no size is given. */
export const DEFAULT_IMAGE_SIZE = 224;

/** Names in an exported ONNX model: its NHWC float32 input, its probabilities and pre-softmax logits. */
export const ONNX_NAMES = { input: 'image', probabilities: 'probabilities', logits: 'logits' } as const;

/** ONNX metadata_props keys: the contract as JSON, and where the model came from as JSON. */
export const ONNX_METADATA_KEYS = { contract: 'pets.contract', provenance: 'pets.provenance' } as const;

/** Resampling methods the shared preprocessing implements (see preprocess.ts). */
export const RESIZE_METHODS = ['bilinear-antialias'] as const;
export type ResizeMethod = (typeof RESIZE_METHODS)[number];

/**
 * What part of the image is resized to imageSize: `none`, the whole image (aspect ratio not kept);
 * `center`, the largest centered region with the input's aspect ratio, as Teachable Machine's cropTo()
 * draws it (see resizeGeometry()).
 */
export const CROP_MODES = ['none', 'center'] as const;
export type CropMode = (typeof CROP_MODES)[number];

/** What the model is fed for one image, and how to read its output. */
export interface ModelContract {
  /** Contract format version: CONTRACT_VERSION. */
  version: number;
  /** Model input height and width in pixels. */
  imageSize: { height: number; width: number };
  /** Tensor layout of the model input; [batch, height, width, channels]. */
  layout: 'NHWC';
  /** Channel order of the model input. */
  channelOrder: 'RGB';
  /**
   * Per-channel normalization applied to 8-bit sRGB values p in [0, 255]:
   * x = (p * scale - mean[c]) / std[c].
   */
  normalization: { scale: number; mean: [number, number, number]; std: [number, number, number] };
  /** Resampling from the decoded image to imageSize. */
  resize: ResizeMethod;
  /**
   * The region resized (see resizeGeometry()). Optional: absent means `none`, so contracts written before
   * the field existed keep their meaning (the contract version is unchanged).
   */
  crop?: CropMode;
  /** Images with alpha are composited over this 8-bit RGB colour before anything else. */
  alphaBackground: [number, number, number];
  /** EXIF orientation is applied when decoding. */
  exifOrientation: 'apply';
  /**
   * Embedded ICC colour profiles are ignored: samples are used as stored, as the browser's
   * createImageBitmap(..., { colorSpaceConversion: 'none' }) gives them, so that Node and browsers
   * agree without depending on two colour-management engines. CMYK (and YCCK) samples, which have no
   * RGB without a profile, are converted as Chromium does: read as Adobe-inverted CMYK, each channel
   * iX * iK / 255 truncated, i.e. floor((255 - C) * (255 - K) / 255) in ink terms (cmyk.ts).
   */
  colorProfile: 'ignore';
  /** Class labels in output index order. */
  labels: string[];
}

/** Raised when a contract is missing, malformed, or does not fit the model it travels with. */
export class ModelContractError extends Error {
  override name = 'ModelContractError';
}

/** Options for createContract(); everything but labels has the reference study's default. */
export interface ContractOptions {
  /** Class labels in output index order (from the dataset, never a hard-coded list). */
  labels: string[];
  /** Input side in pixels, or height/width. Default DEFAULT_IMAGE_SIZE. */
  imageSize?: number | { height: number; width: number };
  /** Normalization; default scale 1/255, mean 0, std 1 (the reference study's rescale=1./255). */
  normalization?: ModelContract['normalization'];
  /** Alpha background; default white. */
  alphaBackground?: [number, number, number];
  /** The region resized; default `none` (the whole image), left out of the contract then. */
  crop?: CropMode;
}

export function createContract(options: ContractOptions): ModelContract {
  const size = options.imageSize ?? DEFAULT_IMAGE_SIZE;
  const imageSize = typeof size === 'number' ? { height: size, width: size } : { ...size };
  return validateContract({
    version: CONTRACT_VERSION,
    imageSize,
    layout: 'NHWC',
    channelOrder: 'RGB',
    normalization: options.normalization ?? { scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1] },
    resize: 'bilinear-antialias',
    ...(options.crop !== undefined && options.crop !== 'none' ? { crop: options.crop } : {}),
    alphaBackground: options.alphaBackground ?? [255, 255, 255],
    exifOrientation: 'apply',
    colorProfile: 'ignore',
    labels: [...options.labels],
  });
}

function fail(message: string): never {
  throw new ModelContractError(message);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkTriple(value: unknown, field: string, check: (x: number) => boolean, what: string): [number, number, number] {
  if (!Array.isArray(value) || value.length !== 3 || !value.every((x) => typeof x === 'number' && check(x))) {
    fail(`Contract field "${field}" must be 3 ${what}; got ${JSON.stringify(value)}.`);
  }
  return [value[0], value[1], value[2]];
}

function checkSide(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 8192) {
    fail(`Contract field "${field}" must be an integer in [1, 8192]; got ${JSON.stringify(value)}.`);
  }
  return value;
}

/** Checks an unknown value (parsed JSON) and returns it as a ModelContract, or throws ModelContractError. */
export function validateContract(value: unknown): ModelContract {
  if (!isRecord(value)) fail(`A model contract must be an object; got ${JSON.stringify(value)}.`);
  if (value.version !== CONTRACT_VERSION) {
    fail(`Unsupported contract version ${JSON.stringify(value.version)}. Expected ${CONTRACT_VERSION}.`);
  }
  const size = value.imageSize;
  if (!isRecord(size)) fail('Contract field "imageSize" must be { height, width }.');
  const imageSize = { height: checkSide(size.height, 'imageSize.height'), width: checkSide(size.width, 'imageSize.width') };
  if (value.layout !== 'NHWC') fail(`Unsupported layout ${JSON.stringify(value.layout)}. Expected one of: NHWC.`);
  if (value.channelOrder !== 'RGB') {
    fail(`Unsupported channel order ${JSON.stringify(value.channelOrder)}. Expected one of: RGB.`);
  }
  const norm = value.normalization;
  if (!isRecord(norm) || typeof norm.scale !== 'number' || !(norm.scale > 0) || !Number.isFinite(norm.scale)) {
    fail('Contract field "normalization" must be { scale > 0, mean: [3], std: [3] }.');
  }
  const mean = checkTriple(norm.mean, 'normalization.mean', Number.isFinite, 'finite numbers');
  const std = checkTriple(norm.std, 'normalization.std', (x) => Number.isFinite(x) && x > 0, 'positive numbers');
  if (!RESIZE_METHODS.includes(value.resize as ResizeMethod)) {
    fail(`Unsupported resize method ${JSON.stringify(value.resize)}. Expected one of: ${RESIZE_METHODS.join(', ')}.`);
  }
  if (value.crop !== undefined && !CROP_MODES.includes(value.crop as CropMode)) {
    fail(`Unsupported crop ${JSON.stringify(value.crop)}. Expected one of: ${CROP_MODES.join(', ')}.`);
  }
  const alphaBackground = checkTriple(
    value.alphaBackground,
    'alphaBackground',
    (x) => Number.isInteger(x) && x >= 0 && x <= 255,
    'integers in [0, 255]',
  );
  if (value.exifOrientation !== 'apply') {
    fail(`Unsupported exifOrientation ${JSON.stringify(value.exifOrientation)}. Expected one of: apply.`);
  }
  if (value.colorProfile !== 'ignore') {
    fail(`Unsupported colorProfile ${JSON.stringify(value.colorProfile)}. Expected one of: ignore.`);
  }
  const labels = value.labels;
  if (!Array.isArray(labels) || labels.length < 2 || !labels.every((l) => typeof l === 'string' && l.length > 0)) {
    fail('Contract field "labels" must list at least 2 non-empty names.');
  }
  if (new Set(labels).size !== labels.length) fail('Contract field "labels" has duplicate names.');
  return {
    version: CONTRACT_VERSION,
    imageSize,
    layout: 'NHWC',
    channelOrder: 'RGB',
    normalization: { scale: norm.scale, mean, std },
    resize: value.resize as ResizeMethod,
    ...(value.crop !== undefined ? { crop: value.crop as CropMode } : {}),
    alphaBackground,
    exifOrientation: 'apply',
    colorProfile: 'ignore',
    labels: [...(labels as string[])],
  };
}

/** Parses a contract from JSON text (as stored next to checkpoints and in ONNX metadata). */
export function parseContract(json: string): ModelContract {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new ModelContractError(`Model contract is not valid JSON: ${(error as Error).message}`);
  }
  return validateContract(value);
}

export function serializeContract(contract: ModelContract): string {
  return `${JSON.stringify(validateContract(contract), null, 2)}\n`;
}

/** Shape of the model input for a batch of n images. */
export function inputShape(contract: ModelContract, batch: number): [number, number, number, number] {
  return [batch, contract.imageSize.height, contract.imageSize.width, 3];
}

/**
 * Where a width x height image lands when resized under the contract: it is resampled to
 * drawWidth x drawHeight and the input is that picture's columns [left, left + imageSize.width) and
 * rows [top, top + imageSize.height). `crop: 'none'`: the whole image at the input size. `crop: 'center'`:
 * Teachable Machine's cropTo() (@teachablemachine/image 0.8.5, src/utils/canvas.ts) to the letter, for a
 * square input: scale = size / min(w, h), drawn at ceil(w * scale) x ceil(h * scale), offset by
 * floor(dx / 2), floor(dy / 2) (so an odd excess puts the extra column or row on the right or bottom).
 * A non-square input scales by the larger of the two ratios, the same rule.
 */
export function resizeGeometry(
  contract: Pick<ModelContract, 'imageSize' | 'crop'>,
  width: number,
  height: number,
): { drawWidth: number; drawHeight: number; left: number; top: number } {
  const { width: outW, height: outH } = contract.imageSize;
  if ((contract.crop ?? 'none') === 'none') return { drawWidth: outW, drawHeight: outH, left: 0, top: 0 };
  // For a square input this is size / Math.min(width, height), the same float as cropTo()'s.
  const scale = outW / width >= outH / height ? outW / width : outH / height;
  const drawWidth = Math.max(outW, Math.ceil(width * scale));
  const drawHeight = Math.max(outH, Math.ceil(height * scale));
  return { drawWidth, drawHeight, left: Math.floor((drawWidth - outW) / 2), top: Math.floor((drawHeight - outH) / 2) };
}

/** Throws ModelContractError when a model's output width does not match the contract's label count. */
export function checkOutputWidth(contract: ModelContract, outputWidth: number): void {
  if (outputWidth !== contract.labels.length) {
    fail(`Model outputs ${outputWidth} classes but its contract lists ${contract.labels.length} labels.`);
  }
}
