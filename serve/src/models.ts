// The models a server holds: `--model` specs parsed (path, name=path, name@version=path), one runtime
// classifier each, and what the protocol's metadata says about them.
import { basename } from 'node:path';
import { createClassifier, type NodeClassifier, type NodeProvider } from '@pets/runtime';
import { ONNX_NAMES, serializeContract } from '@pets/runtime/contract';
import { ServeError } from './errors.js';

/** One model to serve. */
export interface ModelSpec {
  /** URL name: the file name without .onnx unless given. */
  name: string;
  /** Version string; "1" unless given. */
  version: string;
  path: string;
}

const NAME = /^[A-Za-z0-9_.-]+$/;

/** Parses `PATH`, `NAME=PATH` or `NAME@VERSION=PATH`. */
export function parseModelSpec(spec: string): ModelSpec {
  const eq = spec.indexOf('=');
  const path = eq < 0 ? spec : spec.slice(eq + 1);
  const id = eq < 0 ? basename(spec).replace(/\.onnx$/i, '') : spec.slice(0, eq);
  const [name, version = '1'] = id.split('@');
  if (!path) throw new RangeError(`"--model ${spec}" has no path. Expected PATH, NAME=PATH or NAME@VERSION=PATH.`);
  if (!NAME.test(name) || !NAME.test(version)) {
    throw new RangeError(`"--model ${spec}": a model name and version may hold only letters, digits, "_", "." and "-"; got name "${name}", version "${version}".`);
  }
  return { name, version, path };
}

/** An OIP $metadata_tensor. */
export interface TensorMetadata {
  name: string;
  datatype: string;
  shape: number[];
}

export interface LoadedModel extends ModelSpec {
  classifier: NodeClassifier;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
  /** The model's input contract, byte for byte as pets-export embedded it (`pets.contract`). */
  contractJson: string;
}

/** Options every model's classifier is created with. */
export interface EngineOptions {
  executionProviders?: 'auto' | NodeProvider[];
  threads?: number;
  maxBatch?: number;
  maxPixels?: number;
  maxBytes?: number;
  /** Told each inference run's size once the model has loaded. */
  onBatch?: (model: string, size: number) => void;
}

async function loadModel(spec: ModelSpec, engine: EngineOptions): Promise<LoadedModel> {
  let loaded = false;
  const { onBatch, ...options } = engine;
  const classifier = await createClassifier({ ...options, model: spec.path, onBatch: (size) => loaded && onBatch?.(spec.name, size) });
  const { height, width } = classifier.info.inputSize;
  const classes = classifier.info.labels.length;
  // One blank image tells whether the model exports logits besides probabilities (pets-export writes
  // both; a model from elsewhere may not), and warms the session up before the first request.
  const [probe] = await classifier.infer(new Float32Array(height * width * 3));
  const outputs: TensorMetadata[] = [{ name: ONNX_NAMES.probabilities, datatype: 'FP32', shape: [-1, classes] }];
  if (probe.logits) outputs.push({ name: ONNX_NAMES.logits, datatype: 'FP32', shape: [-1, classes] });
  loaded = true;
  return {
    ...spec,
    classifier,
    inputs: [{ name: ONNX_NAMES.input, datatype: 'FP32', shape: [-1, height, width, 3] }],
    outputs,
    contractJson: serializeContract(classifier.info.contract),
  };
}

const byVersion = (a: string, b: string) => (/^\d+$/.test(a) && /^\d+$/.test(b) ? Number(a) - Number(b) : a.localeCompare(b));

export class ModelRegistry {
  private constructor(private readonly byName: Map<string, LoadedModel[]>) {}

  /** Loads every model (one at a time: each session takes the cores while it initializes). */
  static async load(specs: ModelSpec[], engine: EngineOptions): Promise<ModelRegistry> {
    if (specs.length === 0) throw new RangeError('Give at least one model: --model PATH.onnx');
    const byName = new Map<string, LoadedModel[]>();
    const seen = new Set<string>();
    for (const spec of specs) {
      const key = `${spec.name}@${spec.version}`;
      if (seen.has(key)) throw new RangeError(`Model "${spec.name}" version ${spec.version} is given twice; name one with --model NAME@VERSION=PATH.`);
      seen.add(key);
    }
    try {
      for (const spec of specs) {
        const model = await loadModel(spec, engine);
        byName.set(spec.name, [...(byName.get(spec.name) ?? []), model].sort((a, b) => byVersion(a.version, b.version)));
      }
    } catch (error) {
      await Promise.all([...byName.values()].flat().map((m) => m.classifier.dispose()));
      throw error;
    }
    return new ModelRegistry(byName);
  }

  /** Every model, by name then version. */
  all(): LoadedModel[] {
    return [...this.byName.values()].flat();
  }

  /** Versions of a model, oldest first. */
  versions(name: string): string[] {
    return (this.byName.get(name) ?? []).map((m) => m.version);
  }

  /** The model, its given version or else its highest; 404 when either is unknown. */
  get(name: string, version?: string): LoadedModel {
    const versions = this.byName.get(name);
    if (!versions) throw new ServeError(404, `Unknown model "${name}". Loaded: ${[...this.byName.keys()].join(', ')}.`);
    if (version === undefined) return versions[versions.length - 1];
    const model = versions.find((m) => m.version === version);
    if (!model) throw new ServeError(404, `Model "${name}" has no version "${version}". Versions: ${versions.map((m) => m.version).join(', ')}.`);
    return model;
  }

  async dispose(): Promise<void> {
    await Promise.all(this.all().map((m) => m.classifier.dispose()));
  }
}
