// Weights quantized in the manifest, as tensorflowjs_converter --quantize_uint8 / _uint16 / _float16 writes
// them: a model.json and shard written here by hand, read by tfjs' loadLayersModel (which dequantizes:
// v = q * scale + min, or float16 -> float32), then exported and compared with the loaded model.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { createContract } from '@pets/runtime/contract';
import { tf, tfl, type io, type LayersModel, type SymbolicTensor } from '@pets/train/tfjs';
import { decodeModel, exportModel, fromFloat16Bits, randomInputs, toFloat16Bits, TOLERANCE } from '../src/index.js';
import { checkModel } from './onnx-checker.js';
import { parity, ready } from './fixtures.js';
import { randomizeNonKernels } from './layer-parity.js';

before(ready);

type Quantization = { dtype: 'uint8' | 'uint16'; min: number; scale: number } | { dtype: 'float16' };

/** The bytes tfjs-converter writes for `values` with `dtype`, the spec's quantization entry, and the values tfjs reads back. */
function quantize(values: Float32Array, dtype: Quantization['dtype']): { bytes: Uint8Array; quantization: Quantization; dequantized: Float32Array } {
  if (dtype === 'float16') {
    const bits = Uint16Array.from(values, (v) => toFloat16Bits(v));
    return { bytes: new Uint8Array(bits.buffer), quantization: { dtype }, dequantized: Float32Array.from(bits, (b) => fromFloat16Bits(b)) };
  }
  const levels = dtype === 'uint8' ? 255 : 65535;
  const min = Math.min(...values);
  const max = Math.max(...values);
  const scale = (max - min) / levels || 1;
  const level = (v: number) => Math.round((v - min) / scale);
  const q = dtype === 'uint8' ? Uint8Array.from(values, level) : Uint16Array.from(values, level);
  return { bytes: new Uint8Array(q.buffer), quantization: { dtype, min, scale }, dequantized: Float32Array.from(q, (n) => n * scale + min) };
}

function source(): LayersModel {
  const image = tfl.input({ shape: [9, 7, 3] });
  let x = tfl.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', name: 'conv' }).apply(image) as SymbolicTensor;
  x = tfl.layers.batchNormalization({ name: 'bn' }).apply(x) as SymbolicTensor;
  x = tfl.layers.separableConv2d({ filters: 5, kernelSize: 3, strides: 2, activation: 'relu', name: 'sep' }).apply(x) as SymbolicTensor;
  x = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as SymbolicTensor;
  x = tfl.layers.dense({ units: 4, activation: 'softmax', name: 'probs' }).apply(x) as SymbolicTensor;
  const model = tfl.model({ inputs: image, outputs: x });
  randomizeNonKernels(model, 4);
  return model;
}

describe('weights quantized in the manifest', () => {
  test('uint8, uint16 and float16 weights are read as tfjs dequantizes them, and the export matches the loaded model', async () => {
    const original = source();
    // Which weights get which quantization: kernels in 8 and 16 bits, BatchNorm and biases in float16, one left float32.
    const plan: Record<string, Quantization['dtype'] | undefined> = {
      'conv/kernel': 'uint8',
      'conv/bias': 'float16',
      'bn/gamma': 'float16',
      'bn/moving_variance': 'uint16',
      'sep/depthwise_kernel': 'uint8',
      'sep/pointwise_kernel': 'uint16',
      'probs/kernel': 'uint8',
    };
    const dir = await mkdtemp(join(tmpdir(), 'pets-quantized-'));
    try {
      const chunks: Uint8Array[] = [];
      const specs: io.WeightsManifestEntry[] = [];
      const expected = new Map<string, Float32Array>();
      for (const w of original.weights) {
        const values = w.read().dataSync() as Float32Array;
        const dtype = plan[w.originalName];
        const q = dtype ? quantize(values, dtype) : { bytes: new Uint8Array(values.slice().buffer), dequantized: values, quantization: undefined };
        chunks.push(q.bytes);
        expected.set(w.originalName, q.dequantized);
        specs.push({ name: w.originalName, shape: w.shape as number[], dtype: 'float32', ...(q.quantization ? { quantization: q.quantization } : {}) });
      }
      const topology = original.toJSON(null, false);
      const manifest = { format: 'layers-model', modelTopology: topology, weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: specs }] };
      await writeFile(join(dir, 'model.json'), JSON.stringify(manifest));
      await writeFile(join(dir, 'group1-shard1of1.bin'), Buffer.concat(chunks));

      // Read back the way a model.json on disk is read.
      const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as typeof manifest;
      const weightData = new Uint8Array(await readFile(join(dir, 'group1-shard1of1.bin'))).buffer;
      const loaded = await tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData }));

      let quantizedChanged = 0;
      for (const w of loaded.weights) {
        const got = w.read().dataSync() as Float32Array;
        const want = expected.get(w.originalName) as Float32Array;
        for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i] - want[i]) <= 1e-6 * Math.max(1, Math.abs(want[i])), `${w.originalName}[${i}]: ${got[i]} vs ${want[i]}`);
        const before = original.weights.find((o) => o.originalName === w.originalName)?.read().dataSync() as Float32Array;
        if (plan[w.originalName] && got.some((v, i) => v !== before[i])) quantizedChanged++;
      }
      assert.equal(quantizedChanged, Object.keys(plan).length, 'every quantized weight differs from its float32 original');

      const contract = createContract({ labels: ['a', 'b', 'c', 'd'], imageSize: { height: 9, width: 7 } });
      const inputs = randomInputs(contract, 3, 8);
      for (const fp16 of [false, true]) {
        const { bytes } = exportModel(loaded, contract, { fp16 });
        checkModel(decodeModel(bytes));
        const m = await parity(loaded, bytes, inputs);
        const tolerance = fp16 ? TOLERANCE.fp16 : TOLERANCE.fp32;
        assert.ok(m.maxAbsDiff <= tolerance && m.maxLogitRelErr <= tolerance, `fp16 ${fp16}: ${JSON.stringify(m)}`);
      }
      loaded.dispose();
    } finally {
      original.dispose();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
