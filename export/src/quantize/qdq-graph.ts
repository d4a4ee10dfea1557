// The QDQ rewrite of a float32 ONNX graph: QuantizeLinear -> DequantizeLinear pairs on the activations
// that enter and leave each Conv, MatMul and Gemm, and DequantizeLinear on their int8 weights and int32
// biases. onnxruntime recognizes DQ -> Conv -> Q and fuses it into an integer QLinearConv; a float bias
// would break that pattern, hence int32 biases. A Relu or Clip(0, ·) right after a quantized node is
// dropped: the uint8 QuantizeLinear after it saturates at 0 (and at the calibrated top) by itself.
import { DataType, type ModelProto, type NodeProto, type TensorProto } from '../onnx/types.js';
import { activationParams, quantizeBias, quantizeWeightsPerChannel, type QuantParams } from './qdq-math.js';
import type { Range } from './calibrate.js';

const QUANTIZED_OPS = new Set(['Conv', 'MatMul', 'Gemm']);
/** Ops whose output values are a subset of their input's: their output reuses the input's parameters. */
const RANGE_PRESERVING = new Set(['MaxPool', 'Reshape', 'Flatten', 'Transpose']);
const INT32 = 6;
const UINT8 = 2;
const INT8 = 3;

interface QuantizedNode {
  node: NodeProto;
  /** Axis of the weight that indexes output channels. */
  weightAxis: number;
  /** A Relu/Clip folded into the quantization of the node's output. */
  absorbed: NodeProto | null;
  /** The node's output after the absorbed activation, or null when it stays float (a graph output). */
  output: string | null;
}

export interface QdqPlan {
  nodes: QuantizedNode[];
  /** Activation tensors that get a Q/DQ pair, in graph order; their ranges come from calibration. */
  tensors: string[];
}

const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function floatData(init: TensorProto): Float32Array {
  if (init.data_type !== DataType.FLOAT || !init.raw_data) throw new Error(`Internal error: initializer ${init.name} is not float32 raw data`);
  const raw = init.raw_data;
  return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
}

function intAttribute(node: NodeProto, name: string, fallback: number): number {
  return node.attribute?.find((a) => a.name === name)?.i ?? fallback;
}

/** Clip whose lower bound is 0 (ReLU6 and friends), so uint8 with zero point 0 applies it. */
function clipsAtZero(node: NodeProto, inits: Map<string, TensorProto>): boolean {
  const min = node.input[1] ? inits.get(node.input[1]) : undefined;
  return min !== undefined && floatData(min)[0] === 0;
}

/** The weight axis of output channels, or null when the node is not one this pass quantizes. */
function weightAxis(node: NodeProto, inits: Map<string, TensorProto>): number | null {
  const w = inits.get(node.input[1]);
  if (!QUANTIZED_OPS.has(node.op_type) || !w || w.data_type !== DataType.FLOAT || inits.has(node.input[0])) return null;
  if (node.op_type === 'Conv') return 0;
  if (node.op_type === 'MatMul') return w.dims.length === 2 ? 1 : null;
  if (intAttribute(node, 'transA', 0) !== 0) return null;
  return intAttribute(node, 'transB', 0) === 1 ? 0 : 1;
}

export function planQdq(model: ModelProto): QdqPlan {
  const { graph } = model;
  const inits = new Map(graph.initializer.map((i) => [i.name, i]));
  const outputs = new Set(graph.output.map((o) => o.name));
  const consumers = new Map<string, NodeProto[]>();
  for (const node of graph.node) for (const input of node.input) consumers.set(input, [...(consumers.get(input) ?? []), node]);
  const nodes: QuantizedNode[] = [];
  const tensors = new Set<string>();
  for (const node of graph.node) {
    const axis = weightAxis(node, inits);
    if (axis === null) continue;
    const next = consumers.get(node.output[0]) ?? [];
    const absorbable = next.length === 1 && !outputs.has(node.output[0]) && !outputs.has(next[0].output[0]) &&
      (next[0].op_type === 'Relu' || (next[0].op_type === 'Clip' && clipsAtZero(next[0], inits)));
    const absorbed = absorbable ? next[0] : null;
    const after = absorbed ? absorbed.output[0] : node.output[0];
    const output = outputs.has(after) ? null : after;
    tensors.add(node.input[0]);
    if (output) tensors.add(output);
    nodes.push({ node, weightAxis: axis, absorbed, output });
  }
  const order = new Map<string, number>();
  graph.input.forEach((v) => order.set(v.name, -1));
  graph.node.forEach((n, i) => n.output.forEach((o) => order.set(o, i)));
  return { nodes, tensors: [...tensors].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0)) };
}

function tensorProto(name: string, dims: number[], dataType: number, data: ArrayBufferView): TensorProto {
  return { name, dims, data_type: dataType, raw_data: new Uint8Array(bytesOf(data)) };
}

