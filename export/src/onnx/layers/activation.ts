// Activations, fused (Conv2D/Dense `activation`) or as layers (Activation, ReLU, LeakyReLU, PReLU, ELU,
// ThresholdedReLU, Softmax). Each follows tfjs-layers' own formula (activations.ts, advanced_activations.ts),
// not Keras' documentation where they differ. Element-wise activations keep their input's layout; Softmax
// runs over the ONNX axis holding the tfjs axis.
import { attr, onnxAxis, toLayout, type Value } from '../graph-builder.js';
import { singleInput, unsupported, weight, type LayerContext, type LayerConverter, type LayerRef } from './context.js';

/** tfjs activation names (as a layer's config holds them) with a translation. */
export const SUPPORTED_ACTIVATIONS = [
  'linear',
  'relu',
  'relu6',
  'elu',
  'selu',
  'sigmoid',
  'hardSigmoid',
  'tanh',
  'softplus',
  'softsign',
  'swish',
  'gelu',
  'gelu_new',
  'mish',
  'softmax',
  'logSoftmax',
] as const;

const ONE_NODE: Record<string, string> = { relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh', softplus: 'Softplus', softsign: 'Softsign' };

/** tfjs-core's selu constants (ops/selu_util.ts): scale and scale * alpha. */
const SELU_SCALE = 1.0507009873554804934193349852946;
const SELU_SCALE_ALPHA = 1.7580993408473768599402175208123;

type Unary = (ctx: LayerContext, x: Value, base: string) => Value;

function op(ctx: LayerContext, type: string, inputs: string[], base: string, like: Value, attributes?: Parameters<LayerContext['builder']['node']>[3]): Value {
  return { ...like, name: ctx.builder.node(type, inputs, base, attributes) };
}

/** Clip with scalar bounds typed like the data (Clip's min/max are inputs since opset 11); `max` undefined: no upper bound. */
function clip(ctx: LayerContext, value: Value, min: number, max: number | undefined, base: string): Value {
  const b = ctx.builder;
  const inputs = [value.name, b.scalar(`${base}/min`, min)];
  if (max !== undefined) inputs.push(b.scalar(`${base}/max`, max));
  return op(ctx, 'Clip', inputs, base, value);
}

/** Softmax (or LogSoftmax) over a tfjs axis, default the last: the channels, axis 1 in NCHW. */
export function softmax(ctx: LayerContext, value: Value, base: string, axis = -1, type: 'Softmax' | 'LogSoftmax' = 'Softmax'): Value {
  // A flat-chw value's one axis holds all features: a softmax over all of them does not depend on their order.
  const onnx = value.layout === 'flat-chw' ? 1 : onnxAxis(value, axis);
  return op(ctx, type, [value.name], base, value, { axis: attr.int(onnx) });
}

const mul = (ctx: LayerContext, a: Value, b: string, base: string): Value => op(ctx, 'Mul', [a.name, b], base, a);

const ACTIVATIONS: Record<string, Unary> = {
  relu6: (ctx, x, base) => clip(ctx, x, 0, 6, base),
  elu: (ctx, x, base) => op(ctx, 'Elu', [x.name], base, x, { alpha: attr.float(1) }),
  selu: (ctx, x, base) => op(ctx, 'Selu', [x.name], base, x, { alpha: attr.float(SELU_SCALE_ALPHA / SELU_SCALE), gamma: attr.float(SELU_SCALE) }),
  // tfjs: clip(0.2 x + 0.5, 0, 1), which is ONNX HardSigmoid's default (Keras 3 uses slope 1/6: not tfjs).
  hardSigmoid: (ctx, x, base) => op(ctx, 'HardSigmoid', [x.name], base, x, { alpha: attr.float(0.2), beta: attr.float(0.5) }),
  // tfjs: x * sigmoid(x).
  swish: (ctx, x, base) => mul(ctx, x, ctx.builder.node('Sigmoid', [x.name], `${base}/sigmoid`), base),
  // tfjs 'gelu' is the exact one: x * 0.5 * (1 + erf(x / sqrt(2))).
  gelu: (ctx, x, base) => {
    const b = ctx.builder;
    const scaled = b.node('Mul', [x.name, b.scalar(`${base}/rsqrt2`, Math.SQRT1_2)], `${base}/scaled`);
    const erf = b.node('Erf', [scaled], `${base}/erf`);
    const cdf = b.node('Add', [erf, b.scalar(`${base}/one`, 1)], `${base}/cdf`);
    const half = b.node('Mul', [x.name, b.scalar(`${base}/half`, 0.5)], `${base}/half_x`);
    return op(ctx, 'Mul', [half, cdf], base, x);
  },
  // tfjs 'gelu_new' is the tanh approximation: 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))).
  gelu_new: (ctx, x, base) => {
    const b = ctx.builder;
    const cube = b.node('Mul', [b.node('Mul', [x.name, x.name], `${base}/x2`), x.name], `${base}/x3`);
    const inner = b.node('Add', [x.name, b.node('Mul', [cube, b.scalar(`${base}/c`, 0.044715)], `${base}/cx3`)], `${base}/inner`);
    const tanh = b.node('Tanh', [b.node('Mul', [inner, b.scalar(`${base}/k`, Math.sqrt(2 / Math.PI))], `${base}/kinner`)], `${base}/tanh`);
    const onePlus = b.node('Add', [tanh, b.scalar(`${base}/one`, 1)], `${base}/one_plus`);
    const half = b.node('Mul', [x.name, b.scalar(`${base}/half`, 0.5)], `${base}/half_x`);
    return op(ctx, 'Mul', [half, onePlus], base, x);
  },
  // tfjs: x * tanh(softplus(x)) (ONNX's Mish op needs opset 18).
  mish: (ctx, x, base) => {
    const b = ctx.builder;
    return mul(ctx, x, b.node('Tanh', [b.node('Softplus', [x.name], `${base}/softplus`)], `${base}/tanh`), base);
  },
  softmax: (ctx, x, base) => softmax(ctx, x, base),
  logSoftmax: (ctx, x, base) => softmax(ctx, x, base, -1, 'LogSoftmax'),
};

/** Throws UnsupportedLayerError for an activation name without a translation. */
export function checkActivation(ref: LayerRef, activation: string): void {
  if (!(SUPPORTED_ACTIVATIONS as readonly string[]).includes(activation)) {
    unsupported(ref, `activation "${activation}" has no ONNX translation (supported: ${SUPPORTED_ACTIVATIONS.join(', ')})`);
  }
}

/** Applies a tfjs activation by name; 'linear' returns the value unchanged. */
export function applyActivation(ctx: LayerContext, value: Value, activation: string, base: string): Value {
  checkActivation(ctx, activation);
  if (activation === 'linear') return value;
  const special = ACTIVATIONS[activation];
  if (special) return special(ctx, value, base);
  return op(ctx, ONE_NODE[activation], [value.name], base, value);
}

/** The activation a fused layer applies (the head override wins). */
export function fusedActivation(ctx: LayerContext): string {
  return ctx.activation ?? String(ctx.config.activation ?? 'linear');
}

export const convertActivation: LayerConverter = (ctx) => applyActivation(ctx, singleInput(ctx), fusedActivation(ctx), ctx.layer.name);

function numberOr(ctx: LayerContext, key: string, fallback: number): number {
  const value = ctx.config[key] ?? fallback;
  if (typeof value !== 'number') unsupported(ctx, `${key} ${JSON.stringify(value)}`);
  return value;
}

/** tfjs' ReLU layer reads maxValue only (Keras' threshold and negative_slope are not in tfjs): relu, then a clip. */
export const convertReLU: LayerConverter = (ctx) => {
  const input = singleInput(ctx);
  const max = ctx.config.maxValue;
  if (max === null || max === undefined) return applyActivation(ctx, input, 'relu', ctx.layer.name);
  if (typeof max !== 'number') unsupported(ctx, `maxValue ${JSON.stringify(max)}`);
  return clip(ctx, input, 0, max, ctx.layer.name);
};

export const convertLeakyReLU: LayerConverter = (ctx) => {
  const input = singleInput(ctx);
  const alpha = numberOr(ctx, 'alpha', 0.3); // tfjs' default
  return op(ctx, 'LeakyRelu', [input.name], ctx.layer.name, input, { alpha: attr.float(alpha) });
};

/** tfjs' ELU layer only has alpha 1 (it refuses others). */
export const convertELU: LayerConverter = (ctx) => {
  const input = singleInput(ctx);
  return op(ctx, 'Elu', [input.name], ctx.layer.name, input, { alpha: attr.float(numberOr(ctx, 'alpha', 1)) });
};

/** tfjs: x * (x > theta), which is ONNX ThresholdedRelu. */
export const convertThresholdedReLU: LayerConverter = (ctx) => {
  const input = singleInput(ctx);
  return op(ctx, 'ThresholdedRelu', [input.name], ctx.layer.name, input, { alpha: attr.float(numberOr(ctx, 'theta', 1)) });
};

/** PReLU's alpha has the input's per-image shape (1 on sharedAxes): reordered to the value's layout, it broadcasts. */
export const convertPReLU: LayerConverter = (ctx) => {
  const raw = singleInput(ctx);
  const input = raw.layout === 'flat-chw' ? ctx.builder.tfjsOrder(raw) : raw;
  const alpha = weight(ctx, 'alpha');
  const { data, dims } = toLayout(input, alpha.data, alpha.shape);
  const slope = ctx.builder.weight(`${ctx.layer.name}/slope`, data, dims.slice(1));
  return op(ctx, 'PRelu', [input.name, slope], ctx.layer.name, input);
};

/** tfjs' Softmax layer defaults to axis 1 (not -1): the last axis of [N, F] but the height of an image. */
export const convertSoftmax: LayerConverter = (ctx) => {
  const input = singleInput(ctx);
  const axis = ctx.config.axis ?? 1;
  const axes = Array.isArray(axis) ? axis : [axis];
  if (axes.length !== 1 || typeof axes[0] !== 'number') unsupported(ctx, `softmax over axes ${JSON.stringify(axis)} (one axis is supported)`);
  const rank = input.shape.length + 1;
  if (axes[0] === 0 || axes[0] >= rank || axes[0] < -rank + 1) unsupported(ctx, `softmax over axis ${axes[0]} of a rank-${rank} input`);
  return softmax(ctx, input, ctx.layer.name, axes[0]);
};
