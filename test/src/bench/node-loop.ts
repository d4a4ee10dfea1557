// classify() on real JPEGs against the loop a user would write by hand with the same libraries: sharp
// decodes and resizes to the model size, the raw pixels are normalized as the contract says, and
// session.run classifies one image at a time; same model, same intra-op threads, timed side by side.
// The hand loop uses sharp's own resize (not pets' antialiased, browser-identical one), so it is the
// cheaper preprocessing a user might settle for.
import { cpus } from 'node:os';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { createClassifier } from '@pets/runtime';
import { ONNX_NAMES } from '@pets/runtime/contract';
import type { Row } from './inference.js';
import { measureSideBySide, perUnit } from './stats.js';

export interface NodeLoopBench {
  rows: Row[];
  /** classify() throughput / hand loop throughput (>= 1 means classify() is at least as fast). */
  ratio: number;
}

export async function nodeLoopRows(model: Uint8Array, photos: string[], quick: boolean): Promise<NodeLoopBench> {
  const threads = cpus().length;
  const classifier = await createClassifier({ model, executionProviders: ['cpu'], threads });
  const { contract } = classifier.info;
  const { height, width } = contract.imageSize;
  const { scale, mean, std } = contract.normalization;
  const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], intraOpNumThreads: threads });
  const handLoop = async () => {
    for (const photo of photos) {
      const { data } = await sharp(photo).resize(width, height, { fit: 'fill' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const x = new Float32Array(data.length);
      for (let i = 0; i < data.length; i++) {
        const c = i % 3;
        x[i] = (data[i] * scale - mean[c]) / std[c];
      }
      const out = await session.run({ [ONNX_NAMES.input]: new ort.Tensor('float32', x, [1, height, width, 3]) });
      out[ONNX_NAMES.probabilities].dispose?.();
    }
  };
  const viaClassify = async () => {
    const outcomes = await classifier.classify(photos);
    if (outcomes.some((o) => !o.ok)) throw new Error('classify() failed on a bench photo');
  };
  try {
    const t = await measureSideBySide({ classify: viaClassify, hand: handLoop }, { rounds: quick ? 2 : 5, perRound: 1 });
    const ratio = t.hand.median / t.classify.median;
    const n = photos.length;
    return {
      ratio,
      rows: [
        { group: 'node loop', name: `classify(): ${n} real JPEGs, ${threads} threads`, perImage: perUnit(t.classify, n), note: `${ratio.toFixed(2)}x the hand-written loop's throughput` },
        { group: 'node loop', name: `hand-written loop: sharp resize + normalize + session.run, one by one, ${threads} threads`, perImage: perUnit(t.hand, n) },
      ],
    };
  } finally {
    await classifier.dispose();
    await session.release();
  }
}
