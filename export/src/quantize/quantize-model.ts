// quantizeModel(): float32 ONNX bytes written by exportModel() -> int8 QDQ ONNX bytes, statically
// calibrated on the given images. A pass over the serialized graph rather than a mode of the builder:
// calibration has to run the finished float32 graph anyway, and a pass over ONNX works on every graph
// the exporter writes without touching each layer converter.
import { ONNX_METADATA_KEYS } from '@pets/runtime/contract';
import { decodeModel, encodeModel } from '../onnx/schema.js';
import { correctBiases } from './bias-correction.js';
import { calibrate, type CalibrationMethod } from './calibrate.js';
import { applyQdq, planQdq } from './qdq-graph.js';

/** Options of quantizeModel(). */
export interface QuantizeOptions {
  /** [n, H, W, 3] calibration inputs, preprocessed as the contract says. */
  x: Float32Array;
  shape: [number, number, number, number];
  /** How activation ranges are taken. Default DEFAULT_CALIBRATION_METHOD. */
  method?: CalibrationMethod;
  /** Empirical bias correction, layer by layer (bias-correction.ts). Default true. */
  biasCorrection?: boolean;
  /** Called after each calibration batch and each corrected layer. */
  onProgress?: (stage: 'calibration' | 'bias correction', done: number, total: number) => void;
}

export interface QuantizedModel {
  bytes: Uint8Array;
  /** Conv/MatMul/Gemm nodes with int8 weights. */
  quantizedNodes: number;
  /** Activation tensors with a QuantizeLinear/DequantizeLinear pair. */
  quantizedTensors: number;
  /** How many nodes of each op type the graph has. */
  opCounts: Record<string, number>;
}

/** Measured on the sample (docs/int8.md): min/max agreed with fp32 at least as well as percentile. */
export const DEFAULT_CALIBRATION_METHOD: CalibrationMethod = 'minmax';

export async function quantizeModel(fp32: Uint8Array, options: QuantizeOptions): Promise<QuantizedModel> {
  if (options.shape[0] < 1) throw new RangeError('Quantization needs at least one calibration image.');
  const model = decodeModel(fp32);
  const plan = planQdq(model);
  const ranges = await calibrate({
    model, tensors: plan.tensors, x: options.x, shape: options.shape,
    method: options.method ?? DEFAULT_CALIBRATION_METHOD, onProgress: (done, total) => options.onProgress?.('calibration', done, total),
  });
  const corrected = options.biasCorrection ?? true
    ? await correctBiases({ model, plan, ranges, x: options.x, shape: options.shape, onProgress: (done, total) => options.onProgress?.('bias correction', done, total) })
    : model;
  const quantized = applyQdq(corrected, plan, ranges);
  quantized.metadata_props = model.metadata_props.map((p) => {
    if (p.key !== ONNX_METADATA_KEYS.provenance) return p;
    const provenance = JSON.parse(p.value) as Record<string, unknown>;
    return { ...p, value: JSON.stringify({ ...provenance, calibration: { images: options.shape[0], method: options.method ?? DEFAULT_CALIBRATION_METHOD, biasCorrection: options.biasCorrection ?? true } }) };
  });
  const opCounts: Record<string, number> = {};
  for (const node of quantized.graph.node) opCounts[node.op_type] = (opCounts[node.op_type] ?? 0) + 1;
  return { bytes: encodeModel(quantized), quantizedNodes: plan.nodes.length, quantizedTensors: plan.tensors.length, opCounts };
}
