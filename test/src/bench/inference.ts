// Inference benchmarks on an exported model3 at 224: onnxruntime-node CPU (ours vs a reference graph
// without the layout transpose), onnxruntime-web wasm in Node, classify() batched and end to end, and
// the cost of decoding and preprocessing a 500x375 JPEG.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { createClassifier } from '@pets/runtime';
import { ONNX_NAMES } from '@pets/runtime/contract';
import { decodeImage } from '@pets/runtime/node-decode';
import { normalize, preprocess } from '@pets/runtime/preprocess';
import { resizeRgbJs, wasmResizeAvailable } from '@pets/runtime/resize';
import { decodeModel, encodeModel } from '@pets/export';
import { existsSync } from 'node:fs';
import { CHROMIUM_PATH, openBrowserRuntime } from '../parity/browser.js';

export { CHROMIUM_PATH };
import { measure, measureSideBySide, perUnit, summarize, type Timing } from './stats.js';

export interface Row {
  group: string;
  name: string;
  /** Milliseconds per image (median, min, max over runs). */
  perImage: Timing;
  note?: string;
}

/** The same graph fed NCHW directly: the exporter's single input Transpose removed. */
export function withoutInputTranspose(bytes: Uint8Array): Uint8Array {
  const model = decodeModel(bytes);
  const graph = model.graph;
  const transpose = graph.node.find((n) => n.op_type === 'Transpose' && n.input[0] === ONNX_NAMES.input);
  if (!transpose) throw new Error('the exported model has no input Transpose');
  graph.node = graph.node.filter((n) => n !== transpose);
  for (const node of graph.node) node.input = node.input.map((name) => (name === transpose.output[0] ? ONNX_NAMES.input : name));
  const dims = graph.input[0].type.tensor_type.shape.dim;
  graph.input[0].type.tensor_type.shape.dim = [dims[0], dims[3], dims[1], dims[2]];
  return encodeModel(model);
}

function input(batch: number, size: number): Float32Array {
  return new Float32Array(batch * size * size * 3).map((_, i) => ((i * 2654435761) % 997) / 997);
}

