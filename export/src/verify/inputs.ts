// The images a verification runs on: evenly spread over the run's test split (the same split training
// made), decoded and preprocessed exactly as training does; seeded random inputs when there is no data.
// int8 calibration reads the run's training images (trainval) the same way.
import { normalize, preprocess } from '@pets/runtime/preprocess';
import { inputShape, type ModelContract } from '@pets/runtime/contract';
import { decodeImage } from '@pets/runtime/node-decode';
import { carveTest, createRng, loadDataset, type DatasetItem } from '@pets/train';
import { ExportError } from '../errors.js';

export interface VerificationInputs {
  /** [n, H, W, 3] model input. */
  x: Float32Array;
  shape: [number, number, number, number];
  /** What the inputs are, for reports: "8 test images from /data/pets" or "8 seeded random inputs". */
  source: string;
}

export interface InputOptions {
  contract: ModelContract;
  /** How many inputs. */
  count: number;
  /** Dataset root, or undefined for random inputs. */
  data?: string;
  /** The dataset was named by the user (--data): failing to read it is an error, not a fallback. */
  dataExplicit?: boolean;
  /** The run's split settings, to carve the same test split from a dataset without one. */
  testFraction: number;
  seed: number;
  /** Which images: the test split (verification, the default) or the training images (calibration). */
  split?: 'test' | 'trainval';
  onWarning?: (message: string) => void;
}

/** Seeded uniform 8-bit-range pixels, normalized as the contract says. */
export function randomInputs(contract: ModelContract, count: number, seed: number): VerificationInputs {
  const shape = inputShape(contract, count);
  const rng = createRng(seed);
  const pixels = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform(0, 255));
  return { x: normalize(pixels, contract), shape, source: `${count} seeded random inputs` };
}

/** Items evenly spread over the list first (so several classes), then the rest as stand-ins. */
function candidates<T>(items: T[], count: number): T[] {
  const n = Math.min(count, items.length);
  const picked = new Set(Array.from({ length: n }, (_, i) => Math.floor((i * items.length) / n)));
  return [...[...picked].map((i) => items[i]), ...items.filter((_, i) => !picked.has(i))];
}

async function testImages(options: InputOptions & { data: string }): Promise<VerificationInputs | string> {
  const dataset = await loadDataset(options.data);
  if (dataset.labels.join('\n') !== options.contract.labels.join('\n')) {
    return `the labels of ${dataset.root} differ from the model's`;
  }
  const split = dataset.test.length > 0 ? dataset : carveTest(dataset, options.testFraction, options.seed);
  const kind = options.split ?? 'test';
  const test = split[kind];
  const what = kind === 'test' ? 'test' : 'training';
  const perImage = inputShape(options.contract, 1).reduce((a, b) => a * b, 1);
  const chosen: { item: DatasetItem; x: Float32Array }[] = [];
  for (const item of candidates(test, options.count)) {
    if (chosen.length === options.count) break;
    try {
      chosen.push({ item, x: preprocess(await decodeImage(item.path), options.contract) });
    } catch (error) {
      options.onWarning?.(`skipping ${item.id} for ${kind === 'test' ? 'verification' : 'calibration'}: ${(error as Error).message}`);
    }
  }
  if (chosen.length === 0) return `no ${what} image of ${dataset.root} could be decoded`;
  const x = new Float32Array(chosen.length * perImage);
  chosen.forEach((c, i) => x.set(c.x, i * perImage));
  return { x, shape: inputShape(options.contract, chosen.length), source: `${chosen.length} ${what} images from ${dataset.root}` };
}

export async function verificationInputs(options: InputOptions): Promise<VerificationInputs> {
  if (options.data !== undefined) {
    let result: VerificationInputs | string;
    try {
      result = await testImages({ ...options, data: options.data });
    } catch (error) {
      if (options.dataExplicit) throw error;
      result = (error as Error).message;
    }
    if (typeof result !== 'string') return result;
    const doing = options.split === 'trainval' ? 'calibrate' : 'verify';
    if (options.dataExplicit) throw new ExportError(`Cannot ${doing} on --data ${options.data}: ${result}.`);
    options.onWarning?.(`${doing === 'verify' ? 'verifying' : 'calibrating'} on random inputs: ${result}`);
  }
  return randomInputs(options.contract, options.count, options.seed);
}
