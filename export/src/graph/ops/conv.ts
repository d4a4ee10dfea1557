// Conv2D, DepthwiseConv2dNative and their fused forms (_FusedConv2D, FusedDepthwiseConv2dNative: bias and
// an activation), as ONNX Conv in NCHW; MaxPool and AvgPool as ONNX pooling with TensorFlow's padding.
import { attr } from '../../onnx/graph-builder.js';
import { tfOutputSize, tfPads, type PaddingMode } from '../../onnx/padding.js';
import type { Constant, GValue, OpContext, Tensor } from '../context.js';
import { NCHW, transposeData } from '../layout.js';
import { activate } from './elementwise.js';

interface Window {
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
}

/** ONNX pads ([top, left, bottom, right]) and the output size for TF's SAME, VALID or EXPLICIT padding. */
function padding(ctx: OpContext, x: Tensor, w: Window): { pads: number[]; out: [number, number] } {
  const mode = ctx.attrs.string('padding', 'VALID');
  const [, h, wd] = x.shape;
  if (mode === 'EXPLICIT') {
    const e = ctx.attrs.ints('explicit_paddings', []);
    if (e.length !== 8 || e[0] || e[1] || e[6] || e[7]) ctx.unsupported(`explicit_paddings ${JSON.stringify(e)}`);
    const pads = [e[2], e[4], e[3], e[5]];
    const out = [0, 1].map((i) => {
      const size = [h, wd][i] + pads[i] + pads[i + 2];
      const extent = (w.kernel[i] - 1) * w.dilations[i] + 1;
      return Math.floor((size - extent) / w.strides[i]) + 1;
    });
    return { pads, out: out as [number, number] };
  }
  if (mode !== 'SAME' && mode !== 'VALID') return ctx.unsupported(`padding "${mode}"`);
  const tfMode = mode.toLowerCase() as PaddingMode;
  const pads = tfPads(tfMode, { input: [h, wd], ...w });
  return { pads, out: [0, 1].map((i) => tfOutputSize(tfMode, [h, wd][i], w.kernel[i], w.strides[i], w.dilations[i])) as [number, number] };
}

function spatial(ctx: OpContext, name: string): [number, number] {
  const values = ctx.attrs.ints(name, [1, 1, 1, 1]);
  if (values.length !== 4 || values[0] !== 1 || values[3] !== 1) ctx.unsupported(`${name} ${JSON.stringify(values)} (only spatial values)`);
  return [values[1], values[2]];
}

function image(ctx: OpContext): Tensor {
  ctx.checkNhwc();
  const x = ctx.tensor(0);
  if (x.shape.length !== 4 || x.shape.slice(1).some((d) => d < 1)) ctx.unsupported(`its input has shape [${x.shape.join(', ')}], expected [batch, height, width, channels]`);
  return x;
}

/** The fused bias and activation of _FusedConv2D, FusedDepthwiseConv2dNative and _FusedMatMul (tfjs' reading). */
export function fusedOps(ctx: OpContext, firstArg: number): { bias?: Constant; activation?: string; alpha?: number | Constant } {
  if (!ctx.op.includes('Fused')) return {};
  const [extra, activation, ...rest] = ctx.attrs.strings('fused_ops').map((s) => s.toLowerCase());
  if (extra !== 'biasadd' || rest.length > 0) return ctx.unsupported(`fused_ops ${JSON.stringify(ctx.attrs.strings('fused_ops'))} (tfjs runs BiasAdd and one activation)`);
  if (ctx.op === 'FusedDepthwiseConv2dNative' && activation === 'leakyrelu') {
    // tfjs-converter maps no leakyrelu_alpha for this op, so tfjs' slope depends on the backend (wasm: 0).
    return ctx.unsupported('tfjs runs its fused LeakyRelu with a backend-dependent slope, so there is no reference to verify against');
  }
  const bias = ctx.constant(firstArg, 'bias');
  if (activation === 'prelu') return { bias, activation, alpha: ctx.constant(firstArg + 1, 'PReLU alpha') };
  return { bias, activation, alpha: ctx.attrs.float('leakyrelu_alpha', 0.2) };
}

/** Conv2D, DepthwiseConv2dNative, _FusedConv2D, FusedDepthwiseConv2dNative. */
export function conv(ctx: OpContext): GValue {
  const x = image(ctx);
  const filter = ctx.constant(1, 'filter');
  const depthwise = ctx.op.includes('Depthwise');
  const [kh, kw, inC, m] = filter.shape;
  const channels = x.shape[3];
  if (filter.shape.length !== 4 || inC !== channels) ctx.unsupported(`filter shape [${filter.shape.join(', ')}] for ${channels} input channels`);
  const w: Window = { kernel: [kh, kw], strides: spatial(ctx, 'strides'), dilations: spatial(ctx, 'dilations') };
  const { pads, out } = padding(ctx, x, w);
  const outC = depthwise ? inC * m : m;
  // TF [kh, kw, in, out] -> ONNX [out, in, kh, kw]; depthwise [kh, kw, C, m] -> [C*m, 1, kh, kw] (channel c*m+k).
  const data = Float32Array.from(filter.data);
  const weights = depthwise ? transposeData(data, [kh, kw, outC], [2, 0, 1]) : transposeData(data, filter.shape, [3, 2, 0, 1]);
  const g = ctx.graph;
  const inputs = [g.nchw(x).name, g.builder.weight(ctx.base('/W'), weights, [outC, depthwise ? 1 : inC, kh, kw])];
  const fused = fusedOps(ctx, 2);
  if (fused.bias) inputs.push(g.builder.weight(ctx.base('/B'), Float32Array.from(fused.bias.data), [outC]));
  const attributes = {
    kernel_shape: attr.ints([kh, kw]),
    strides: attr.ints(w.strides),
    dilations: attr.ints(w.dilations),
    pads: attr.ints(pads),
    group: attr.int(depthwise ? inC : 1),
  };
  const result = ctx.tensorOf(g.node('Conv', inputs, ctx.base(fused.activation ? '/conv' : ''), attributes), [x.shape[0], ...out, outC], NCHW);
  return fused.activation ? activate(ctx, result, fused.activation, fused.alpha) : result;
}

/** MaxPool, AvgPool (TF's average leaves the padding out of the count, as ONNX's default does). */
export function pool(ctx: OpContext): GValue {
  const x = image(ctx);
  const w: Window = { kernel: spatial(ctx, 'ksize'), strides: spatial(ctx, 'strides'), dilations: [1, 1] };
  const { pads, out } = padding(ctx, x, w);
  const name = ctx.graph.node(ctx.op === 'MaxPool' ? 'MaxPool' : 'AveragePool', [ctx.graph.nchw(x).name], ctx.base(), {
    kernel_shape: attr.ints(w.kernel),
    strides: attr.ints(w.strides),
    pads: attr.ints(pads),
  });
  return ctx.tensorOf(name, [x.shape[0], ...out, x.shape[3]], NCHW);
}
