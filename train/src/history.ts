// history.json: one record per finished epoch, rewritten atomically after each; a resumed run continues it.
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './util/atomic.js';

/** Loss and accuracy of one epoch, on the training batches and on the validation split. */
export interface EpochMetrics {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss: number;
  valAccuracy: number;
}

/** An epoch's metrics plus what it cost. */
export interface EpochRecord extends EpochMetrics {
  /** Wall-clock seconds of the epoch (training and validation). */
  seconds: number;
  /** Learning rate used. */
  learningRate: number;
  /** Transfer runs: the stage the epoch belongs to (head, fine-tune). */
  stage?: string;
}

export async function readHistory(path: string): Promise<EpochRecord[]> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as EpochRecord[];
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

export async function writeHistory(path: string, history: EpochRecord[]): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(history, null, 2)}\n`);
}
