// model.json of a TensorFlow.js Layers model: validation, the shard files its weightsManifest names with
// the sizes they must have, and the bundle digest that identifies a backbone's files.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BackboneError } from './errors.js';

/** One weight of a weightsManifest group, as the tfjs converter writes it. */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  /** Stored quantized: each value takes the quantized dtype's size in the shard. */
  quantization?: { dtype: string; scale?: number; min?: number };
}

/** A weightsManifest group: its weights, concatenated in order, split across `paths`. */
export interface WeightGroup {
  paths: string[];
  weights: WeightSpec[];
}

/** The parts of a Layers model.json that loading needs. */
export interface LayersModelJson {
  format?: string;
  modelTopology: Record<string, unknown>;
  weightsManifest: WeightGroup[];
}

/** A shard file of the manifest, in manifest order (groups in order, each group's paths in order). */
export interface ShardSpec {
  /** The path as the manifest writes it, relative to model.json. */
  path: string;
  /** Index of its group in weightsManifest. */
  group: number;
  /** Its exact size when it is its group's only file; a multi-file group is checked as a whole. */
  bytes?: number;
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, float16: 2, uint8: 1, uint16: 2, int8: 1, int16: 2 };
const CONVERT_HINT = 'convert it with tensorflowjs_converter --output_format tfjs_layers_model';

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Bytes one weight takes in its shard: product(shape) times the (quantized) dtype's size. */
export function weightBytes(spec: WeightSpec): number {
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  const size = DTYPE_BYTES[dtype];
  if (size === undefined) throw new BackboneError(`Weight "${spec.name}" has dtype "${dtype}", which a backbone cannot use; expected one of: ${Object.keys(DTYPE_BYTES).join(', ')}.`);
  return spec.shape.reduce((n, d) => n * d, 1) * size;
}

/** Bytes a group's files hold together. */
export function groupBytes(group: WeightGroup): number {
  return group.weights.reduce((n, w) => n + weightBytes(w), 0);
}

function checkWeight(value: unknown, where: string): WeightSpec {
  const ok =
    isRecord(value) &&
    typeof value.name === 'string' &&
    typeof value.dtype === 'string' &&
    Array.isArray(value.shape) &&
    value.shape.every((d) => Number.isInteger(d) && d >= 0) &&
    (value.quantization === undefined || (isRecord(value.quantization) && typeof value.quantization.dtype === 'string'));
  if (!ok) throw new BackboneError(`${where} has a malformed weightsManifest entry (${JSON.stringify(value)?.slice(0, 80)}); ${CONVERT_HINT}.`);
  return value as unknown as WeightSpec;
}

/**
 * Parses and checks a model.json: a TensorFlow.js Layers model with a weights manifest. Graph models,
 * Keras files and other JSON are rejected with what to do instead. `where` names the file in messages.
 */
export function parseModelJson(bytes: Uint8Array | string, where: string): LayersModelJson {
  let json: unknown;
  try {
    json = JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8'));
  } catch (error) {
    throw new BackboneError(`${where} is not valid JSON (${(error as Error).message}); a backbone is a TensorFlow.js Layers model.json.`);
  }
  if (!isRecord(json)) throw new BackboneError(`${where} is not a TensorFlow.js model.json (not a JSON object); ${CONVERT_HINT}.`);
  const topology = json.modelTopology;
  if (json.format === 'graph-model' || (isRecord(topology) && Array.isArray(topology.node))) {
    throw new BackboneError(`${where} is a TensorFlow.js graph model; graph models are not supported as backbones, only Layers models (${CONVERT_HINT}).`);
  }
  if (json.format !== undefined && json.format !== 'layers-model') {
    throw new BackboneError(`${where} has format "${String(json.format)}"; a backbone must be a TensorFlow.js Layers model ("layers-model"); ${CONVERT_HINT}.`);
  }
  if (!isRecord(topology) || !(isRecord(topology.model_config) || typeof topology.class_name === 'string')) {
    throw new BackboneError(`${where} is not a TensorFlow.js Layers model.json (no Keras modelTopology); ${CONVERT_HINT}.`);
  }
  if (!Array.isArray(json.weightsManifest) || json.weightsManifest.length === 0) {
    throw new BackboneError(`${where} has no weightsManifest, so it carries no pretrained weights; a backbone needs them (${CONVERT_HINT}).`);
  }
  const weightsManifest = json.weightsManifest.map((group, i): WeightGroup => {
    const paths = isRecord(group) ? group.paths : undefined;
    if (!isRecord(group) || !Array.isArray(paths) || paths.length === 0 || !paths.every((p) => typeof p === 'string' && p.length > 0) || !Array.isArray(group.weights)) {
      throw new BackboneError(`${where} has a malformed weightsManifest group ${i} (it needs "paths" and "weights"); ${CONVERT_HINT}.`);
    }
    return { paths: paths as string[], weights: group.weights.map((w) => checkWeight(w, where)) };
  });
  return { format: json.format as string | undefined, modelTopology: topology, weightsManifest };
}

