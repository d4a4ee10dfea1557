// MatMul and _FusedMatMul (bias and activation) on 2-D tensors, as ONNX Gemm.
import { attr } from '../../onnx/graph-builder.js';
import type { GValue, OpContext } from '../context.js';
import { transposeData } from '../layout.js';
import { activate } from './elementwise.js';
import { fusedOps } from './conv.js';

export function matMul(ctx: OpContext): GValue {
  const g = ctx.graph;
  const transA = ctx.attrs.bool('transpose_a', false);
  const transB = ctx.attrs.bool('transpose_b', false);
  const [a, b] = [ctx.raw(0), ctx.input(1)];
  if (a.shape.length !== 2 || b.shape.length !== 2) ctx.unsupported(`operands of rank ${a.shape.length} and ${b.shape.length} (only 2-D MatMul is supported)`);
  const operand = (i: number) => {
    const v = ctx.input(i);
    return v.kind === 'const' ? g.builder.weight(ctx.base(i === 0 ? '/A' : '/W'), Float32Array.from(v.data), v.shape) : g.tfjsOrder(v).name;
  };
  let inputs: string[];
  if (a.kind === 'tensor' && a.chw && !transA && b.kind === 'const') {
    // A flattened NCHW image: its features are in C,H,W order, so the weight rows are put in that order too.
    const [, h, w, c] = a.chw.shape;
    const n = transB ? b.shape[0] : b.shape[1];
    const data = Float32Array.from(b.data);
    const permuted = transB ? transposeData(data, [n, h, w, c], [0, 3, 1, 2]) : transposeData(data, [h, w, c, n], [2, 0, 1, 3]);
    inputs = [a.name, g.builder.weight(ctx.base('/W'), permuted, b.shape)];
  } else {
    inputs = [operand(0), operand(1)];
  }
  const rows = transA ? a.shape[1] : a.shape[0];
  const cols = transB ? b.shape[0] : b.shape[1];
  const fused = fusedOps(ctx, 2);
  if (fused.bias) inputs.push(g.builder.weight(ctx.base('/B'), Float32Array.from(fused.bias.data), fused.bias.shape));
  const name = g.node('Gemm', inputs, ctx.base(fused.activation ? '/gemm' : ''), { transA: attr.int(transA ? 1 : 0), transB: attr.int(transB ? 1 : 0) });
  const result = ctx.tensorOf(name, [rows, cols], [0, 1]);
  return fused.activation ? activate(ctx, result, fused.activation, fused.alpha) : result;
}
