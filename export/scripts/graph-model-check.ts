// Exports a tfjs graph model (a folder's model.json and weight shards) with exportGraphModel() and
// compares onnxruntime-node with tfjs-converter on seeded random inputs, in fp32 and fp16. Prints the ONNX
// op counts, export time and the parity metrics; exit code 1 when fp32 exceeds 1e-5 max |Δp|.
//   node export/dist/scripts/graph-model-check.js <model.json> <height> <classes> [images]
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createContract } from '@pets/runtime/contract';
import { chooseBackend } from '@pets/train';
import { tf, type io } from '@pets/train/tfjs';
import * as ort from 'onnxruntime-node';
import { compareOutputs, exportGraphModel, graphHead, graphModelReference, loadGraphModel, randomInputs, TOLERANCE } from '../src/index.js';
import { graphDefOf } from '../src/graph/tfjs-converter.js';

async function main(): Promise<void> {
  const [path, size, classes, images = '4'] = process.argv.slice(2);
  if (!path || !Number(size) || !Number(classes)) throw new Error('usage: graph-model-check <model.json> <height> <classes> [images]');
  await chooseBackend('wasm');
  const json = JSON.parse(await readFile(path, 'utf8')) as io.ModelJSON;
  const groups = json.weightsManifest ?? [];
  const shards = await Promise.all(groups.flatMap((g) => g.paths).map((p) => readFile(join(dirname(path), p))));
  const weightData = new Uint8Array(Buffer.concat(shards)).buffer;
  const model = await loadGraphModel(tf.io.fromMemory({ ...json, weightSpecs: groups.flatMap((g) => g.weights), weightData }));
  const contract = createContract({ labels: Array.from({ length: Number(classes) }, (_, i) => `class${i}`), imageSize: Number(size) });
  const inputs = randomInputs(contract, Number(images), 3);
  const reference = graphModelReference(model, graphHead(model, graphDefOf(model)), inputs.x, inputs.shape);
  let failed = false;
  for (const fp16 of [false, true]) {
    const start = performance.now();
    const exported = exportGraphModel(model, contract, { fp16 });
    const ms = performance.now() - start;
    const session = await ort.InferenceSession.create(exported.bytes);
    const out = await session.run({ image: new ort.Tensor('float32', inputs.x, inputs.shape) });
    await session.release();
    const m = compareOutputs(reference, { probabilities: out.probabilities.data as Float32Array, logits: out.logits.data as Float32Array }, inputs.shape[0]);
    const tolerance = fp16 ? TOLERANCE.fp16 : TOLERANCE.fp32;
    failed ||= !(m.maxAbsDiff <= tolerance);
    process.stdout.write(
      `${fp16 ? 'fp16' : 'fp32'}: export ${ms.toFixed(0)} ms, ${exported.bytes.length} bytes, ops ${JSON.stringify(exported.opCounts)}\n` +
        `  max |Δp| ${m.maxAbsDiff.toExponential(2)} (limit ${tolerance}), logits rel err ${m.maxLogitRelErr.toExponential(2)}, top-1 agree ${m.top1Agree}/${m.images}\n`,
    );
  }
  model.dispose();
  if (failed) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`graph-model-check: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
