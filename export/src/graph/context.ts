// What an op converter works with: the values of the graph (run-time tensors with their layout, and
// constants known at export time), the ONNX builder, and layout conversions made once per value.
import { UnsupportedOpError } from '../errors.js';
import { attr, type Attribute, type GraphBuilder } from '../onnx/graph-builder.js';
import { Attrs, type NodeDef } from './graph-def.js';
import { identity, invert, NCHW, permute, transposeData } from './layout.js';

/** A tensor the ONNX graph computes at run time (always float: float32, or float16 in fp16 models). */
export interface Tensor {
  kind: 'tensor';
  /** ONNX value name. */
  name: string;
  /** The tfjs shape it stands for; -1 where unknown until run time (the batch). */
  shape: number[];
  /** The ONNX tensor is the tfjs tensor transposed by this (see layout.ts). */
  perm: number[];
  /** For a layout conversion: the value it was made from, so conversions never chain. */
  source?: Tensor;
  /**
   * For a flattened image ([batch, H*W*C]) whose ONNX elements are in C,H,W order (Flatten of the NCHW
   * value): that NCHW value. Only MatMul reads it as it is (by permuting its weight rows); every other
   * consumer gets the elements in tfjs order (OpContext.input()).
   */
  chw?: Tensor;
}

/** A tensor known at export time: weights, and shape arithmetic folded by the exporter. */
export interface Constant {
  kind: 'const';
  /** TensorFlow dtype name as tfjs has it: float32, int32, bool. */
  dtype: string;
  shape: number[];
  /** Row-major values; integers as float64, NaN where a value depends on the batch size. */
  data: Float32Array | Float64Array;
}

export type GValue = Tensor | Constant;

export class GraphContext {
  /** ONNX name of each conversion made: by source ONNX name and ONNX permutation (views of one tensor share them). */
  private readonly conversions = new Map<string, string>();

  constructor(
    readonly builder: GraphBuilder,
    readonly opset: number,
    /** The value of the graph's one Placeholder: the model input (after the fp16 Cast in fp16 models). */
    readonly input: Tensor,
    /** The value of a Const node, from the loaded model's weights (dequantized as tfjs reads them). */
    readonly constantOf: (nodeName: string) => Constant | undefined,
  ) {}

  node(opType: string, inputs: string[], base: string, attributes: Record<string, Attribute> = {}): string {
    return this.builder.node(opType, inputs, base, attributes);
  }

  int64(base: string, values: number[]): string {
    return this.builder.int64(base, values);
  }

  /** The tensor in layout `perm`: itself, or one Transpose of the value it came from (made once). */
  inPerm(value: Tensor, perm: number[]): Tensor {
    if (permEquals(value.perm, perm)) return value;
    const source = value.source ?? value;
    if (permEquals(source.perm, perm)) return source;
    // ONNX axis k of the result is tfjs axis perm[k], which is axis inverse(source.perm)[perm[k]] of the source.
    const inverse = invert(source.perm);
    const onnxPerm = perm.map((p) => inverse[p]);
    const key = `${source.name}\u0000${onnxPerm.join(',')}`;
    let name = this.conversions.get(key);
    if (!name) {
      name = this.node('Transpose', [source.name], `${source.name}/t${onnxPerm.join('')}`, { perm: attr.ints(onnxPerm) });
      this.conversions.set(key, name);
    }
    return { kind: 'tensor', name, shape: source.shape, perm, source };
  }

  /** A flattened image in tfjs (H,W,C) element order, made once from its NCHW image when it has one in C,H,W order. */
  hwcOrder(value: Tensor): Tensor {
    if (!value.chw) return value;
    const key = `${value.name}\u0000hwc`;
    let name = this.conversions.get(key);
    if (!name) {
      const image = this.tfjsOrder(value.chw);
      name = this.node('Reshape', [image.name, this.int64(`${value.name}/hwc_shape`, [0, -1])], `${value.name}/hwc`);
      this.conversions.set(key, name);
    }
    return { kind: 'tensor', name, shape: value.shape, perm: value.perm };
  }

