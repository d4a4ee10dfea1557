// Accumulates ONNX nodes and initializers with unique names, and keeps track of each value's memory
// layout, so that layout changes (NHWC <-> NCHW, flatten order) are inserted only where a consumer needs
// them, and at most once per value.
import { DEFAULT_OPSET } from './opset.js';
import type { AttributeProto, NodeProto } from './types.js';
import { AttributeType, DataType } from './types.js';

/**
 * How a value's elements are laid out in ONNX, relative to the tfjs tensor it stands for:
 * - nhwc: as tfjs (the model input, before its one Transpose, and a Reshape's [H, W, C] output);
 * - nchw: channels first, as ONNX Conv and pooling need;
 * - flat: [N, F], same element order as tfjs;
 * - flat-chw: [N, F] flattened from NCHW, so in C,H,W order where tfjs has H,W,C (see `chw`);
 * - nd: as tfjs, any other rank ([N, steps, F] after a RepeatVector or a Reshape, [N, A, B, C, D]...).
 * nhwc, flat and nd are "tfjs order": ONNX axis k is tfjs axis k.
 */
export type Layout = 'nhwc' | 'nchw' | 'flat' | 'flat-chw' | 'nd';

export interface Value {
  name: string;
  layout: Layout;
  /** tfjs shape without the batch dimension: [H, W, C] for images, [F] for flat values. */
  shape: number[];
  /** For flat-chw: the [H, W, C] it was flattened from. */
  chw?: [number, number, number];
  /** ONNX element type of the value. */
  elemType: number;
}

export type Attribute = { i: number } | { ints: number[] } | { f: number } | { s: string };
export const attr = {
  int: (i: number): Attribute => ({ i }),
  ints: (ints: number[]): Attribute => ({ ints }),
  float: (f: number): Attribute => ({ f }),
};

function toAttributeProto(name: string, value: Attribute): AttributeProto {
  if ('i' in value) return { name, type: AttributeType.INT, i: value.i };
  if ('ints' in value) return { name, type: AttributeType.INTS, ints: value.ints };
  if ('f' in value) return { name, type: AttributeType.FLOAT, f: value.f };
  return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value.s) };
}

/** A constant tensor: weights (float32, converted at serialization for fp16) or int64 shapes. */
export interface Initializer {
  name: string;
  dims: number[];
  data: Float32Array | BigInt64Array;
  /** Stays float32 in fp16 models (inputs ONNX types as float only, such as Resize's scales). */
  float32?: boolean;
}

/** The tfjs-order layout of a value with this per-image shape. */
export function tfjsLayout(shape: readonly number[]): Layout {
  if (shape.length === 1) return 'flat';
  return shape.length === 3 ? 'nhwc' : 'nd';
}

/**
 * Which tfjs axis each ONNX axis of the value holds (batch included): the identity in tfjs order, [0, 3, 1, 2]
 * for NCHW. A flat-chw value has no per-axis mapping (its one axis mixes three): callers put it in tfjs order first.
 */
export function physicalAxes(value: Value): number[] {
  if (value.layout === 'nchw') return [0, 3, 1, 2];
  if (value.layout === 'flat-chw') throw new Error(`Internal error: ${value.name} has no per-axis layout`);
  return Array.from({ length: value.shape.length + 1 }, (_, i) => i);
}

/** The ONNX axis of the value holding tfjs axis `axis` (negative counts from the end, as in tfjs). */
export function onnxAxis(value: Value, axis: number): number {
  const rank = value.shape.length + 1;
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 1 || a >= rank) throw new RangeError(`axis ${axis} is out of range for a rank-${rank} tensor (or is the batch axis)`);
  return physicalAxes(value).indexOf(a);
}

