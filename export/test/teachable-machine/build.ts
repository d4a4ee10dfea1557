// A Teachable Machine image model built as @teachablemachine/image 0.8.5 builds one (src/custom-mobilenet.ts
// loadTruncatedMobileNet, src/teachable-mobilenet.ts train): MobileNet v1 cut at conv_pw_13_relu inside a
// Sequential with GlobalAveragePooling2D, then a Sequential head Dense(100, relu) -> Dense(classes, softmax,
// no bias), trained with Adam on the truncated model's features; saved as the site saves it: model.json,
// weights.bin and metadata.json. The library itself cannot run here (it pins tfjs 1.3.1 and downloads
// MobileNet); the bundled MobileNet v1 0.75 stands in for its 0.25 default.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createContract } from '@pets/runtime/contract';
import { decodeImage } from '@pets/runtime/node-decode';
import { preprocess } from '@pets/runtime/preprocess';
import { tf, tfl, type LayersModel, type SymbolicTensor, type Tensor } from '@pets/train/tfjs';
import { TEACHABLE_MACHINE_NORMALIZATION } from '../../src/foreign/contract.js';
import { loadBackbone, PETS_MINI } from '../fixtures.js';
import { saveTfjsFolder } from '../tfjs-folder.js';

export const TM_LABELS = ['Abyssinian', 'Bengal', 'beagle'];

/** metadata.json as the Teachable Machine site writes it (fields of the library's Metadata interface). */
export function tmMetadata(labels = TM_LABELS, imageSize = 224): Record<string, unknown> {
  return {
    tfjsVersion: '1.3.1', tmVersion: '2.4.10', packageVersion: '0.8.5', packageName: '@teachablemachine/image',
    timeStamp: '2026-01-01T00:00:00.000Z', userMetadata: {}, modelName: 'tm-my-image-model', labels, imageSize,
  };
}

async function features(truncated: LayersModel, files: string[]): Promise<Tensor> {
  const contract = createContract({ labels: TM_LABELS, imageSize: 224, normalization: TEACHABLE_MACHINE_NORMALIZATION });
  const xs = await Promise.all(files.map(async (f) => preprocess(await decodeImage(f), contract)));
  return tf.tidy(() => truncated.predict(tf.stack(xs.map((x) => tf.tensor3d(x, [224, 224, 3])))) as Tensor);
}

/** Builds, trains (a few epochs on 4 photos per class of the bundled sample) and saves a TM model into `dir`. */
export async function buildTeachableMachineModel(dir: string): Promise<LayersModel> {
  const mobilenet = await loadBackbone('mobilenet_v1_0.75_224');
  const cut = tfl.model({ inputs: mobilenet.inputs, outputs: mobilenet.getLayer('conv_pw_13_relu').output as SymbolicTensor });
  const truncated = tfl.sequential();
  truncated.add(cut);
  truncated.add(tfl.layers.globalAveragePooling2d({}));
  const init = () => tfl.initializers.varianceScaling({ seed: 3.14 });
  const head = tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [768], units: 100, activation: 'relu', kernelInitializer: init(), useBias: true }),
      tfl.layers.dense({ kernelInitializer: init(), useBias: false, activation: 'softmax', units: TM_LABELS.length }),
    ],
  });
  head.compile({ optimizer: tf.train.adam(0.001), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const files = TM_LABELS.flatMap((label) => [1, 2, 3, 4].map((i) => ({ label, i })));
  const { readdir } = await import('node:fs/promises');
  const all = (await readdir(join(PETS_MINI, 'images'))).sort();
  const chosen = files.map(({ label, i }) => join(PETS_MINI, 'images', all.filter((f) => f.startsWith(`${label}_`))[i]));
  const x = await features(truncated, chosen);
  const y = tf.oneHot(tf.tensor1d(files.map(({ label }) => TM_LABELS.indexOf(label)), 'int32'), TM_LABELS.length);
  await head.fit(x, y, { epochs: 20, batchSize: 16, shuffle: false, verbose: 0 });
  tf.dispose([x, y]);
  const joint = tfl.sequential();
  joint.add(truncated);
  joint.add(head);
  await saveTfjsFolder(joint, dir, 'weights.bin');
  await writeFile(join(dir, 'metadata.json'), JSON.stringify(tmMetadata()));
  return joint;
}
