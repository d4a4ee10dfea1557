// Layers that move pixels without weights, on NCHW: ZeroPadding2D -> Pad, Cropping2D -> Slice,
// UpSampling2D -> Resize with tfjs' resizeNearestNeighbor / resizeBilinear coordinates (alignCorners and
// halfPixelCenters off: source pixel = output pixel / scale, ONNX's 'asymmetric'; nearest rounds down).
import type { Value } from '../graph-builder.js';
import { checkChannelsLast, singleInput, unsupported, type LayerContext, type LayerConverter } from './context.js';

/** tfjs' [[top, bottom], [left, right]] (or a number, or [symmetric height, symmetric width]) for padding and cropping. */
function sides(ctx: LayerContext, value: unknown): [[number, number], [number, number]] {
  if (typeof value === 'number') return [[value, value], [value, value]];
  if (Array.isArray(value) && value.length === 2) {
    if (value.every((v) => typeof v === 'number')) return [[value[0], value[0]], [value[1], value[1]]];
    if (value.every((v) => Array.isArray(v) && v.length === 2 && v.every((n) => typeof n === 'number'))) return value as [[number, number], [number, number]];
  }
  return unsupported(ctx, `sizes ${JSON.stringify(value)}`);
}

function imageInput(ctx: LayerContext): Value {
  checkChannelsLast(ctx);
  return ctx.builder.nchw(singleInput(ctx));
}

export const convertZeroPadding2D: LayerConverter = (ctx) => {
  const b = ctx.builder;
  const input = imageInput(ctx);
  const [[top, bottom], [left, right]] = sides(ctx, ctx.config.padding ?? 1);
  const pads = b.int64(`${ctx.layer.name}/pads`, [0, 0, top, left, 0, 0, bottom, right]);
  const [h, w, c] = input.shape;
  return { ...input, name: b.node('Pad', [input.name, pads], ctx.layer.name), shape: [h + top + bottom, w + left + right, c] };
};

export const convertCropping2D: LayerConverter = (ctx) => {
  const b = ctx.builder;
  const input = imageInput(ctx);
  const [[top, bottom], [left, right]] = sides(ctx, ctx.config.cropping);
  const [h, w, c] = input.shape;
  const name = ctx.layer.name;
  const inputs = [input.name, b.int64(`${name}/starts`, [top, left]), b.int64(`${name}/ends`, [h - bottom, w - right]), b.int64(`${name}/axes`, [2, 3])];
  return { ...input, name: b.node('Slice', inputs, name), shape: [h - top - bottom, w - left - right, c] };
};

export const convertUpSampling2D: LayerConverter = (ctx) => {
  const b = ctx.builder;
  const input = imageInput(ctx);
  const size = ctx.config.size ?? [2, 2];
  const [sh, sw] = typeof size === 'number' ? [size, size] : (size as number[]);
  const interpolation = ctx.config.interpolation ?? 'nearest';
  if (interpolation !== 'nearest' && interpolation !== 'bilinear') unsupported(ctx, `interpolation ${JSON.stringify(interpolation)}`);
  const name = ctx.layer.name;
  const attributes = {
    mode: { s: interpolation === 'nearest' ? 'nearest' : 'linear' },
    coordinate_transformation_mode: { s: 'asymmetric' },
    ...(interpolation === 'nearest' ? { nearest_mode: { s: 'floor' } } : {}),
  };
  // Resize(X, roi, scales): roi is unused with 'asymmetric' (an empty name omits it); scales stay float32.
  const node = b.node('Resize', [input.name, '', b.float32(`${name}/scales`, [1, 1, sh, sw])], name, attributes);
  const [h, w, c] = input.shape;
  return { ...input, name: node, shape: [h * sh, w * sw, c] };
};
