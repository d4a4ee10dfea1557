// The exporter's only onnxruntime-node import: load an exported file, run it, time it on the CPU.
import { ONNX_NAMES } from '@pets/runtime/contract';
import * as ort from 'onnxruntime-node';

export interface OrtOutputs {
  probabilities: Float32Array;
  logits: Float32Array;
}

export interface OrtModel {
  /** Runs a batch: x is [n, H, W, 3] float32. */
  run(x: Float32Array, shape: readonly number[]): Promise<OrtOutputs>;
  /** Runs a batch and returns every graph output by name (calibration adds its tensors as outputs). */
  runAll(x: Float32Array, shape: readonly number[]): Promise<Record<string, Float32Array>>;
  /** Median milliseconds per image over `runs` batch-1 inferences (after one warm-up). */
  msPerImage(sample: Float32Array, shape: readonly number[], runs?: number): Promise<number>;
  release(): Promise<void>;
}

/**
 * Opens an ONNX file (or bytes) with the CPU execution provider and full graph optimizations (two create()
 * overloads, hence the branch). `optimize: false` runs the graph as written: a QDQ model then computes in
 * float32 on dequantized values, so the tensors between QuantizeLinear pairs can be read.
 */
export async function openOrtModel(model: string | Uint8Array, options: { optimize?: boolean } = {}): Promise<OrtModel> {
  const sessionOptions: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], ...(options.optimize === false ? { graphOptimizationLevel: 'disabled' } : {}) };
  const session = typeof model === 'string'
    ? await ort.InferenceSession.create(model, sessionOptions)
    : await ort.InferenceSession.create(model, sessionOptions);
  const run = async (x: Float32Array, shape: readonly number[]): Promise<OrtOutputs> => {
    const feeds = { [ONNX_NAMES.input]: new ort.Tensor('float32', x, [...shape]) };
    const out = await session.run(feeds);
    const result = { probabilities: out[ONNX_NAMES.probabilities].data as Float32Array, logits: out[ONNX_NAMES.logits].data as Float32Array };
    for (const tensor of Object.values(out)) tensor.dispose();
    return result;
  };
  const runAll = async (x: Float32Array, shape: readonly number[]): Promise<Record<string, Float32Array>> => {
    const out = await session.run({ [ONNX_NAMES.input]: new ort.Tensor('float32', x, [...shape]) });
    return Object.fromEntries(Object.entries(out).map(([name, tensor]) => [name, tensor.data as Float32Array]));
  };
  return {
    run,
    runAll,
    async msPerImage(sample, shape, runs = 5) {
      const one = sample.subarray(0, shape.slice(1).reduce((a, b) => a * b, 1));
      const single = [1, ...shape.slice(1)];
      await run(one, single);
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const start = performance.now();
        await run(one, single);
        times.push(performance.now() - start);
      }
      times.sort((a, b) => a - b);
      return times[Math.floor(times.length / 2)];
    },
    release: () => session.release(),
  };
}
