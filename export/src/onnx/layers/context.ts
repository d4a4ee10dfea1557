// What a layer converter gets: the builder, the layer, its config and weights, and its input values.
import type { Layer } from '@pets/train/tfjs';
import { UnsupportedLayerError } from '../../errors.js';
import type { BatchNormParams } from '../fold-batch-norm.js';
import type { GraphBuilder, Value } from '../graph-builder.js';

export interface LayerWeight {
  data: Float32Array;
  shape: number[];
}

export interface LayerContext {
  builder: GraphBuilder;
  layer: Layer;
  /** tfjs class name, e.g. "Conv2D". */
  className: string;
  /** The layer's serialized config (what model.json holds). */
  config: Record<string, unknown>;
  inputs: Value[];
  /** Weights by their short name: kernel, bias, gamma, beta, moving_mean, moving_variance. */
  weights: Map<string, LayerWeight>;
  /** Conv2D and DepthwiseConv2D only: the BatchNormalization that follows it, to fold in. */
  foldBatchNorm?: BatchNormParams;
  /** Replaces the configured activation (the softmax head is exported as 'linear' plus the final Softmax). */
  activation?: string;
}

/** What the checks that need no weights or shapes read: the layer, its class and its config. */
export type LayerRef = Pick<LayerContext, 'layer' | 'className' | 'config'>;

/** Converts one layer and returns its output value. */
export type LayerConverter = (ctx: LayerContext) => Value;

export function unsupported(ctx: LayerRef, reason: string): never {
  throw new UnsupportedLayerError(ctx.className, ctx.layer.name, reason);
}

export function weight(ctx: LayerContext, name: string): LayerWeight {
  const found = ctx.weights.get(name);
  if (!found) unsupported(ctx, `it has no "${name}" weight`);
  return found;
}

/** A [a, b] or a number config entry as a pair. */
export function pair(value: unknown): [number, number] {
  if (typeof value === 'number') return [value, value];
  if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number')) return [value[0], value[1]];
  throw new Error(`Internal error: expected a number pair, got ${JSON.stringify(value)}`);
}

/** Rejects channels-first layers: pets models are NHWC like the contract. */
export function checkChannelsLast(ctx: LayerRef): void {
  const format = ctx.config.dataFormat;
  if (format !== undefined && format !== 'channelsLast') unsupported(ctx, `dataFormat "${String(format)}" (only channelsLast is supported)`);
}

/** The single input of a layer that takes one. */
export function singleInput(ctx: LayerContext): Value {
  if (ctx.inputs.length !== 1) unsupported(ctx, `it has ${ctx.inputs.length} inputs (expected 1)`);
  return ctx.inputs[0];
}
