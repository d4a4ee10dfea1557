// MatMul and _FusedMatMul (bias and activation) on 2-D tensors, as ONNX Gemm.
import { attr } from '../../onnx/graph-builder.js';
import type { GValue, OpContext } from '../context.js';
import { activate } from './elementwise.js';
import { fusedOps } from './conv.js';

export function matMul(ctx: OpContext): GValue {
  const g = ctx.graph;
  const transA = ctx.attrs.bool('transpose_a', false);
  const transB = ctx.attrs.bool('transpose_b', false);
  const [a, b] = [ctx.input(0), ctx.input(1)];
  if (a.shape.length !== 2 || b.shape.length !== 2) ctx.unsupported(`operands of rank ${a.shape.length} and ${b.shape.length} (only 2-D MatMul is supported)`);
  const operand = (i: number) => {
    const v = ctx.input(i);
    return v.kind === 'const' ? g.builder.weight(ctx.base(i === 0 ? '/A' : '/W'), Float32Array.from(v.data), v.shape) : g.tfjsOrder(v).name;
  };
  const inputs = [operand(0), operand(1)];
  const rows = transA ? a.shape[1] : a.shape[0];
  const cols = transB ? b.shape[0] : b.shape[1];
  const fused = fusedOps(ctx, 2);
  if (fused.bias) inputs.push(g.builder.weight(ctx.base('/B'), Float32Array.from(fused.bias.data), fused.bias.shape));
  const name = g.node('Gemm', inputs, ctx.base(fused.activation ? '/gemm' : ''), { transA: attr.int(transA ? 1 : 0), transB: attr.int(transB ? 1 : 0) });
  const result = ctx.tensorOf(name, [rows, cols], [0, 1]);
  return fused.activation ? activate(ctx, result, fused.activation, fused.alpha) : result;
}
