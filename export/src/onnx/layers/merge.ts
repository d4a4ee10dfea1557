// Merge layers: Add, Multiply, Average, Maximum, Minimum (element-wise over inputs of one shape, or shapes
// that broadcast with ONNX's rules: a [1, 1, C] gate times [H, W, C] features) and Concatenate over any tfjs
// axis. Inputs are brought to one layout first: NCHW when all are images, tfjs order otherwise.
import { attr, onnxAxis, type Value } from '../graph-builder.js';
import { unsupported, type LayerContext, type LayerConverter } from './context.js';

function commonLayout(ctx: LayerContext): Value[] {
  const b = ctx.builder;
  const { inputs } = ctx;
  if (inputs.length < 2) unsupported(ctx, `it has ${inputs.length} input (a merge takes 2 or more)`);
  const rank = inputs[0].shape.length;
  if (inputs.some((v) => v.shape.length !== rank)) unsupported(ctx, `inputs of different ranks ${JSON.stringify(inputs.map((v) => v.shape.length + 1))}`);
  const [first] = inputs;
  const same = inputs.every((v) => v.layout === first.layout && JSON.stringify(v.chw) === JSON.stringify(first.chw));
  if (same) return inputs;
  if (inputs.every((v) => v.layout === 'nhwc' || v.layout === 'nchw')) return inputs.map((v) => b.nchw(v));
  return inputs.map((v) => b.tfjsOrder(v));
}

function elementwise(op: 'Add' | 'Mul' | 'Max' | 'Min', average = false): LayerConverter {
  return (ctx) => {
    const b = ctx.builder;
    const inputs = commonLayout(ctx);
    const name = ctx.layer.name;
    // tfjs folds its inputs pairwise, left to right (Add and Mul are binary in ONNX before opset 14's Sum).
    let acc = inputs[0].name;
    inputs.slice(1).forEach((v, i) => {
      const last = i === inputs.length - 2 && !average;
      acc = b.node(op, [acc, v.name], last ? name : `${name}/${i + 1}`);
    });
    // tfjs: the sum times 1 / n.
    if (average) acc = b.node('Mul', [acc, b.scalar(`${name}/inv_n`, 1 / inputs.length)], name);
    const shape = inputs[0].shape.map((_, i) => Math.max(...inputs.map((v) => v.shape[i])));
    return { ...inputs[0], name: acc, shape };
  };
}

export const convertAdd = elementwise('Add');
export const convertMultiply = elementwise('Mul');
export const convertAverage = elementwise('Add', true);
export const convertMaximum = elementwise('Max');
export const convertMinimum = elementwise('Min');

/**
 * tfjs' Concatenate defaults to axis -1, and tfjs-layers (4.22, backend/tfjs_backend.ts concatenate()) joins
 * along the last axis for every negative axis: -2 on an image joins channels, not columns, whatever the
 * layer's declared output shape says. The export does what tfjs computes. Flattened values (flat-chw) go to
 * tfjs order: their order is the output's.
 */
export const convertConcatenate: LayerConverter = (ctx) => {
  const b = ctx.builder;
  const raw = commonLayout(ctx);
  const inputs = raw[0].layout === 'flat-chw' ? raw.map((v) => b.tfjsOrder(v)) : raw;
  const tfjsAxis = Number(ctx.config.axis ?? -1);
  const [first] = inputs;
  const rank = first.shape.length + 1;
  const axis = tfjsAxis < 0 ? rank - 1 : tfjsAxis;
  if (!Number.isInteger(axis) || axis < 1 || axis >= rank) unsupported(ctx, `axis ${tfjsAxis} of rank-${rank} inputs`);
  const shape = first.shape.map((d, i) => (i === axis - 1 ? inputs.reduce((n, v) => n + v.shape[i], 0) : d));
  const node = b.node('Concat', inputs.map((v) => v.name), ctx.layer.name, { axis: attr.int(onnxAxis(first, axis)) });
  return { name: node, layout: first.layout, shape, elemType: first.elemType };
};
