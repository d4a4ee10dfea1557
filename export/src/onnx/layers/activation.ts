// Activations, fused (Conv2D/Dense `activation`) or as layers (Activation, ReLU, LeakyReLU, Softmax). Element-wise
// activations keep their input's layout; Softmax runs over the channel axis, wherever the layout puts it.
import { attr, type Value } from '../graph-builder.js';
import { singleInput, unsupported, type LayerContext, type LayerConverter, type LayerRef } from './context.js';

/** tfjs activation names with a one-node ONNX equivalent. */
export const SUPPORTED_ACTIVATIONS = ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'tanh', 'softplus', 'softsign', 'softmax'] as const;

const ELEMENTWISE: Record<string, string> = { relu: 'Relu', elu: 'Elu', sigmoid: 'Sigmoid', tanh: 'Tanh', softplus: 'Softplus', softsign: 'Softsign' };

/** Scalar bounds for Clip, typed like the data (Clip's min/max are inputs since opset 11). */
function clip(ctx: LayerContext, value: Value, min: number, max: number, base: string): Value {
  const b = ctx.builder;
  const lo = b.weight(`${base}/min`, Float32Array.of(min), []);
  const hi = b.weight(`${base}/max`, Float32Array.of(max), []);
  return { ...value, name: b.node('Clip', [value.name, lo, hi], base) };
}

/** Softmax over tfjs' last axis: the channels, which are axis 1 in NCHW and in [N, F]. */
export function softmax(ctx: LayerContext, value: Value, base: string): Value {
  const axis = value.layout === 'nhwc' ? 3 : 1;
  return { ...value, name: ctx.builder.node('Softmax', [value.name], base, { axis: attr.int(axis) }) };
}

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
  if (activation === 'softmax') return softmax(ctx, value, base);
  if (activation === 'relu6') return clip(ctx, value, 0, 6, base);
  const op = ELEMENTWISE[activation];
  const attributes = op === 'Elu' ? { alpha: attr.float(1) } : undefined;
  return { ...value, name: ctx.builder.node(op, [value.name], base, attributes) };
}

/** The activation a fused layer applies (the head override wins). */
export function fusedActivation(ctx: LayerContext): string {
  return ctx.activation ?? String(ctx.config.activation ?? 'linear');
}

export const convertActivation: LayerConverter = (ctx) => applyActivation(ctx, singleInput(ctx), fusedActivation(ctx), ctx.layer.name);

export const convertReLU: LayerConverter = (ctx) => {
  const input = singleInput(ctx);
  const max = ctx.config.maxValue;
  if (max === null || max === undefined) return applyActivation(ctx, input, 'relu', ctx.layer.name);
  if (typeof max !== 'number') unsupported(ctx, `maxValue ${JSON.stringify(max)}`);
  return clip(ctx, input, 0, max, ctx.layer.name);
};

export const convertLeakyReLU: LayerConverter = (ctx) => {
  const input = singleInput(ctx);
  const alpha = ctx.config.alpha ?? 0.3; // tfjs' default
  if (typeof alpha !== 'number') unsupported(ctx, `alpha ${JSON.stringify(alpha)}`);
  return { ...input, name: ctx.builder.node('LeakyRelu', [input.name], ctx.layer.name, { alpha: attr.float(alpha) }) };
};

export const convertSoftmax: LayerConverter = (ctx) => {
  const input = singleInput(ctx);
  const axis = ctx.config.axis ?? 1; // tfjs' default, which is the last axis of [N, F]
  const rank = input.shape.length + 1;
  if (axis !== -1 && axis !== rank - 1) unsupported(ctx, `softmax over axis ${JSON.stringify(axis)} (only the last axis is supported)`);
  return softmax(ctx, input, ctx.layer.name);
};
