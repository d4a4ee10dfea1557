// The images a foreign export is verified on: a folder of photos (--images), else the bundled sample
// data/pets-mini when this runs inside the repository, else seeded random inputs. Decoded and
// preprocessed by the runtime's own code, as the exported model will be fed.
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inputShape, type ModelContract } from '@pets/runtime/contract';
import { decodeImage } from '@pets/runtime/node-decode';
import { preprocess } from '@pets/runtime/preprocess';
import { ExportError } from '../errors.js';
import { randomInputs, type VerificationInputs } from '../verify/inputs.js';

const IMAGE_FILE = /\.(jpe?g|png|webp|gif|avif|tiff?|bmp)$/i;

/** data/pets-mini/images, found by walking up from this file; undefined outside the repository. */
export function bundledSampleImages(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'data', 'pets-mini', 'images');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Image files of a folder, sorted, `count` of them spread evenly over the list (so several classes). */
export async function listImages(dir: string, count: number): Promise<string[]> {
  const info = await stat(dir).catch(() => null);
  if (!info?.isDirectory()) throw new ExportError(`--images ${dir} is not a folder of images.`);
  const files = (await readdir(dir)).filter((f) => IMAGE_FILE.test(f)).sort();
  if (files.length === 0) throw new ExportError(`--images ${dir} holds no image files (.jpg, .png, .webp, ...).`);
  const n = Math.min(count, files.length);
  const picked = Array.from({ length: n }, (_, i) => files[Math.floor((i * files.length) / n)]);
  return [...picked, ...files.filter((f) => !picked.includes(f))].map((f) => join(dir, f));
}

export interface ImageInputOptions {
  contract: ModelContract;
  count: number;
  /** Folder of photos; default the bundled sample. */
  images?: string;
  onWarning?: (message: string) => void;
}

export async function foreignVerificationInputs(options: ImageInputOptions): Promise<VerificationInputs> {
  const dir = options.images ?? bundledSampleImages();
  if (dir === undefined) {
    options.onWarning?.('verifying on random inputs: no --images folder, and the bundled sample is not here');
    return randomInputs(options.contract, options.count, 42);
  }
  const per = inputShape(options.contract, 1).reduce((a, b) => a * b, 1);
  const chosen: Float32Array[] = [];
  for (const file of await listImages(dir, options.count)) {
    if (chosen.length === options.count) break;
    try {
      chosen.push(preprocess(await decodeImage(file), options.contract));
    } catch (error) {
      options.onWarning?.(`skipping ${file} for verification: ${(error as Error).message}`);
    }
  }
  if (chosen.length === 0) throw new ExportError(`No image of ${dir} could be decoded for verification.`);
  const x = new Float32Array(chosen.length * per);
  chosen.forEach((c, i) => x.set(c, i * per));
  return { x, shape: inputShape(options.contract, chosen.length), source: `${chosen.length} images from ${dir}` };
}
