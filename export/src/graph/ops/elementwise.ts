// Elementwise ops: activations and math on one tensor, and the broadcasting binary ops. They keep their
// input's layout, so a Relu or a residual Add between two convolutions needs no Transpose.
import { attr } from '../../onnx/graph-builder.js';
import type { Constant, GValue, OpContext, Tensor } from '../context.js';
import { broadcastShapes, identity } from '../layout.js';
import { foldBinary, foldUnary } from './fold.js';
import { flattenChw } from './flatten.js';

// TensorFlow's SELU constants (tf.nn.selu); ONNX Selu's defaults are the same numbers in float32.
const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

const softplus = (x: number): number => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
const elu = (x: number): number => (x >= 0 ? x : Math.expm1(x));

/** tfjs activation names (lowercase, as fused ops carry them) -> how to apply them. */
export type Activation = 'relu' | 'relu6' | 'elu' | 'selu' | 'leakyrelu' | 'sigmoid' | 'tanh' | 'softplus' | 'prelu';

/** Applies an activation to a tensor. `alpha`: LeakyRelu's slope, or PReLU's constant slopes. */
export function activate(ctx: OpContext, x: Tensor, activation: string, alpha?: number | Constant): Tensor {
  const g = ctx.graph;
  const out = (name: string): Tensor => ({ ...x, name, source: undefined });
  const base = ctx.base(`/${activation}`);
  switch (activation) {
    case 'relu':
      return out(g.node('Relu', [x.name], base));
    case 'relu6': {
      const bounds = [g.builder.weight(`${base}/min`, Float32Array.of(0), []), g.builder.weight(`${base}/max`, Float32Array.of(6), [])];
      return out(g.node('Clip', [x.name, ...bounds], base));
    }
    case 'elu':
      return out(g.node('Elu', [x.name], base, { alpha: attr.float(1) }));
    case 'selu':
      return out(g.node('Selu', [x.name], base, { alpha: attr.float(SELU_ALPHA), gamma: attr.float(SELU_SCALE) }));
    case 'leakyrelu':
      return out(g.node('LeakyRelu', [x.name], base, { alpha: attr.float(typeof alpha === 'number' ? alpha : 0.2) }));
    case 'sigmoid':
      return out(g.node('Sigmoid', [x.name], base));
    case 'tanh':
      return out(g.node('Tanh', [x.name], base));
    case 'softplus':
      return out(g.node('Softplus', [x.name], base));
    case 'prelu': {
      if (typeof alpha !== 'object') return ctx.unsupported('PReLU without its alpha weights');
      const slope = g.floatConstant(`${base}/alpha`, alpha, x.shape.length, x.perm);
      return out(g.node('PRelu', [x.name, slope], base));
    }
    default:
      return ctx.unsupported(`fused activation "${activation}" (supported: relu, relu6, elu, leakyrelu, sigmoid, prelu)`);
  }
}

const UNARY_FOLDS: Record<string, (x: number) => number> = {
  Relu: (x) => Math.max(x, 0),
  Relu6: (x) => Math.min(Math.max(x, 0), 6),
  Elu: elu,
  Selu: (x) => SELU_SCALE * (x >= 0 ? x : SELU_ALPHA * Math.expm1(x)),
  Sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  Tanh: Math.tanh,
  Softplus: softplus,
  Rsqrt: (x) => 1 / Math.sqrt(x),
  Sqrt: Math.sqrt,
  Square: (x) => x * x,
  Exp: Math.exp,
  Neg: (x) => -x,
};

/** Relu, Relu6, Elu, Selu, LeakyRelu, Sigmoid, Tanh, Softplus, Rsqrt, Sqrt, Square, Exp, Neg. */
export function unary(ctx: OpContext): GValue {
  const raw = ctx.raw(0);
  if (raw.kind === 'const') {
    if (ctx.op === 'LeakyRelu') {
      const alpha = ctx.attrs.float('alpha', 0.2);
      return foldUnary(raw, (x) => (x >= 0 ? x : alpha * x));
    }
    return foldUnary(raw, UNARY_FOLDS[ctx.op]);
  }
  // Elementwise commutes with flattening: a flattened NCHW image stays one for the MatMul after it.
  if (raw.chw) return flattenChw(ctx, unaryTensor(ctx, raw.chw));
  return unaryTensor(ctx, raw);
}

