// A TensorFlow.js model.json on disk, Layers or graph format, with its weight shards read and checked
// against the manifest before tfjs sees them: a foreign file, a missing or cut-off shard is one clear line
// here instead of an error from deep inside tfjs.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ExportError } from '../errors.js';

/** Layers: a Keras topology (tf.loadLayersModel). Graph: a GraphDef from tensorflowjs_converter (tf.loadGraphModel). */
export type TfjsFormat = 'layers' | 'graph';

/** One weightsManifest entry, as the converter writes it. */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number };
}

/** A GraphDef node as model.json stores it (only the parts read here). */
export interface GraphNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, { shape?: { dim?: { size?: string }[] }; type?: string } | undefined>;
}

export interface TfjsBundle {
  /** Absolute path of model.json. */
  modelJson: string;
  format: TfjsFormat;
  /** modelTopology as stored (Keras config, or { node: GraphNode[] }). */
  topology: Record<string, unknown>;
  /** The rest of model.json that loadGraphModel reads (signature, userDefinedMetadata...). */
  extra: Record<string, unknown>;
  weightSpecs: WeightSpec[];
  /** Every shard, concatenated in manifest order. */
  weightData: ArrayBuffer;
  /** SHA-256 of model.json's bytes followed by every shard's, in manifest order (lowercase hex). */
  sha256: string;
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, float16: 2, uint8: 1, uint16: 2, int8: 1, int16: 2, complex64: 8 };
const HINT = 'convert the model with tensorflowjs_converter (--output_format tfjs_layers_model or tfjs_graph_model)';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function weightBytes(spec: WeightSpec, where: string): number {
  if (spec.dtype === 'string') throw new ExportError(`${where}: weight "${spec.name}" is a string tensor; an image classifier's weights are numbers.`);
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  const size = DTYPE_BYTES[dtype];
  if (size === undefined) throw new ExportError(`${where}: weight "${spec.name}" has dtype "${dtype}". Expected one of: ${Object.keys(DTYPE_BYTES).join(', ')}.`);
  return spec.shape.reduce((n, d) => n * d, 1) * size;
}

function detectFormat(json: Record<string, unknown>, where: string): TfjsFormat {
  const topology = json.modelTopology;
  if (!isRecord(topology)) throw new ExportError(`${where} is not a TensorFlow.js model.json (no modelTopology); ${HINT}.`);
  if (json.format === 'graph-model' || Array.isArray(topology.node)) return 'graph';
  if (json.format !== undefined && json.format !== 'layers-model') {
    throw new ExportError(`${where} has format "${String(json.format)}". Expected one of: layers-model, graph-model.`);
  }
  if (isRecord(topology.model_config) || typeof topology.class_name === 'string') return 'layers';
  throw new ExportError(`${where} is not a TensorFlow.js model.json (its modelTopology is neither a Keras model nor a GraphDef); ${HINT}.`);
}

/** model.json itself, or a folder holding one. */
async function modelJsonPath(path: string): Promise<string> {
  const full = resolve(path);
  const info = await stat(full).catch(() => null);
  if (!info) throw new ExportError(`${path} does not exist; give a TensorFlow.js model.json or its folder.`);
  return info.isDirectory() ? join(full, 'model.json') : full;
}

/** Reads model.json and its shards; ExportError for anything that is not a complete tfjs model. */
export async function readTfjsBundle(path: string): Promise<TfjsBundle> {
  const modelJson = await modelJsonPath(path);
  let bytes: Buffer;
  try {
    bytes = await readFile(modelJson);
  } catch (error) {
    throw new ExportError(`Cannot read ${modelJson}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new ExportError(`${modelJson} is not a TensorFlow.js model.json (not JSON: ${(error as Error).message.split('\n')[0]}).`);
  }
  if (!isRecord(json)) throw new ExportError(`${modelJson} is not a TensorFlow.js model.json (not a JSON object); ${HINT}.`);
  const format = detectFormat(json, modelJson);
  const manifest = json.weightsManifest;
  if (!Array.isArray(manifest) || manifest.length === 0) throw new ExportError(`${modelJson} has no weightsManifest, so it carries no weights; ${HINT}.`);
  const weightSpecs: WeightSpec[] = [];
  const parts: Uint8Array[] = [];
  for (const [g, group] of manifest.entries()) {
    const paths = isRecord(group) && Array.isArray(group.paths) ? group.paths : null;
    if (!isRecord(group) || !paths?.every((p) => typeof p === 'string') || !Array.isArray(group.weights)) {
      throw new ExportError(`${modelJson} has a malformed weightsManifest group ${g} (it needs "paths" and "weights"); ${HINT}.`);
    }
    const specs = group.weights as WeightSpec[];
    const expected = specs.reduce((n, w) => n + weightBytes(w, modelJson), 0);
    let size = 0;
    for (const p of paths as string[]) {
      const file = join(dirname(modelJson), p);
      let shard: Uint8Array;
      try {
        shard = await readFile(file);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new ExportError(code === 'ENOENT' ? `Weight shard ${p} of ${modelJson} is missing (${file}); copy every file its weightsManifest names next to it.` : `Cannot read weight shard ${file}: ${code ?? (error as Error).message}.`);
      }
      parts.push(shard);
      size += shard.byteLength;
    }
    if (size !== expected) {
      throw new ExportError(`Weight shards ${(paths as string[]).join(', ')} of ${modelJson} hold ${size} bytes, expected ${expected} from the weightsManifest; the copy is damaged or incomplete.`);
    }
    weightSpecs.push(...specs);
  }
  const weightData = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    weightData.set(p, offset);
    offset += p.byteLength;
  }
  const { modelTopology, weightsManifest, ...extra } = json;
  void weightsManifest;
  const sha256 = createHash('sha256').update(bytes).update(weightData).digest('hex');
  return { modelJson, format, topology: modelTopology as Record<string, unknown>, extra, weightSpecs, weightData: weightData.buffer, sha256 };
}