  tfjsOrder(value: Tensor): Tensor {
    return this.inPerm(value, identity(value.shape.length));
  }

  nchw(value: Tensor): Tensor {
    if (value.shape.length !== 4) throw new Error(`Internal error: ${value.name} is not an image (rank ${value.shape.length})`);
    return this.inPerm(value, NCHW);
  }

  /**
   * A float constant as an initializer that broadcasts against a tensor of rank `rank` in layout `perm`
   * the way the tfjs constant broadcasts against its tfjs tensor.
   */
  floatConstant(base: string, value: Constant, rank: number, perm: number[]): string {
    const data = Float32Array.from(value.data);
    if (data.length === 1) return this.builder.weight(base, data, []);
    if (value.shape.length > rank) throw new Error(`Internal error: constant ${base} has a higher rank than its tensor`);
    const padded = [...new Array<number>(rank - value.shape.length).fill(1), ...value.shape];
    return this.builder.weight(base, transposeData(data, padded, perm), permute(padded, perm));
  }

  /** A constant used as a run-time tensor (tfjs layout), for ops with no constant folding. */
  constantTensor(base: string, value: Constant): Tensor {
    const name = this.builder.weight(base, Float32Array.from(value.data), value.shape);
    return { kind: 'tensor', name, shape: value.shape, perm: identity(value.shape.length) };
  }
}

const permEquals = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** One node to convert, with its input values. */
export class OpContext {
  readonly attrs: Attrs;

  constructor(
    readonly graph: GraphContext,
    readonly node: NodeDef,
    readonly inputs: GValue[],
  ) {
    this.attrs = new Attrs(node);
  }

  get op(): string {
    return this.node.op;
  }

  /** A fresh ONNX name based on the node's. */
  base(suffix = ''): string {
    return `${this.node.name}${suffix}`;
  }

  unsupported(reason: string): never {
    throw new UnsupportedOpError(this.node.op, this.node.name, reason);
  }

  /** Input i, a flattened image in tfjs element order (see Tensor.chw). */
  input(i: number): GValue {
    const value = this.raw(i);
    return value.kind === 'tensor' && value.chw ? this.graph.hwcOrder(value) : value;
  }

  /** Input i as it is, a flattened image possibly in C,H,W element order. */
  raw(i: number): GValue {
    const value = this.inputs[i];
    if (!value) this.unsupported(`it has ${this.inputs.length} inputs, expected at least ${i + 1}`);
    return value;
  }

  /** Input i as a run-time tensor (a constant becomes an initializer). */
  tensor(i: number): Tensor {
    const value = this.input(i);
    return value.kind === 'tensor' ? value : this.graph.constantTensor(this.base(`/in${i}`), value);
  }

  /** Input i, which must be known at export time (weights, axes, shapes). */
  constant(i: number, what: string): Constant {
    const value = this.input(i);
    if (value.kind !== 'const') this.unsupported(`its ${what} (input ${i}) is computed at run time; only a constant is supported`);
    return value;
  }

  /** Input i as a list of integers (axes, perm, paddings). */
  ints(i: number, what: string): number[] {
    const value = this.constant(i, what);
    const out = Array.from(value.data);
    if (out.some((v) => !Number.isInteger(v))) this.unsupported(`its ${what} depends on the batch size`);
    return out;
  }

  /** Rejects NCHW data_format: tfjs runs graph convolutions and pooling in NHWC. */
  checkNhwc(): void {
    const format = this.attrs.string('data_format', 'NHWC');
    if (format !== 'NHWC') this.unsupported(`data_format "${format}" (only NHWC is supported)`);
  }

  tensorOf(name: string, shape: number[], perm: number[]): Tensor {
    return { kind: 'tensor', name, shape, perm };
  }
}