export async function inferenceRows(modelBytes: Uint8Array, size: number, photos: string[], photo500x375: string): Promise<Row[]> {
  const rows: Row[] = [];
  const runs = { warmup: 2, runs: 7 };
  // Rows compared as ratios against a target are measured side by side, with more runs.
  const paired = { rounds: 5, perRound: 3 };
  const ours = await ort.InferenceSession.create(modelBytes);
  const reference = await ort.InferenceSession.create(withoutInputTranspose(modelBytes));
  const web = await ortWeb.InferenceSession.create(modelBytes, { executionProviders: ['wasm'] });
  for (const batch of [1, 16]) {
    const x = input(batch, size);
    const nhwc = new ort.Tensor('float32', x, [batch, size, size, 3]);
    const nchw = new ort.Tensor('float32', x, [batch, 3, size, size]);
    const pair = await measureSideBySide({ ours: () => ours.run({ [ONNX_NAMES.input]: nhwc }), reference: () => reference.run({ [ONNX_NAMES.input]: nchw }) }, paired);
    const oursT = perUnit(pair.ours, batch);
    const refT = perUnit(pair.reference, batch);
    rows.push({ group: 'inference', name: `onnxruntime-node CPU, exported model3, batch ${batch}`, perImage: oursT });
    rows.push({ group: 'inference', name: `onnxruntime-node CPU, reference graph (NCHW input, no transpose), batch ${batch}`, perImage: refT, note: `ours / reference = ${(oursT.median / refT.median).toFixed(3)}` });
    const webT = perUnit(await measure(() => web.run({ [ONNX_NAMES.input]: new ortWeb.Tensor('float32', x, [batch, size, size, 3]) }), runs), batch);
    rows.push({ group: 'inference', name: `onnxruntime-web wasm in Node (${ortWeb.env.wasm.numThreads ?? 'default'} threads), batch ${batch}`, perImage: webT });
  }
  // classify(): the batching path on the same tensors as a bare session.run, then end to end on JPEGs.
  const classifier = await createClassifier({ model: modelBytes, executionProviders: ['cpu'] });
  const spinning = await createClassifier({ model: modelBytes, executionProviders: ['cpu'], spinning: true });
  const x16 = input(16, size);
  const side = await measureSideBySide(
    {
      bare: () => ours.run({ [ONNX_NAMES.input]: new ort.Tensor('float32', x16, [16, size, size, 3]) }),
      // The batcher's cost alone: this classifier's session spins like the bare one.
      batched: () => spinning.infer(x16),
      e2e: () => classifier.classify(photos.slice(0, 16)),
      e2eSpinning: () => spinning.classify(photos.slice(0, 16)),
    },
    paired,
  );
  const bare = perUnit(side.bare, 16);
  const batched = perUnit(side.batched, 16);
  const e2e = perUnit(side.e2e, 16);
  rows.push({ group: 'classify', name: 'bare session.run: the same 16 preprocessed images, no runtime around it', perImage: bare });
  rows.push({ group: 'classify', name: 'classifier.infer(): 16 preprocessed images through the batcher', perImage: batched, note: `throughput vs bare session.run: ${(bare.median / batched.median).toFixed(3)}x` });
  rows.push({ group: 'classify', name: 'classify(): 16 real JPEGs end to end (decode, resize, normalize, run)', perImage: e2e, note: `vs bare session.run: ${(e2e.median / bare.median).toFixed(2)}x` });
  const e2eSpinning = perUnit(side.e2eSpinning, 16);
  rows.push({ group: 'classify', name: 'the same with spinning: true (onnxruntime\'s idle threads spin-wait)', perImage: e2eSpinning, note: `vs bare session.run: ${(e2eSpinning.median / bare.median).toFixed(2)}x` });
  const jpeg = await readFile(photo500x375);
  const prepRuns = { warmup: 5, runs: 31 };
  const decodeT = await measure(() => decodeImage(jpeg), prepRuns);
  const pixels = await decodeImage(jpeg);
  const { contract } = classifier.info;
  const kernel = wasmResizeAvailable() ? 'WebAssembly SIMD' : 'JavaScript: no WebAssembly SIMD here';
  const preprocessT = await measure(() => preprocess(pixels, contract), prepRuns);
  const source = { src: pixels.data, width: pixels.width, height: pixels.height, stride: pixels.channels, offsets: [0, 1, 2] as const };
  const jsT = await measure(() => normalize(resizeRgbJs(source, size, size), contract), prepRuns);
  const run1 = rows.find((r) => r.name.startsWith('onnxruntime-node CPU, exported model3, batch 1')) as Row;
  const ofRun1 = (t: Timing) => `${((t.median / run1.perImage.median) * 100).toFixed(0)}% of batch-1 inference`;
  rows.push({ group: 'classify', name: `decode a 500x375 JPEG (sharp, ${pixels.channels} channels)`, perImage: decodeT, note: ofRun1(decodeT) });
  rows.push({ group: 'classify', name: `resize + normalize it to ${size} (preprocess.ts, ${kernel})`, perImage: preprocessT, note: ofRun1(preprocessT) });
  rows.push({ group: 'classify', name: `resize + normalize it to ${size}, the JavaScript fallback`, perImage: jsT, note: `${(jsT.median / preprocessT.median).toFixed(1)}x the time of the row above; same bytes` });
  // The same work on all cores, as a folder of photos is classified: 16 decodes at once (sharp's
  // threads), each preprocessed as it arrives; per image, against the bare batch-16 run above.
  const allCores = perUnit(
    await measure(() => Promise.all(photos.slice(0, 16).map(async (p) => preprocess(await decodeImage(p), contract))), runs),
    16,
  );
  rows.push({ group: 'classify', name: '16 real JPEGs decoded + preprocessed at once (all cores)', perImage: allCores, note: `${((allCores.median / bare.median) * 100).toFixed(0)}% of bare session.run per image` });
  await Promise.all([classifier.dispose(), spinning.dispose()]);
  rows.push(...(await browserRows(modelBytes, photo500x375)));
  await Promise.all([ours.release(), reference.release(), web.release()]);
  return rows;
}

/**
 * The same photo in headless Chromium through the web entry: createImageBitmap decoding, the
 * WebAssembly resize, and onnxruntime-web's wasm provider (1 thread: the page is not cross-origin
 * isolated) as the inference it is compared with. No rows without Chromium.
 */
async function browserRows(modelBytes: Uint8Array, photo: string): Promise<Row[]> {
  if (!existsSync(CHROMIUM_PATH)) return [];
  const browser = await openBrowserRuntime(modelBytes);
  try {
    const r = await browser.benchPreprocess(photo, 31);
    const [total, prep, infer] = [summarize(r.total), summarize(r.preprocess), summarize(r.infer)];
    const ofInfer = (t: Timing) => `${((t.median / infer.median) * 100).toFixed(1)}% of the browser's batch-1 inference`;
    const kernel = r.kernel ? 'WebAssembly SIMD' : 'JavaScript: no WebAssembly SIMD';
    return [
      { group: 'browser', name: `Chromium: onnxruntime-web ${r.executionProvider} (1 thread), exported model3, batch 1`, perImage: infer },
      { group: 'browser', name: 'Chromium: decode (createImageBitmap) + resize + normalize the 500x375 JPEG', perImage: total, note: ofInfer(total) },
      { group: 'browser', name: `Chromium: resize + normalize it, decoded (${kernel})`, perImage: prep, note: ofInfer(prep) },
    ];
  } finally {
    await browser.close();
  }
}

export const photoPath = (sample: string, name: string) => join(sample, 'images', name);
