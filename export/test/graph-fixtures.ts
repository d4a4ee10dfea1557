// Small tfjs graph models made by hand, without Python: a GraphDef in tfjs-converter's JSON form (nodes,
// attributes as attr_value.proto JSON) plus a weights manifest and its data, loaded with tfjs-converter's
// loadGraphModel through tf.io.fromMemory exactly as a model.json would be. And the parity check of an
// exported graph model against tfjs-converter's executor.
import assert from 'node:assert/strict';
import { createContract, type ModelContract } from '@pets/runtime/contract';
import { createRng } from '@pets/train';
import { tf, type io } from '@pets/train/tfjs';
import {
  compareOutputs,
  decodeModel,
  exportGraphModel,
  graphHead,
  graphModelReference,
  loadGraphModel,
  randomInputs,
  toFloat16Bits,
  type ExportGraphModelOptions,
  type GraphModel,
  type ParityMetrics,
} from '../src/index.js';
import { graphDefOf } from '../src/graph/tfjs-converter.js';
import type { AttrValue, NodeDef } from '../src/graph/graph-def.js';
import { checkModel, opCounts } from './onnx-checker.js';
import { runOrt } from './fixtures.js';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

/** attr_value.proto JSON, as tfjs-converter writes it. */
export const a = {
  ints: (values: number[]): AttrValue => ({ list: { i: values.map(String) } }),
  int: (value: number): AttrValue => ({ i: String(value) }),
  str: (value: string): AttrValue => ({ s: b64(value) }),
  strs: (values: string[]): AttrValue => ({ list: { s: values.map(b64) } }),
  float: (value: number): AttrValue => ({ f: value }),
  bool: (value: boolean): AttrValue => ({ b: value }),
  type: (value: string): AttrValue => ({ type: value }),
};

/** Common conv attributes: NHWC, strides and dilations as 4-vectors. */
export function convAttrs(stride: number, padding: 'SAME' | 'VALID', dilation = 1): Record<string, AttrValue> {
  return { strides: a.ints([1, stride, stride, 1]), dilations: a.ints([1, dilation, dilation, 1]), padding: a.str(padding), data_format: a.str('NHWC'), T: a.type('DT_FLOAT') };
}

/** How a float weight is stored in the manifest, as tensorflowjs_converter --quantize_* writes it. */
export type Quantization = 'uint8' | 'float16';

interface Weight {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  data: number[];
  quantization?: Quantization;
}

/** The manifest entry and bytes of one weight. */
function encodeWeight(w: Weight): { spec: io.WeightsManifestEntry; bytes: Uint8Array } {
  const { name, shape, dtype } = w;
  const raw = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (w.quantization === 'float16') {
    return { spec: { name, shape, dtype, quantization: { dtype: 'float16' } }, bytes: raw(Uint16Array.from(w.data, toFloat16Bits)) };
  }
  if (w.quantization === 'uint8') {
    const min = Math.min(...w.data);
    const scale = (Math.max(...w.data) - min) / 255 || 1;
    return { spec: { name, shape, dtype, quantization: { dtype: 'uint8', min, scale } }, bytes: Uint8Array.from(w.data, (v) => Math.round((v - min) / scale)) };
  }
  return { spec: { name, shape, dtype }, bytes: raw(dtype === 'float32' ? Float32Array.from(w.data) : Int32Array.from(w.data)) };
}

export class GraphFixture {
  readonly nodes: NodeDef[] = [];
  private readonly weights: Weight[] = [];
  private readonly rng;

  /** `quantization`: how random() weights are stored (default float32). */
  constructor(
    seed = 1,
    private readonly quantization?: Quantization,
  ) {
    this.rng = createRng(seed);
  }

  placeholder(name: string, shape: number[]): string {
    this.nodes.push({ name, op: 'Placeholder', attr: { dtype: a.type('DT_FLOAT'), shape: { shape: { dim: shape.map((d) => ({ size: String(d) })) } } } });
    return name;
  }

  constant(name: string, shape: number[], data: number[], dtype: 'float32' | 'int32' = 'float32'): string {
    assert.equal(data.length, shape.reduce((x, y) => x * y, 1), `${name}: data fits the shape`);
    this.nodes.push({ name, op: 'Const', attr: { dtype: a.type(dtype === 'float32' ? 'DT_FLOAT' : 'DT_INT32'), value: { tensor: {} } } });
    this.weights.push({ name, shape, dtype, data });
    return name;
  }

  /** A float constant of uniform values in [lo, hi), stored as the fixture's quantization says. */
  random(name: string, shape: number[], lo = -1, hi = 1): string {
    const n = shape.reduce((x, y) => x * y, 1);
    this.constant(name, shape, Array.from({ length: n }, () => this.rng.uniform(lo, hi)));
    this.weights[this.weights.length - 1].quantization = this.quantization;
    return name;
  }

  ints(name: string, values: number[], shape = [values.length]): string {
    return this.constant(name, shape, values, 'int32');
  }

  op(op: string, name: string, inputs: string[], attr: Record<string, AttrValue> = {}): string {
    this.nodes.push({ name, op, input: inputs, attr: { T: a.type('DT_FLOAT'), ...attr } });
    return name;
  }

  async load(): Promise<GraphModel> {
    const encoded = this.weights.map(encodeWeight);
    const weightData = new Uint8Array(Buffer.concat(encoded.map((e) => e.bytes))).buffer;
    const weightSpecs = encoded.map((e) => e.spec);
    return loadGraphModel(tf.io.fromMemory({ format: 'graph-model', modelTopology: { node: this.nodes, versions: { producer: 1286 } }, weightSpecs, weightData }));
  }
}

export function contractOf(height: number, width: number, classes: number): ModelContract {
  return createContract({ labels: Array.from({ length: classes }, (_, i) => `class${i}`), imageSize: { height, width } });
}

export interface GraphParity extends ParityMetrics {
  ops: Record<string, number>;
}

/**
 * Exports `model`, checks the ONNX rules, and compares onnxruntime-node with tfjs-converter on `images`
 * seeded random inputs. Returns the metrics and the op counts of the ONNX graph.
 */
export async function graphParity(model: GraphModel, contract: ModelContract, options: ExportGraphModelOptions = {}, images = 3, seed = 7): Promise<GraphParity> {
  const { bytes } = exportGraphModel(model, contract, options);
  const onnx = decodeModel(bytes);
  checkModel(onnx);
  const inputs = randomInputs(contract, images, seed);
  const head = graphHead(model, graphDefOf(model), options.outputs);
  const reference = graphModelReference(model, head, inputs.x, inputs.shape);
  const actual = await runOrt(bytes, inputs);
  return { ...compareOutputs(reference, actual, images), ops: opCounts(onnx) };
}

/** fp32 within 1e-5 of tfjs' probabilities and 1e-4 of its logits (relative); fp16 within 2e-2. */
export function assertClose(m: ParityMetrics, fp16: boolean, what: string): void {
  const [p, l] = fp16 ? [2e-2, 2e-2] : [1e-5, 1e-4];
  assert.ok(m.maxAbsDiff <= p, `${what}: max |Δp| ${m.maxAbsDiff} > ${p}`);
  assert.ok(m.maxLogitRelErr <= l, `${what}: logits rel err ${m.maxLogitRelErr} > ${l}`);
}