function unaryTensor(ctx: OpContext, input: Tensor): Tensor {
  const g = ctx.graph;
  const out = (name: string): Tensor => ({ ...input, name, source: undefined });
  switch (ctx.op) {
    case 'LeakyRelu':
      return activate(ctx, input, 'leakyrelu', ctx.attrs.float('alpha', 0.2));
    case 'Relu':
    case 'Relu6':
    case 'Elu':
    case 'Selu':
    case 'Sigmoid':
    case 'Tanh':
    case 'Softplus':
      return activate(ctx, input, ctx.op.toLowerCase());
    case 'Rsqrt':
      return out(g.node('Reciprocal', [g.node('Sqrt', [input.name], ctx.base('/sqrt'))], ctx.base()));
    case 'Square':
      return out(g.node('Mul', [input.name, input.name], ctx.base()));
    case 'Sqrt':
    case 'Exp':
    case 'Neg':
      return out(g.node(ctx.op, [input.name], ctx.base()));
    default:
      throw new Error(`Internal error: ${ctx.op} is no unary op`);
  }
}

const BINARY: Record<string, { onnx: string; fold: (x: number, y: number) => number }> = {
  Add: { onnx: 'Add', fold: (x, y) => x + y },
  AddV2: { onnx: 'Add', fold: (x, y) => x + y },
  BiasAdd: { onnx: 'Add', fold: (x, y) => x + y },
  Sub: { onnx: 'Sub', fold: (x, y) => x - y },
  Mul: { onnx: 'Mul', fold: (x, y) => x * y },
  RealDiv: { onnx: 'Div', fold: (x, y) => x / y },
  FloorDiv: { onnx: '', fold: (x, y) => Math.floor(x / y) },
  Maximum: { onnx: 'Max', fold: Math.max },
  Minimum: { onnx: 'Min', fold: Math.min },
  SquaredDifference: { onnx: 'Sub', fold: (x, y) => (x - y) * (x - y) },
};

export const BINARY_OPS = Object.keys(BINARY);

/**
 * Broadcasting binary ops. A constant operand is stored in the layout of the tensor it meets; two tensors
 * of one rank meet in the first one's layout; anything else is computed in tfjs layout.
 */
export function binary(ctx: OpContext): GValue {
  const op = BINARY[ctx.op];
  if (ctx.op === 'BiasAdd') ctx.checkNhwc();
  const a = ctx.input(0);
  const b = ctx.input(1);
  if (a.kind === 'const' && b.kind === 'const') return foldBinary(a, b, op.fold);
  if (!op.onnx) return ctx.unsupported('it is supported on constants only (shape arithmetic)');
  const g = ctx.graph;
  const shape = broadcastShapes(a.shape, b.shape);
  const operand = (v: GValue, other: GValue, i: number): { name: string; perm: number[] } | undefined => {
    if (v.kind === 'tensor' || other.kind !== 'tensor' || v.shape.length > other.shape.length) return undefined;
    return { name: g.floatConstant(ctx.base(`/in${i}`), v, other.shape.length, other.perm), perm: other.perm };
  };
  let names: [string, string];
  let perm: number[];
  const ca = operand(a, b, 0);
  const cb = operand(b, a, 1);
  if (cb) {
    names = [(a as Tensor).name, cb.name];
    perm = cb.perm;
  } else if (ca) {
    names = [ca.name, (b as Tensor).name];
    perm = ca.perm;
  } else if (a.kind === 'tensor' && b.kind === 'tensor' && a.shape.length === b.shape.length) {
    names = [a.name, g.inPerm(b, a.perm).name];
    perm = a.perm;
  } else {
    names = [g.tfjsOrder(ctx.tensor(0)).name, g.tfjsOrder(ctx.tensor(1)).name];
    perm = identity(shape.length);
  }
  let name = g.node(op.onnx, names, ctx.base(ctx.op === 'SquaredDifference' ? '/diff' : ''));
  if (ctx.op === 'SquaredDifference') name = g.node('Mul', [name, name], ctx.base());
  return ctx.tensorOf(name, shape, perm);
}

/** Softmax over the last tfjs axis, wherever the layout puts it. */
export function softmax(ctx: OpContext): GValue {
  const x = ctx.tensor(0);
  const axis = x.perm.indexOf(x.shape.length - 1);
  return ctx.tensorOf(ctx.graph.node('Softmax', [x.name], ctx.base(), { axis: attr.int(axis) }), x.shape, x.perm);
}
