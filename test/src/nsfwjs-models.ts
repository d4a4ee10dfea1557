// The three image classifiers the nsfwjs npm package (MIT, Infinite Red; docs/byo-model.md) ships inside
// JavaScript wrappers (browserify bundles whose module.exports is the model.json object, or a shard's bytes
// as base64), unpacked into ordinary TensorFlow.js model folders: model.json, shards, labels.txt.
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

export interface NsfwjsModel {
  /** The folder under nsfwjs/dist/models/. */
  name: 'mobilenet_v2' | 'mobilenet_v2_mid' | 'inception_v3';
  /** What nsfwjs calls it. */
  title: string;
  format: 'layers' | 'graph';
  /** nsfwjs' input size (its load() options). */
  imageSize: number;
}

export const NSFWJS_MODELS: readonly NsfwjsModel[] = [
  { name: 'mobilenet_v2', title: 'MobileNetV2', format: 'layers', imageSize: 224 },
  { name: 'mobilenet_v2_mid', title: 'MobileNetV2Mid', format: 'graph', imageSize: 224 },
  { name: 'inception_v3', title: 'InceptionV3', format: 'layers', imageSize: 299 },
];

/** nsfwjs' NSFW_CLASSES, in output order; nsfwjs feeds every model x / 255 (its core.ts). */
export const NSFWJS_LABELS = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'];

/** The installed package's folder (its "exports" hide package.json, so it is found from ./core). */
export const NSFWJS_ROOT = join(dirname(require.resolve('nsfwjs/core')), '..', '..');
export const NSFWJS_VERSION = (JSON.parse(readFileSync(join(NSFWJS_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** Writes model.json, its shards and labels.txt into `dir`; returns the model.json path. */
export async function unpackNsfwjsModel(model: NsfwjsModel, dir: string): Promise<string> {
  const base = join(NSFWJS_ROOT, 'dist', 'models', model.name);
  const json = require(join(base, 'model.min.js')) as { weightsManifest: { paths: string[] }[] };
  await mkdir(dir, { recursive: true });
  for (const path of json.weightsManifest.flatMap((g) => g.paths)) {
    const base64 = require(join(base, `${path}.min.js`)) as string;
    await writeFile(join(dir, path), Buffer.from(base64, 'base64'));
  }
  const file = join(dir, 'model.json');
  await writeFile(file, JSON.stringify(json));
  await writeFile(join(dir, 'labels.txt'), `${NSFWJS_LABELS.join('\n')}\n`);
  return file;
}
