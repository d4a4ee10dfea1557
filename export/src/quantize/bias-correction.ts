// Empirical bias correction (Nagel et al. 2019, "Data-Free Quantization", section 4.2, measured on data
// rather than derived): quantization shifts each channel's mean output; the shift, measured on the
// calibration images, is subtracted from the channel's bias. Layer by layer in graph order, each
// measured on the model with the layers before it already corrected: correcting all layers from one run
// overcorrects, since a layer's shift then still contains the shifts of the layers before it.
import { decodeModel, encodeModel } from '../onnx/schema.js';
import { DataType, type ModelProto, type TensorProto, type ValueInfoProto } from '../onnx/types.js';
import { openOrtModel } from '../verify/ort.js';
import type { Range } from './calibrate.js';
import { applyQdq, type QdqPlan } from './qdq-graph.js';

export interface BiasCorrectionArgs {
  /** The float32 model; its bias initializers are replaced in the returned copy. */
  model: ModelProto;
  plan: QdqPlan;
  ranges: Map<string, Range>;
  /** [n, H, W, 3] calibration inputs. */
  x: Float32Array;
  shape: [number, number, number, number];
  onProgress?: (done: number, total: number) => void;
}

/** The largest number of calibration images the correction runs on (a run per layer). */
export const BIAS_CORRECTION_IMAGES = 32;

/** Per-channel means (axis 1) of each named output over the inputs, the graph run unoptimized when `optimize` is false. */
async function channelMeans(model: ModelProto, outputs: { name: string; channels: number }[], x: Float32Array, shape: number[], optimize: boolean): Promise<Map<string, Float64Array>> {
  const copy = decodeModel(encodeModel(model));
  for (const { name } of outputs) copy.graph.output.push({ name, type: { tensor_type: { elem_type: DataType.FLOAT } } } as ValueInfoProto);
  const ort = await openOrtModel(encodeModel(copy), { optimize });
  try {
    const [n, ...rest] = shape;
    const perImage = rest.reduce((a, b) => a * b, 1);
    const sums = new Map(outputs.map((o) => [o.name, new Float64Array(o.channels)]));
    for (let i = 0; i < n; i += 8) {
      const count = Math.min(8, n - i);
      const out = await ort.runAll(x.subarray(i * perImage, (i + count) * perImage), [count, ...rest]);
      for (const [name, sum] of sums) {
        const data = out[name];
        const spatial = data.length / count / sum.length;
        for (let j = 0; j < data.length; j++) sum[Math.floor(j / spatial) % sum.length] += data[j] / spatial;
      }
    }
    for (const sum of sums.values()) for (let c = 0; c < sum.length; c++) sum[c] /= n;
    return sums;
  } finally {
    await ort.release();
  }
}

const floats = (t: TensorProto) => new Float32Array(new Uint8Array(t.raw_data as Uint8Array).slice().buffer);

export async function correctBiases(args: BiasCorrectionArgs): Promise<ModelProto> {
  const n = Math.min(args.shape[0], BIAS_CORRECTION_IMAGES);
  const shape: [number, number, number, number] = [n, args.shape[1], args.shape[2], args.shape[3]];
  const x = args.x.subarray(0, n * shape[1] * shape[2] * shape[3]);
  const inits = new Map(args.model.graph.initializer.map((t) => [t.name, t]));
  const targets = args.plan.nodes.filter((q) => {
    const bias = q.node.input[2] ? inits.get(q.node.input[2]) : undefined;
    return bias?.data_type === DataType.FLOAT && bias.dims.length === 1;
  });
  // The float32 model's pre-activation outputs, all from one run; in the QDQ graph the node writes the
  // absorbed activation's name, still before its QuantizeLinear.
  const channels = (q: (typeof targets)[number]) => (inits.get(q.node.input[2]) as TensorProto).dims[0];
  const reference = await channelMeans(args.model, targets.map((q) => ({ name: q.node.output[0], channels: channels(q) })), x, shape, true);
  let model = args.model;
  for (const [k, q] of targets.entries()) {
    const biasName = q.node.input[2];
    const output = q.absorbed ? q.absorbed.output[0] : q.node.output[0];
    const measured = (await channelMeans(applyQdq(model, args.plan, args.ranges), [{ name: output, channels: channels(q) }], x, shape, false)).get(output) as Float64Array;
    const want = reference.get(q.node.output[0]) as Float64Array;
    const current = model.graph.initializer.find((t) => t.name === biasName) as TensorProto;
    const bias = floats(current);
    for (let c = 0; c < bias.length; c++) bias[c] -= measured[c] - want[c];
    const replaced: TensorProto = { ...current, raw_data: new Uint8Array(bias.buffer) };
    model = { ...model, graph: { ...model.graph, initializer: model.graph.initializer.map((t) => (t.name === biasName ? replaced : t)) } };
    args.onProgress?.(k + 1, targets.length);
  }
  return model;
}