/** The shard files in manifest order, with the sizes the manifest implies. */
export function shardSpecs(model: LayersModelJson): ShardSpec[] {
  return model.weightsManifest.flatMap((group, g) => {
    const bytes = group.paths.length === 1 ? groupBytes(group) : undefined;
    return group.paths.map((path) => ({ path, group: g, bytes }));
  });
}

/** A shard on disk: where it is and how big it is. */
export interface ShardFile extends ShardSpec {
  file: string;
  size: number;
}

/** A model.json on disk with its shards, checked: each exists and has the size the manifest implies. */
export interface InspectedBundle {
  modelJson: string;
  jsonBytes: Buffer;
  model: LayersModelJson;
  shards: ShardFile[];
}

/**
 * Reads model.json, validates it and stats every shard (relative to model.json's folder). A shard that is
 * missing or has the wrong size is a BackboneError naming it; nothing reads the weights yet.
 */
export async function inspectBundle(modelJson: string): Promise<InspectedBundle> {
  let jsonBytes: Buffer;
  try {
    jsonBytes = await readFile(modelJson);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new BackboneError(`${modelJson} is missing; pass a model.json file or a folder that holds one.`);
    throw error;
  }
  const model = parseModelJson(jsonBytes, modelJson);
  const dir = dirname(modelJson);
  const shards: ShardFile[] = [];
  for (const spec of shardSpecs(model)) {
    const file = join(dir, spec.path);
    let size: number;
    try {
      const info = await stat(file);
      if (!info.isFile()) throw new BackboneError(`Shard ${spec.path} of ${modelJson} is not a file (${file}).`);
      size = info.size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new BackboneError(`Shard ${spec.path} of ${modelJson} is missing (${file}); copy every file the weightsManifest names next to model.json.`);
      }
      throw error;
    }
    if (spec.bytes !== undefined && size !== spec.bytes) {
      throw new BackboneError(`Shard ${spec.path} of ${modelJson} is ${size} bytes, expected ${spec.bytes} from its weightsManifest; the copy is damaged or incomplete, fetch it again.`);
    }
    shards.push({ ...spec, file, size });
  }
  checkGroupSizes(model, shards, modelJson);
  return { modelJson, jsonBytes, model, shards };
}

/** A group split over several files is checked as a whole: the files' sizes add up to its weights. */
export function checkGroupSizes(model: LayersModelJson, shards: readonly { path: string; group: number; size: number }[], where: string): void {
  model.weightsManifest.forEach((group, g) => {
    if (group.paths.length === 1) return;
    const size = shards.filter((s) => s.group === g).reduce((n, s) => n + s.size, 0);
    const expected = groupBytes(group);
    if (size !== expected) {
      throw new BackboneError(`Shards ${group.paths.join(', ')} of ${where} hold ${size} bytes, expected ${expected} from their weightsManifest group; the copy is damaged or incomplete, fetch it again.`);
    }
  });
}

/**
 * The bundle digest: SHA-256 over the bytes of model.json followed by the bytes of every shard file, in
 * manifest order (weightsManifest groups in order, each group's `paths` in order), with nothing between
 * them. For a folder it equals `cat model.json <shards in manifest order> | sha256sum`. Lowercase hex.
 */
export async function bundleDigest(bundle: InspectedBundle): Promise<string> {
  const hash = createHash('sha256').update(bundle.jsonBytes);
  for (const shard of bundle.shards) {
    for await (const chunk of createReadStream(shard.file)) hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}
