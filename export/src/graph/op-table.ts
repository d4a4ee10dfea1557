// The single list of TensorFlow ops the graph translator supports: op name -> converter. The README's list
// and the "Supported: ..." of UnsupportedOpError are generated from it.
import type { GValue, OpContext } from './context.js';
import { conv, pool } from './ops/conv.js';
import { BINARY_OPS, binary, softmax, unary } from './ops/elementwise.js';
import { matMul } from './ops/matmul.js';
import { fusedBatchNorm } from './ops/normalization.js';
import { reduce } from './ops/reduce.js';
import { cast, gather, pack, prod, shapeOf, sizeOrRank, slice, stridedSlice } from './ops/shape-arithmetic.js';
import { concat, expandDims, identityOp, pad, reshape, squeeze, transpose } from './ops/shape.js';

export type OpConverter = (ctx: OpContext) => GValue;

const placeholder: OpConverter = (ctx) => ctx.graph.input;

const constOp: OpConverter = (ctx) => ctx.graph.constantOf(ctx.node.name) ?? ctx.unsupported('its value is missing from the weights manifest');

const UNARY_OPS = ['Relu', 'Relu6', 'Elu', 'Selu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Softplus', 'Rsqrt', 'Sqrt', 'Square', 'Exp', 'Neg'];

export const GRAPH_OPS: Readonly<Record<string, OpConverter>> = {
  Placeholder: placeholder,
  Const: constOp,
  Identity: identityOp,
  Conv2D: conv,
  DepthwiseConv2dNative: conv,
  _FusedConv2D: conv,
  FusedDepthwiseConv2dNative: conv,
  MatMul: matMul,
  _FusedMatMul: matMul,
  ...Object.fromEntries(BINARY_OPS.map((op) => [op, binary])),
  ...Object.fromEntries(UNARY_OPS.map((op) => [op, unary])),
  MaxPool: pool,
  AvgPool: pool,
  Mean: reduce,
  Max: reduce,
  Sum: reduce,
  Pad: pad,
  PadV2: pad,
  MirrorPad: pad,
  ConcatV2: concat,
  Reshape: reshape,
  Squeeze: squeeze,
  ExpandDims: expandDims,
  Transpose: transpose,
  Softmax: softmax,
  FusedBatchNorm: fusedBatchNorm,
  FusedBatchNormV3: fusedBatchNorm,
  Shape: shapeOf,
  StridedSlice: stridedSlice,
  Pack: pack,
  Prod: prod,
  Cast: cast,
  Slice: slice,
  GatherV2: gather,
  Size: sizeOrRank,
  Rank: sizeOrRank,
};

/** Every TensorFlow op exportGraphModel() translates, sorted. */
export const SUPPORTED_GRAPH_OPS: readonly string[] = Object.keys(GRAPH_OPS).sort();

/** Ops computed at export time only (their inputs must be constants or, for Shape, a shape known statically). */
export const FOLDED_ONLY_OPS: readonly string[] = ['FloorDiv', 'GatherV2', 'Pack', 'Prod', 'Rank', 'Shape', 'Size', 'Slice', 'StridedSlice'];
