// What the export tests share: repository paths, preset models with random or briefly trained weights, the
// bundled backbones with pets' head, and running a model in tfjs and onnxruntime-node on the same inputs.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createContract, type ModelContract } from '@pets/runtime/contract';
import { buildModel, chooseBackend, createRng, loadDataset, logitsModel, PRESETS, trainStep, type PresetName } from '@pets/train';
import { tf, tfl, type io, type LayersModel, type SymbolicTensor, type Variable } from '@pets/train/tfjs';
import * as ort from 'onnxruntime-node';
import { compareOutputs, randomInputs, tfjsReference, type ParityMetrics, type VerificationInputs } from '../src/index.js';

function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'data', 'pets-mini'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('Cannot find the repository root (data/pets-mini) above the tests.');
    dir = parent;
  }
  return dir;
}

export const REPO_ROOT = findRepoRoot();
export const PETS_MINI = join(REPO_ROOT, 'data', 'pets-mini');

/** The tfjs backend every export test uses (train's chooser; wasm on CI machines). */
export async function ready(): Promise<void> {
  await chooseBackend('wasm');
}

/** The 37 labels of the bundled sample, so that real test images can be fed to the models. */
export async function sampleLabels(): Promise<string[]> {
  return (await loadDataset(PETS_MINI)).labels;
}

export function contractFor(labels: string[], imageSize: number): ModelContract {
  return createContract({ labels, imageSize });
}

export function presetModel(preset: PresetName, imageSize: number, classes: number, seed = 1): LayersModel {
  const p = PRESETS[preset];
  return buildModel({ architecture: p.architecture, dropout: p.dropout, imageSize, numClasses: classes, seed });
}

/**
 * Moves BatchNormalization statistics and affine parameters away from their initial 1/0, so that folding
 * them (or not) changes real numbers.
 */
export function randomizeBatchNorm(model: LayersModel, seed = 5): void {
  const rng = createRng(seed);
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const values = layer.weights.map((w) => {
      const n = w.shape.reduce((a, b) => (a as number) * (b as number), 1) as number;
      const variance = w.originalName.endsWith('moving_variance');
      return tf.tensor(Float32Array.from({ length: n }, () => (variance ? rng.uniform(0.3, 3) : rng.uniform(-0.8, 0.8))), w.shape as number[]);
    });
    layer.setWeights(values);
    tf.dispose(values);
  }
}

/** A few Adam steps on random data, like training does (BatchNorm statistics move too). */
export function briefTraining(model: LayersModel, steps = 3, batchSize = 8, seed = 9): void {
  const logits = logitsModel(model);
  const optimizer = tf.train.adam(3e-3);
  const variables = logits.trainableWeights.map((w) => w.read() as Variable);
  const [, h, w, c] = model.inputs[0].shape as number[];
  const classes = (model.outputs[0].shape as number[])[1];
  const rng = createRng(seed);
  for (let s = 0; s < steps; s++) {
    const x = Float32Array.from({ length: batchSize * h * w * c }, () => rng.uniform(0, 1));
    const labels = Int32Array.from({ length: batchSize }, () => rng.int(classes));
    trainStep(logits, optimizer, variables, { x, shape: [batchSize, h, w, c], labels }, classes);
  }
  optimizer.dispose();
}

export async function runOrt(bytes: Uint8Array, inputs: VerificationInputs, sessionOptions: ort.InferenceSession.SessionOptions = {}) {
  const session = await ort.InferenceSession.create(bytes, sessionOptions);
  try {
    const out = await session.run({ image: new ort.Tensor('float32', inputs.x, inputs.shape) });
    return { probabilities: out.probabilities.data as Float32Array, logits: out.logits.data as Float32Array };
  } finally {
    await session.release();
  }
}

/** tfjs vs onnxruntime-node on the same inputs. */
export async function parity(model: LayersModel, bytes: Uint8Array, inputs: VerificationInputs): Promise<ParityMetrics> {
  return compareOutputs(tfjsReference(model, inputs.x, inputs.shape), await runOrt(bytes, inputs), inputs.shape[0]);
}

export { randomInputs };

/** The feature layer pets cuts each bundled backbone at (data/backbones/<name>/PROVENANCE.md). */
export const BACKBONE_CUTS = { 'mobilenet_v1_0.75_224': 'conv_pw_13_relu', 'darknet-tiny': 'leaky_re_lu_15' } as const;
export type BackboneName = keyof typeof BACKBONE_CUTS;

/** A bundled backbone with its ImageNet weights, read from data/backbones/<name>/ (model.json and every shard). */
export async function loadBackbone(name: BackboneName): Promise<LayersModel> {
  const dir = join(REPO_ROOT, 'data', 'backbones', name);
  const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: io.WeightsManifestEntry[] }[];
  };
  // Shards in manifest order hold the weights in manifest order: one buffer decodes them all.
  const shards = await Promise.all(json.weightsManifest.flatMap((group) => group.paths).map((path) => readFile(join(dir, path))));
  const weightData = new Uint8Array(Buffer.concat(shards)).buffer;
  const weightSpecs = json.weightsManifest.flatMap((group) => group.weights);
  return tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData }));
}

/**
 * A backbone cut at `cut`, then pets' head (train/src/presets.ts names): GlobalAveragePooling2D, Dropout,
 * Dense logits and a softmax, as one flat model. `logitScale` multiplies the Dense kernel, so that the
 * probabilities are far from uniform and a difference in them shows.
 */
export function transferModel(backbone: LayersModel, cut: string, classes: number, logitScale = 1, seed = 3): LayersModel {
  const trunk = tfl.model({ inputs: backbone.inputs, outputs: backbone.getLayer(cut).output as SymbolicTensor });
  let x = tfl.layers.globalAveragePooling2d({ name: 'head_pool' }).apply(trunk.outputs[0]) as SymbolicTensor;
  x = tfl.layers.dropout({ rate: 0.2, name: 'head_dropout' }).apply(x) as SymbolicTensor;
  const dense = tfl.layers.dense({ units: classes, name: 'logits', kernelInitializer: tfl.initializers.glorotUniform({ seed }) });
  x = dense.apply(x) as SymbolicTensor;
  x = tfl.layers.activation({ activation: 'softmax', name: 'probs' }).apply(x) as SymbolicTensor;
  const model = tfl.model({ inputs: trunk.inputs, outputs: x });
  if (logitScale !== 1) {
    const scaled = dense.getWeights().map((w, i) => (i === 0 ? tf.mul(w, logitScale) : tf.clone(w)));
    dense.setWeights(scaled);
    tf.dispose(scaled);
  }
  return model;
}
