// A checked tfjs bundle into a live tfjs model (Layers or graph), and the facts about its input and output
// that the contract and the exporter need, refused in one line when it is not a one-image classifier.
import { tf, tfl, type LayersModel, type Tensor } from '@pets/train/tfjs';
import { ExportError } from '../errors.js';
import { loadGraphModel, type GraphModel } from '../graph/index.js';
import type { GraphNode, TfjsBundle } from './model-json.js';

export type LoadedTfjsModel =
  | { format: 'layers'; model: LayersModel; inputSize: { height: number; width: number } | null }
  | { format: 'graph'; model: GraphModel; inputSize: { height: number; width: number } | null };

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0];
}

/** [N, H, W, 3] with fixed H and W gives the size; free H or W gives null; anything else is refused. */
function imageInput(shape: readonly (number | null)[], dtype: string, name: string, where: string): { height: number; width: number } | null {
  if (dtype !== 'float32') throw new ExportError(`${where}: input "${name}" is ${dtype}, not an image; a pets model takes one float32 [N, H, W, 3] image input.`);
  if (shape.length !== 4 || shape[3] !== 3) {
    throw new ExportError(`${where}: input "${name}" has shape ${JSON.stringify(shape)}, not an RGB image batch; a pets model takes one float32 [N, H, W, 3] image input.`);
  }
  const [, h, w] = shape;
  return h !== null && w !== null && h > 0 && w > 0 ? { height: h, width: w } : null;
}

function graphInputs(bundle: TfjsBundle): GraphNode[] {
  return ((bundle.topology.node ?? []) as GraphNode[]).filter((n) => n.op === 'Placeholder');
}

/** Loads the model with tfjs; ExportError when it has more than one input or a non-image input. */
export async function loadTfjsModel(bundle: TfjsBundle): Promise<LoadedTfjsModel> {
  const where = bundle.modelJson;
  const artifacts = { modelTopology: bundle.topology, weightSpecs: bundle.weightSpecs as tf.io.WeightsManifestEntry[], weightData: bundle.weightData };
  if (bundle.format === 'graph') {
    const inputs = graphInputs(bundle);
    if (inputs.length !== 1) throw new ExportError(`${where} has ${inputs.length} inputs (${inputs.map((n) => n.name).join(', ')}); a pets model has one image input.`);
    const dims = inputs[0].attr?.shape?.shape?.dim ?? [];
    const shape = dims.map((d) => (d.size === undefined || Number(d.size) < 0 ? null : Number(d.size)));
    const dtype = inputs[0].attr?.dtype?.type === 'DT_FLOAT' ? 'float32' : String(inputs[0].attr?.dtype?.type ?? 'unknown');
    const inputSize = imageInput(shape, dtype, inputs[0].name, where);
    try {
      const model = await loadGraphModel(tf.io.fromMemory({ ...bundle.extra, ...artifacts }));
      return { format: 'graph', model, inputSize };
    } catch (error) {
      throw new ExportError(`TensorFlow.js ${tf.version_core} cannot load the graph model ${where}: ${firstLine(error)}.`);
    }
  }
  let model: LayersModel;
  try {
    model = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (error) {
    throw new ExportError(`TensorFlow.js ${tf.version_core} cannot build the Layers model ${where}: ${firstLine(error)}.`);
  }
  try {
    if (model.inputs.length !== 1) throw new ExportError(`${where} has ${model.inputs.length} inputs (${model.inputs.map((i) => i.name).join(', ')}); a pets model has one image input.`);
    const input = model.inputs[0];
    return { format: 'layers', model, inputSize: imageInput(input.shape, input.dtype, input.name, where) };
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/** The model's output width, found by running it once on zeros (graph models keep output shapes implicit). */
export function outputWidth(loaded: LoadedTfjsModel, size: { height: number; width: number }): number {
  return tf.tidy(() => {
    const x = tf.zeros([1, size.height, size.width, 3]);
    const out = (loaded.format === 'layers' ? loaded.model.predict(x) : loaded.model.predict(x)) as Tensor | Tensor[];
    const first = Array.isArray(out) ? out : [out];
    if (first.length !== 1 || first[0].shape.length !== 2) {
      throw new ExportError(`The model's output is ${first.map((t) => JSON.stringify(t.shape)).join(', ')}, not one [N, classes] tensor; pets exports image classifiers.`);
    }
    return first[0].shape[1];
  });
}

export function disposeTfjsModel(loaded: LoadedTfjsModel): void {
  loaded.model.dispose();
}
