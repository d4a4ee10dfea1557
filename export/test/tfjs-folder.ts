// Saving a tfjs model the way tensorflowjs_converter and the browser downloads do: model.json beside its
// weight shard, for tests of pets-export --tfjs.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tf, type LayersModel } from '@pets/train/tfjs';

/** Writes model.json and one shard (`shard`) into dir; returns the model.json path. */
export async function saveTfjsFolder(model: LayersModel, dir: string, shard = 'group1-shard1of1.bin'): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'model.json');
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    const json = {
      modelTopology: artifacts.modelTopology, format: 'layers-model', generatedBy: artifacts.generatedBy, convertedBy: null,
      weightsManifest: [{ paths: [shard], weights: artifacts.weightSpecs }],
    };
    await writeFile(file, JSON.stringify(json));
    await writeFile(join(dir, shard), new Uint8Array(artifacts.weightData as ArrayBuffer));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  return file;
}

/** Writes a graph model.json (format graph-model) from GraphDef nodes and float32/int32 constants. */
export async function saveGraphFolder(dir: string, nodes: object[], weights: { name: string; shape: number[]; dtype: 'float32' | 'int32'; values: number[] }[]): Promise<string> {
  await mkdir(dir, { recursive: true });
  const bytes = Buffer.concat(weights.map((w) => Buffer.from((w.dtype === 'int32' ? Int32Array.from(w.values) : Float32Array.from(w.values)).buffer)));
  await writeFile(join(dir, 'group1-shard1of1.bin'), bytes);
  const json = {
    format: 'graph-model', generatedBy: '2.15.0', convertedBy: 'TensorFlow.js Converter v4.22.0',
    modelTopology: { node: nodes, library: {}, versions: { producer: 1482 } },
    weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: weights.map(({ name, shape, dtype }) => ({ name, shape, dtype })) }],
  };
  const file = join(dir, 'model.json');
  await writeFile(file, JSON.stringify(json));
  return file;
}
