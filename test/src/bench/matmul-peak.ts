// The machine's practical peak: a large float32 MatMul through onnxruntime-node (MLAS), in GFLOP/s.
// The model is built with the exporter's ONNX schema.
import * as ort from 'onnxruntime-node';
import { DataType, encodeModel, type ModelProto } from '@pets/export';
import { measure, type Timing } from './stats.js';

export async function matmulPeak(n = 1024): Promise<{ gflops: number; timing: Timing; n: number }> {
  const b = new Float32Array(n * n).map((_, i) => ((i * 2654435761) % 1000) / 1000 - 0.5);
  const model: ModelProto = {
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    producer_name: 'pets-bench',
    graph: {
      name: 'matmul',
      node: [{ name: 'mm', op_type: 'MatMul', input: ['a', 'b'], output: ['y'] }],
      initializer: [{ name: 'b', dims: [n, n], data_type: DataType.FLOAT, raw_data: new Uint8Array(b.buffer) }],
      input: [{ name: 'a', type: { tensor_type: { elem_type: DataType.FLOAT, shape: { dim: [{ dim_value: n }, { dim_value: n }] } } } }],
      output: [{ name: 'y', type: { tensor_type: { elem_type: DataType.FLOAT, shape: { dim: [{ dim_value: n }, { dim_value: n }] } } } }],
    },
  } as ModelProto;
  const session = await ort.InferenceSession.create(encodeModel(model));
  const a = new ort.Tensor('float32', new Float32Array(n * n).fill(0.5), [n, n]);
  const timing = await measure(() => session.run({ a }), { warmup: 2, runs: 7 });
  await session.release();
  return { gflops: (2 * n ** 3) / (timing.median / 1000) / 1e9, timing, n };
}
