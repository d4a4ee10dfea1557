// One converter test's machinery: a layer stack on an odd-sized image, a linear Dense after it (so the model
// outputs logits and the exporter adds the softmax), random non-trivial weights, then the export in float32
// and float16 against tfjs on the same random inputs, each file through the ONNX checker rules.
import assert from 'node:assert/strict';
import { createContract } from '@pets/runtime/contract';
import { createRng } from '@pets/train';
import { tf, tfl, type LayersModel, type SymbolicTensor } from '@pets/train/tfjs';
import { compareOutputs, decodeModel, exportModel, randomInputs, tfjsReference, TOLERANCE, type ExportModelOptions } from '../src/index.js';
import { runOrt } from './fixtures.js';
import { checkModel, opCounts } from './onnx-checker.js';

export const CLASSES = 4;

/** Weights other than kernels (biases, BatchNorm statistics, gamma/beta, PReLU alpha) moved off their initial values. */
export function randomizeNonKernels(model: LayersModel, seed: number): void {
  const rng = createRng(seed);
  for (const layer of model.layers) {
    const current = layer.getWeights();
    if (current.length === 0) continue;
    const values = current.map((w, i) => {
      const name = layer.weights[i].originalName;
      if (/kernel$/.test(name)) return tf.clone(w);
      const [lo, hi] = name.endsWith('moving_variance') ? [0.3, 3] : name.endsWith('gamma') ? [0.5, 1.5] : [-0.5, 0.5];
      return tf.tensor(Float32Array.from({ length: w.size }, () => rng.uniform(lo, hi)), w.shape);
    });
    layer.setWeights(values);
    tf.dispose(values);
  }
}

export interface LayerCase {
  /** Input image [height, width, 3]: odd sizes catch padding and layout slips. */
  image: [number, number, number];
  /** The layers under test, from the image tensor to any tensor. */
  build: (image: SymbolicTensor) => SymbolicTensor;
  seed?: number;
  /** Export variants besides float32 and float16 with defaults. */
  variants?: ExportModelOptions[];
}

/** The case as a model: its layers, then Flatten (unless already flat) and a linear Dense to CLASSES logits. */
export function caseModel(c: LayerCase): LayersModel {
  const image = tfl.input({ shape: c.image, name: 'image' });
  let x = c.build(image);
  if (x.shape.length > 2) x = tfl.layers.flatten({ name: 'case_flatten' }).apply(x) as SymbolicTensor;
  x = tfl.layers.dense({ units: CLASSES, name: 'case_logits', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }).apply(x) as SymbolicTensor;
  const model = tfl.model({ inputs: image, outputs: x });
  randomizeNonKernels(model, c.seed ?? 7);
  return model;
}

/** Exports the case (float32, float16 and any variants), checks each file, and compares it with tfjs. Returns the float32 op counts. */
export async function assertLayerParity(c: LayerCase): Promise<Record<string, number>> {
  const model = caseModel(c);
  try {
    const [height, width] = c.image;
    const contract = createContract({ labels: Array.from({ length: CLASSES }, (_, i) => `class${i}`), imageSize: { height, width } });
    const inputs = randomInputs(contract, 3, c.seed ?? 7);
    const reference = tfjsReference(model, inputs.x, inputs.shape, 'logits');
    let counts: Record<string, number> = {};
    for (const options of [{}, { fp16: true }, ...(c.variants ?? [])]) {
      const { bytes } = exportModel(model, contract, { ...options, outputs: 'logits' });
      const onnx = decodeModel(bytes);
      checkModel(onnx);
      if (Object.keys(options).length === 0) counts = opCounts(onnx);
      const m = compareOutputs(reference, await runOrt(bytes, inputs), inputs.shape[0]);
      const tolerance = options.fp16 ? TOLERANCE.fp16 : TOLERANCE.fp32;
      const where = JSON.stringify(options);
      assert.ok(m.maxLogitRelErr <= tolerance, `${where}: logits rel err ${m.maxLogitRelErr} > ${tolerance}`);
      assert.ok(m.maxAbsDiff <= tolerance, `${where}: max |Δp| ${m.maxAbsDiff} > ${tolerance}`);
    }
    return counts;
  } finally {
    model.dispose();
  }
}

/** Shorthand for applying a layer in a case. */
export const on = (layer: { apply: (x: SymbolicTensor | SymbolicTensor[]) => unknown }, x: SymbolicTensor | SymbolicTensor[]): SymbolicTensor => layer.apply(x) as SymbolicTensor;