/** Quantization parameters per planned tensor; range-preserving ops pass their input's on. */
function tensorParams(model: ModelProto, plan: QdqPlan, ranges: Map<string, Range>): Map<string, QuantParams> {
  const producer = new Map<string, NodeProto>();
  for (const node of model.graph.node) for (const o of node.output) producer.set(o, node);
  const params = new Map<string, QuantParams>();
  for (const t of plan.tensors) {
    const from = producer.get(t);
    const inherited = from && RANGE_PRESERVING.has(from.op_type) ? params.get(from.input[0]) : undefined;
    const range = ranges.get(t);
    if (!inherited && !range) throw new Error(`Internal error: no calibrated range for ${t}`);
    params.set(t, inherited ?? activationParams((range as Range).lo, (range as Range).hi));
  }
  return params;
}

/** Returns a new ModelProto in QDQ form; `model` is not modified. */
export function applyQdq(model: ModelProto, plan: QdqPlan, ranges: Map<string, Range>): ModelProto {
  const { graph } = model;
  const params = tensorParams(model, plan, ranges);
  const inits = new Map(graph.initializer.map((i) => [i.name, i]));
  const added: TensorProto[] = [];
  const removed = new Set(plan.nodes.flatMap((q) => (q.absorbed ? [q.absorbed] : [])));
  const rewritten = new Map<NodeProto, NodeProto>();
  const after = new Map<string, NodeProto[]>(); // nodes to insert right after a tensor is produced
  const insertAfter = (tensor: string, ...nodes: NodeProto[]) => after.set(tensor, [...(after.get(tensor) ?? []), ...nodes]);
  const dequantized = (t: string) => `${t}/dequantized`;

  for (const [t, p] of params) {
    added.push(tensorProto(`${t}/scale`, [], DataType.FLOAT, Float32Array.of(p.scale)));
    added.push(tensorProto(`${t}/zero_point`, [], UINT8, Uint8Array.of(p.zeroPoint)));
    const qdq = [`${t}/scale`, `${t}/zero_point`];
    insertAfter(t,
      { name: `${t}/QuantizeLinear`, op_type: 'QuantizeLinear', input: [t, ...qdq], output: [`${t}/quantized`] },
      { name: `${t}/DequantizeLinear`, op_type: 'DequantizeLinear', input: [`${t}/quantized`, ...qdq], output: [dequantized(t)] });
  }

  for (const q of plan.nodes) {
    const [x, wName, bName] = q.node.input;
    const w = inits.get(wName) as TensorProto;
    const weights = quantizeWeightsPerChannel(floatData(w), w.dims, q.weightAxis);
    const channels = w.dims[q.weightAxis];
    const base = `${q.node.name}/W`;
    added.push(tensorProto(`${base}/quantized`, w.dims, INT8, weights.q));
    added.push(tensorProto(`${base}/scale`, [channels], DataType.FLOAT, weights.scales));
    added.push(tensorProto(`${base}/zero_point`, [channels], INT8, new Int8Array(channels)));
    const dq: NodeProto[] = [{
      name: `${base}/DequantizeLinear`, op_type: 'DequantizeLinear', input: [`${base}/quantized`, `${base}/scale`, `${base}/zero_point`],
      output: [`${base}/dequantized`], attribute: [{ name: 'axis', type: 2, i: q.weightAxis }],
    }];
    const xParams = params.get(x);
    const inputs = [xParams ? dequantized(x) : x, `${base}/dequantized`];
    const b = bName ? inits.get(bName) : undefined;
    const bias = xParams && b && b.data_type === DataType.FLOAT && b.dims.length === 1 ? quantizeBias(floatData(b), xParams.scale, weights.scales) : null;
    if (bias) {
      const bb = `${q.node.name}/B`;
      added.push(tensorProto(`${bb}/quantized`, [channels], INT32, bias.q));
      added.push(tensorProto(`${bb}/scale`, [channels], DataType.FLOAT, bias.scales));
      added.push(tensorProto(`${bb}/zero_point`, [channels], INT32, new Int32Array(channels)));
      dq.push({
        name: `${bb}/DequantizeLinear`, op_type: 'DequantizeLinear', input: [`${bb}/quantized`, `${bb}/scale`, `${bb}/zero_point`],
        output: [`${bb}/dequantized`], attribute: [{ name: 'axis', type: 2, i: 0 }],
      });
      inputs.push(`${bb}/dequantized`);
    } else if (bName) {
      inputs.push(bName);
    }
    // Weight and bias dequantization go before the node; the node's output becomes the absorbed activation's.
    const output = q.absorbed ? q.absorbed.output[0] : q.node.output[0];
    rewritten.set(q.node, { ...q.node, input: inputs, output: [output] });
    after.set(`#before ${q.node.name}`, dq);
  }

  const nodes: NodeProto[] = [];
  for (const input of graph.input) nodes.push(...(after.get(input.name) ?? []));
  for (const node of graph.node) {
    if (removed.has(node)) continue;
    nodes.push(...(after.get(`#before ${node.name}`) ?? []));
    const own = rewritten.get(node) ?? node;
    // Every other consumer of a quantized tensor reads its dequantized value.
    const input = rewritten.has(node) ? own.input : own.input.map((i) => (params.has(i) ? dequantized(i) : i));
    nodes.push({ ...own, input });
    for (const o of own.output) nodes.push(...(after.get(o) ?? []));
  }
  const used = new Set(nodes.flatMap((n) => n.input));
  const initializer = [...graph.initializer.filter((i) => used.has(i.name)), ...added];
  return { ...model, graph: { ...graph, node: nodes, initializer } };
}