/** The tfjs shape of a per-image constant, and its data, reordered to the value's ONNX layout (batch axis 1 added). */
export function toLayout(value: Value, data: Float32Array, shape: readonly number[]): { data: Float32Array; dims: number[] } {
  const axes = physicalAxes(value);
  const full = [1, ...shape];
  const dims = axes.map((a) => full[a]);
  if (axes.every((a, i) => a === i)) return { data, dims };
  const strides = full.map((_, i) => full.slice(i + 1).reduce((x, y) => x * y, 1));
  const out = new Float32Array(data.length);
  const index = new Array<number>(dims.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let from = 0;
    for (let j = 0; j < dims.length; j++) from += index[j] * strides[axes[j]];
    out[o] = data[from];
    for (let j = dims.length - 1; j >= 0; j--) {
      if (++index[j] < dims[j]) break;
      index[j] = 0;
    }
  }
  return { data: out, dims };
}

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: Initializer[] = [];
  private readonly names = new Set<string>();
  private readonly layoutCache = new Map<string, Value>();
  private readonly produced = new Set<string>();
  private readonly weightsByBase = new Map<string, { name: string; dims: number[]; data: Float32Array }[]>();

  /** `reserved`: names only the caller may give (the graph's input and outputs). `opset`: the one the graph is written for. */
  constructor(
    reserved: readonly string[],
    readonly opset: number = DEFAULT_OPSET,
  ) {
    for (const name of reserved) this.names.add(name);
  }

  /** `base`, or `base_2`, `base_3`... whichever is still free. */
  unique(base: string): string {
    let name = base;
    for (let i = 2; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  /**
   * Adds a node and returns the name of its (single) output: a fresh name from `outputBase`, or exactly
   * `outputBase` when `exact` (for the reserved graph output names; each can be produced once).
   */
  node(opType: string, inputs: string[], outputBase: string, attributes: Record<string, Attribute> = {}, exact = false): string {
    if (exact && this.produced.has(outputBase)) throw new Error(`Internal error: ${outputBase} is produced twice`);
    const output = exact ? outputBase : this.unique(outputBase);
    this.produced.add(output);
    this.nodes.push({
      name: output,
      op_type: opType,
      input: inputs,
      output: [output],
      attribute: Object.entries(attributes).map(([name, value]) => toAttributeProto(name, value)),
    });
    return output;
  }

  /**
   * Adds a float initializer (stored as float16 when the model is exported with fp16). A layer called more
   * than once asks for the same weight under the same base name each time: an identical one is reused.
   */
  weight(base: string, data: Float32Array, dims: number[]): string {
    const same = (this.weightsByBase.get(base) ?? []).find(
      (w) => w.dims.length === dims.length && w.dims.every((d, i) => d === dims[i]) && w.data.length === data.length && w.data.every((v, i) => Object.is(v, data[i])),
    );
    if (same) return same.name;
    const name = this.unique(base);
    const init = { name, dims, data };
    this.initializers.push(init);
    this.weightsByBase.set(base, [...(this.weightsByBase.get(base) ?? []), init]);
    return name;
  }

  /** Adds a float initializer that stays float32 in fp16 models. */
  float32(base: string, values: number[]): string {
    const name = this.unique(base);
    this.initializers.push({ name, dims: [values.length], data: Float32Array.from(values), float32: true });
    return name;
  }

  /** A one-element constant typed like the data (float16 in fp16 models). */
  scalar(base: string, value: number): string {
    return this.weight(base, Float32Array.of(value), []);
  }

  /**
   * A ReduceMean/ReduceMax/ReduceSum over ONNX axes: `axes` is an attribute before opset 18 (13 for
   * ReduceSum) and an input from then on.
   */
  reduce(op: 'ReduceMean' | 'ReduceMax' | 'ReduceSum', input: string, axes: number[], keepdims: boolean, outputBase: string): string {
    const axesAreInput = this.opset >= (op === 'ReduceSum' ? 13 : 18);
    if (axesAreInput) return this.node(op, [input, this.int64(`${outputBase}/axes`, axes)], outputBase, { keepdims: attr.int(keepdims ? 1 : 0) });
    return this.node(op, [input], outputBase, { axes: attr.ints(axes), keepdims: attr.int(keepdims ? 1 : 0) });
  }

  /** Adds an int64 initializer (shapes for Reshape). */
  int64(base: string, values: number[]): string {
    const name = this.unique(base);
    this.initializers.push({ name, dims: [values.length], data: BigInt64Array.from(values, BigInt) });
    return name;
  }

  /**
   * A Transpose of `input`; one that reads another Transpose's output reads that one's input instead, with
   * the two permutations composed (and is no node at all when they cancel). The first is pruned if unused.
   */
  transpose(input: string, perm: number[], outputBase: string): string {
    const producer = this.nodes.find((n) => n.op_type === 'Transpose' && n.output[0] === input);
    const first = producer?.attribute?.find((a) => a.name === 'perm')?.ints;
    if (producer && first) {
      perm = perm.map((k) => Number(first[k]));
      input = producer.input[0];
      if (perm.every((p, i) => p === i)) return input;
    }
    return this.node('Transpose', [input], outputBase, { perm: attr.ints(perm) });
  }

  /** Drops nodes and initializers that no graph output depends on (a Transpose composed away, say). */
  prune(outputs: readonly string[]): void {
    const needed = new Set(outputs);
    const kept: NodeProto[] = [];
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const node = this.nodes[i];
      if (!node.output.some((o) => needed.has(o))) continue;
      kept.push(node);
      for (const input of node.input) needed.add(input);
    }
    this.nodes.splice(0, this.nodes.length, ...kept.reverse());
    const used = this.initializers.filter((init) => needed.has(init.name));
    this.initializers.splice(0, this.initializers.length, ...used);
  }

  /** Renames a value everywhere it appears (used for the graph's output names). */
  rename(from: string, to: string): void {
    for (const node of this.nodes) {
      node.input = node.input.map((n) => (n === from ? to : n));
      node.output = node.output.map((n) => (n === from ? to : n));
      if (node.name === from) node.name = to;
    }
  }

  private cached(value: Value, layout: Layout, make: () => Value): Value {
    if (value.layout === layout) return value;
    const key = `${value.name}\u0000${layout}`;
    let converted = this.layoutCache.get(key);
    if (!converted) {
      converted = make();
      this.layoutCache.set(key, converted);
    }
    return converted;
  }

  /** The value in NCHW, for Conv, pooling and BatchNormalization. */
  nchw(value: Value): Value {
    if (value.layout !== 'nhwc' && value.layout !== 'nchw') throw new Error(`Internal error: ${value.name} is not an image`);
    return this.cached(value, 'nchw', () => ({
      ...value,
      layout: 'nchw',
      name: this.transpose(value.name, [0, 3, 1, 2], `${value.name}/nchw`),
    }));
  }

  /** The value in tfjs' own layout (NHWC images, flat in H,W,C order): for graph outputs and order-sensitive consumers. */
  tfjsOrder(value: Value): Value {
    if (value.layout === 'nchw') {
      return this.cached(value, 'nhwc', () => ({
        ...value,
        layout: 'nhwc',
        name: this.transpose(value.name, [0, 2, 3, 1], `${value.name}/nhwc`),
      }));
    }
    if (value.layout !== 'flat-chw') return value;
    return this.cached(value, 'flat', () => {
      const [h, w, c] = value.chw as [number, number, number];
      const shape = this.int64(`${value.name}/chw_shape`, [-1, c, h, w]);
      const image = this.node('Reshape', [value.name, shape], `${value.name}/chw`);
      const nhwc = this.node('Transpose', [image], `${value.name}/hwc`, { perm: attr.ints([0, 2, 3, 1]) });
      const flat = this.node('Flatten', [nhwc], `${value.name}/flat`, { axis: attr.int(1) });
      return { name: flat, layout: 'flat', shape: value.shape, elemType: value.elemType };
    });
  }

  /** Casts a value to another element type (fp16 models: after the input and before the outputs). */
  cast(value: Value, to: number, outputName?: string): Value {
    const name = outputName ?? `${value.name}/${to === DataType.FLOAT16 ? 'fp16' : 'fp32'}`;
    return { ...value, name: this.node('Cast', [value.name], name, { to: attr.int(to) }, outputName !== undefined), elemType: to };
  }
}
