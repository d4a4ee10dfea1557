// MaxPooling2D / AveragePooling2D -> MaxPool / AveragePool with TF padding; GlobalAveragePooling2D and
// GlobalMaxPooling2D -> GlobalAveragePool / GlobalMaxPool (then Flatten unless keepDims). AveragePool leaves
// padded cells out of the average (count_include_pad 0), as TensorFlow does.
import { attr, type Value } from '../graph-builder.js';
import { tfOutputSize, tfPads } from '../padding.js';
import { paddingMode } from './conv.js';
import { checkChannelsLast, pair, singleInput, unsupported, type LayerContext, type LayerConverter } from './context.js';

function pool(ctx: LayerContext, op: 'MaxPool' | 'AveragePool'): Value {
  checkChannelsLast(ctx);
  const b = ctx.builder;
  const input = b.nchw(singleInput(ctx));
  const kernel = pair(ctx.config.poolSize);
  const strides = pair(ctx.config.strides ?? ctx.config.poolSize);
  const mode = paddingMode(ctx.config.padding, (reason) => unsupported(ctx, reason));
  const [h, w, c] = input.shape;
  const pads = tfPads(mode, { input: [h, w], kernel, strides, dilations: [1, 1] });
  const attributes = { kernel_shape: attr.ints(kernel), strides: attr.ints(strides), pads: attr.ints(pads), ...(op === 'AveragePool' ? { count_include_pad: attr.int(0) } : {}) };
  const shape = [tfOutputSize(mode, h, kernel[0], strides[0], 1), tfOutputSize(mode, w, kernel[1], strides[1], 1), c];
  return { ...input, name: b.node(op, [input.name], ctx.layer.name, attributes), shape };
}

export const convertMaxPooling2D: LayerConverter = (ctx) => pool(ctx, 'MaxPool');
export const convertAveragePooling2D: LayerConverter = (ctx) => pool(ctx, 'AveragePool');

function globalPool(ctx: LayerContext, op: 'GlobalAveragePool' | 'GlobalMaxPool'): Value {
  checkChannelsLast(ctx);
  const b = ctx.builder;
  const input = b.nchw(singleInput(ctx));
  const channels = input.shape[2];
  const name = ctx.layer.name;
  const pooled = b.node(op, [input.name], ctx.config.keepDims ? name : `${name}/pool`);
  if (ctx.config.keepDims) return { ...input, name: pooled, shape: [1, 1, channels] };
  return { name: b.node('Flatten', [pooled], name, { axis: attr.int(1) }), layout: 'flat', shape: [channels], elemType: input.elemType };
}

export const convertGlobalAveragePooling2D: LayerConverter = (ctx) => globalPool(ctx, 'GlobalAveragePool');
export const convertGlobalMaxPooling2D: LayerConverter = (ctx) => globalPool(ctx, 'GlobalMaxPool');
