// One test per TensorFlow op family of the graph translator against tfjs-converter's own executor: random
// weights, odd sizes, fp32 and fp16, and the ONNX checker's rules on every output.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { a, assertClose, contractOf, convAttrs, GraphFixture, graphParity } from './graph-fixtures.js';
import { ready } from './fixtures.js';

before(ready);

const H = 9;
const W = 7;
const CLASSES = 5;

/** Image input [batch, H, W, 3]. */
function imageGraph(seed: number): { g: GraphFixture; x: string } {
  const g = new GraphFixture(seed);
  return { g, x: g.placeholder('image_in', [-1, H, W, 3]) };
}

/** Global average pooling, a Dense (MatMul + BiasAdd) to CLASSES logits, then Softmax and Identity. */
function classifierHead(g: GraphFixture, x: string, channels: number, softmax = true): void {
  const pooled = g.op('Mean', 'head/pool', [x, g.ints('head/axes', [1, 2])], { keep_dims: a.bool(false) });
  const matmul = g.op('MatMul', 'head/matmul', [pooled, g.random('head/kernel', [channels, CLASSES], -2, 2)]);
  const logits = g.op('BiasAdd', 'head/logits', [matmul, g.random('head/bias', [CLASSES])], { data_format: a.str('NHWC') });
  g.op('Identity', 'Identity', [softmax ? g.op('Softmax', 'head/softmax', [logits]) : logits]);
}

async function checkBoth(make: () => GraphFixture, what: string, check?: (ops: Record<string, number>) => void): Promise<void> {
  const model = await make().load();
  try {
    for (const fp16 of [false, true]) {
      const m = await graphParity(model, contractOf(H, W, CLASSES), { fp16 });
      assertClose(m, fp16, `${what}${fp16 ? ' (fp16)' : ''}`);
      check?.(m.ops);
    }
  } finally {
    model.dispose();
  }
}

describe('graph convolutions', () => {
  test('Conv2D (SAME stride 2, VALID with dilation 2, EXPLICIT) and DepthwiseConv2dNative (multiplier 2)', async () => {
    await checkBoth(() => {
      const { g, x } = imageGraph(1);
      let y = g.op('Conv2D', 'c1', [x, g.random('c1/w', [3, 3, 3, 4])], convAttrs(2, 'SAME'));
      y = g.op('DepthwiseConv2dNative', 'd1', [y, g.random('d1/w', [3, 2, 4, 2])], convAttrs(1, 'SAME'));
      y = g.op('Conv2D', 'c2', [y, g.random('c2/w', [2, 2, 8, 6])], convAttrs(1, 'VALID', 2));
      const explicit = { ...convAttrs(1, 'SAME'), padding: a.str('EXPLICIT'), explicit_paddings: a.ints([0, 0, 1, 0, 2, 1, 0, 0]) };
      y = g.op('Conv2D', 'c3', [y, g.random('c3/w', [1, 3, 6, 6])], explicit);
      classifierHead(g, y, 6);
      return g;
    }, 'plain convolutions', (ops) => assert.equal(ops.Transpose, 1, 'one Transpose, at the input'));
  });

  for (const activation of ['Relu', 'Relu6', 'Elu', 'LeakyRelu', 'Sigmoid', 'Prelu']) {
    test(`_FusedConv2D and FusedDepthwiseConv2dNative with BiasAdd + ${activation}`, async () => {
      await checkBoth(() => {
        const { g, x } = imageGraph(2);
        // tfjs gives FusedDepthwiseConv2dNative no LeakyRelu slope (see conv.ts): Relu there instead.
        const fused = (depthwise: boolean) => {
          const act = depthwise && activation === 'LeakyRelu' ? 'Relu' : activation;
          return { fused_ops: a.strs(['BiasAdd', act]), num_args: a.int(act === 'Prelu' ? 2 : 1), leakyrelu_alpha: a.float(0.3), epsilon: a.float(0) };
        };
        const alpha = (name: string, c: number): string[] => (activation === 'Prelu' ? [g.random(name, [c], 0, 0.5)] : []);
        let y = g.op('_FusedConv2D', 'fc', [x, g.random('fc/w', [3, 3, 3, 4]), g.random('fc/b', [4]), ...alpha('fc/alpha', 4)], { ...convAttrs(2, 'SAME'), ...fused(false) });
        y = g.op('FusedDepthwiseConv2dNative', 'fd', [y, g.random('fd/w', [3, 3, 4, 1]), g.random('fd/b', [4]), ...alpha('fd/alpha', 4)], { ...convAttrs(1, 'VALID'), ...fused(true) });
        classifierHead(g, y, 4);
        return g;
      }, activation);
    });
  }

  test('MaxPool and AvgPool (SAME and VALID, stride 2, odd sizes)', async () => {
    await checkBoth(() => {
      const { g, x } = imageGraph(3);
      const pool = (stride: number, padding: string) => ({ ksize: a.ints([1, 3, 2, 1]), strides: a.ints([1, stride, stride, 1]), padding: a.str(padding), data_format: a.str('NHWC') });
      let y = g.op('Conv2D', 'c', [x, g.random('c/w', [3, 3, 3, 4])], convAttrs(1, 'SAME'));
      y = g.op('MaxPool', 'mp', [y], pool(2, 'SAME'));
      y = g.op('AvgPool', 'ap', [y], pool(1, 'SAME'));
      y = g.op('AvgPool', 'ap2', [y], pool(2, 'VALID'));
      classifierHead(g, y, 4);
      return g;
    }, 'pooling');
  });
});

describe('graph math', () => {
  test('Add/AddV2/Sub/Mul/RealDiv/Maximum/Minimum/SquaredDifference with constants and tensors of both layouts', async () => {
    await checkBoth(() => {
      const { g, x } = imageGraph(4);
      let y = g.op('Mul', 'scale', [g.random('scale/k', [], 1.5, 2), x]); // scalar first
      y = g.op('Sub', 'shift', [y, g.random('shift/k', [3])]);
      const conv = g.op('Conv2D', 'c', [y, g.random('c/w', [1, 1, 3, 3])], convAttrs(1, 'SAME'));
      let z = g.op('AddV2', 'res', [conv, y]); // NCHW conv output + NHWC tensor
      z = g.op('Add', 'add_c', [z, g.random('add_c/k', [1, 1, 3])]);
      z = g.op('RealDiv', 'div', [z, g.random('div/k', [3], 1, 2)]);
      z = g.op('Maximum', 'max', [z, g.random('max/k', [W, 3])]);
      z = g.op('Minimum', 'min', [z, g.random('min/k', [H, 1, 1], 0.5, 1)]);
      const d = g.op('Conv2D', 'c2', [z, g.random('c2/w', [3, 3, 3, 3])], convAttrs(1, 'SAME'));
      z = g.op('SquaredDifference', 'sqd', [d, z]);
      z = g.op('Sub', 'rsub', [g.random('rsub/k', [3]), z]); // constant first
      classifierHead(g, z, 3);
      return g;
    }, 'binary ops');
  });

  test('Relu, Relu6, Elu, Selu, LeakyRelu, Sigmoid, Tanh, Softplus, Rsqrt, Sqrt, Square, Exp, Neg', async () => {
    await checkBoth(() => {
      const { g, x } = imageGraph(5);
      let y = g.op('Conv2D', 'c', [x, g.random('c/w', [3, 3, 3, 4])], convAttrs(1, 'SAME'));
      const chain = ['Relu6', 'Neg', 'Elu', 'Selu', 'Tanh', 'Softplus', 'Sqrt', 'Rsqrt', 'Square', 'Neg', 'Exp', 'Sigmoid', 'Relu'];
      for (const [i, op] of chain.entries()) y = g.op(op, `u${i}`, [y]);
      y = g.op('LeakyRelu', 'leaky', [g.op('Sub', 'center', [y, g.random('center/k', [4], 0.4, 0.6)])], { alpha: a.float(0.15) });
      classifierHead(g, y, 4);
      return g;
    }, 'unary ops');
  });

  test('Mean, Max and Sum with and without keep_dims; MatMul with transpose_b and _FusedMatMul', async () => {
    await checkBoth(() => {
      const { g, x } = imageGraph(6);
      const c = g.op('Conv2D', 'c', [x, g.random('c/w', [3, 3, 3, 4])], convAttrs(2, 'SAME'));
      const kept = g.op('Max', 'max', [c, g.ints('max/axes', [2])], { keep_dims: a.bool(true) }); // [N, 5, 1, 4]
      const summed = g.op('Sum', 'sum', [kept, g.ints('sum/axes', [1, -2])], { keep_dims: a.bool(false) }); // [N, 4]
      const mean = g.op('Mean', 'mean', [c, g.ints('mean/axes', [1, 2])], { keep_dims: a.bool(false) });
      const both = g.op('AddV2', 'both', [summed, mean]);
      const hidden = g.op('_FusedMatMul', 'fm', [both, g.random('fm/w', [4, 6]), g.random('fm/b', [6])], {
        fused_ops: a.strs(['BiasAdd', 'Relu']), num_args: a.int(1), transpose_a: a.bool(false), transpose_b: a.bool(false),
      });
      const logits = g.op('MatMul', 'logits', [hidden, g.random('logits/w', [CLASSES, 6], -2, 2)], { transpose_b: a.bool(true) });
      g.op('Identity', 'Identity', [g.op('Softmax', 'sm', [logits])]);
      return g;
    }, 'reductions and matmul');
  });

  test('FusedBatchNorm and FusedBatchNormV3 on images and on vectors', async () => {
    await checkBoth(() => {
      const { g, x } = imageGraph(7);
      const bn = (name: string, input: string, c: number, op: string) =>
        g.op(op, name, [input, g.random(`${name}/gamma`, [c]), g.random(`${name}/beta`, [c]), g.random(`${name}/mean`, [c]), g.random(`${name}/var`, [c], 0.3, 2)], {
          epsilon: a.float(0.001), is_training: a.bool(false), data_format: a.str('NHWC'),
        });
      let y = g.op('Conv2D', 'c', [x, g.random('c/w', [3, 3, 3, 4])], convAttrs(1, 'SAME'));
      y = bn('bn1', y, 4, 'FusedBatchNormV3');
      const pooled = g.op('Mean', 'pool', [y, g.ints('pool/axes', [1, 2])], { keep_dims: a.bool(false) });
      const normed = bn('bn2', pooled, 4, 'FusedBatchNorm');
      const logits = g.op('MatMul', 'logits', [normed, g.random('logits/w', [4, CLASSES], -2, 2)]);
      g.op('Identity', 'Identity', [g.op('Softmax', 'sm', [logits])]);
      return g;
    }, 'batch norm');
  });
});

describe('graph shape ops', () => {
  test('Pad, PadV2, MirrorPad (REFLECT) and ConcatV2 on the channel axis', async () => {
    await checkBoth(() => {
      const { g, x } = imageGraph(8);
      let y = g.op('MirrorPad', 'mirror', [x, g.ints('mirror/p', [0, 0, 1, 2, 2, 1, 0, 0], [4, 2])], { mode: a.str('REFLECT') });
      y = g.op('Conv2D', 'c', [y, g.random('c/w', [3, 3, 3, 4])], convAttrs(1, 'VALID'));
      y = g.op('Pad', 'pad', [y, g.ints('pad/p', [0, 0, 1, 1, 0, 2, 0, 0], [4, 2])]);
      const other = g.op('PadV2', 'padv2', [g.op('Conv2D', 'c2', [y, g.random('c2/w', [1, 1, 4, 2])], convAttrs(1, 'SAME')), g.ints('padv2/p', [0, 0, 0, 0, 0, 0, 1, 0], [4, 2]), g.random('padv2/v', [], 0.5, 1)]);
      y = g.op('ConcatV2', 'cat', [y, other, g.ints('cat/axis', [-1], [])], { N: a.int(2) });
      classifierHead(g, y, 7);
      return g;
    }, 'padding and concat', (ops) => assert.equal(ops.Transpose, 1, 'padding and concat stay in NCHW'));
  });

  test("Keras Flatten's Shape -> StridedSlice -> Pack -> Reshape, folded; Squeeze, ExpandDims, Transpose", async () => {
    await checkBoth(() => {
      const { g, x } = imageGraph(9);
      let y = g.op('Conv2D', 'c', [x, g.random('c/w', [3, 3, 3, 2])], convAttrs(2, 'VALID')); // [N, 4, 3, 2]
      y = g.op('Transpose', 't', [y, g.ints('t/perm', [0, 2, 1, 3])]); // [N, 3, 4, 2]
      const shape = g.op('Shape', 'flatten/Shape', [y], { out_type: a.type('DT_INT32') });
      const batch = g.op('StridedSlice', 'flatten/strided_slice', [shape, g.ints('ss/b', [0]), g.ints('ss/e', [1]), g.ints('ss/s', [1])], { shrink_axis_mask: a.int(1), T: a.type('DT_INT32') });
      const target = g.op('Pack', 'flatten/Reshape/shape', [batch, g.ints('flatten/minus1', [-1], [])], { axis: a.int(0), N: a.int(2), T: a.type('DT_INT32') });
      y = g.op('Reshape', 'flatten/Reshape', [y, target]); // [N, 24]
      y = g.op('ExpandDims', 'expand', [y, g.ints('expand/dim', [1], [])]); // [N, 1, 24]
      y = g.op('Squeeze', 'squeeze', [y], { squeeze_dims: a.ints([1]) });
      const logits = g.op('MatMul', 'logits', [y, g.random('logits/w', [24, CLASSES], -2, 2)]);
      g.op('Identity', 'Identity', [g.op('Softmax', 'sm', [logits])]);
      return g;
    }, 'flatten');
  });

  for (const transposeB of [false, true]) {
    test(`a conv output flattened (Reshape [-1, F]), activated and read by a MatMul${transposeB ? ' with transpose_b' : ''} permutes its weights: one Transpose`, async () => {
      await checkBoth(() => {
        const { g, x } = imageGraph(10);
        const y = g.op('_FusedConv2D', 'c', [x, g.random('c/w', [3, 3, 3, 3]), g.random('c/b', [3])], { ...convAttrs(2, 'SAME'), fused_ops: a.strs(['BiasAdd', 'Relu']), num_args: a.int(1) }); // [N, 5, 4, 3]
        const flat = g.op('Identity', 'dropout', [g.op('Relu6', 'act', [g.op('Reshape', 'flatten', [y, g.ints('flatten/shape', [-1, 60])])])]);
        const w = transposeB ? g.random('d/w', [CLASSES, 60], -2, 2) : g.random('d/w', [60, CLASSES], -2, 2);
        const logits = g.op('MatMul', 'd', [flat, w], { transpose_b: a.bool(transposeB) });
        g.op('Identity', 'Identity', [g.op('Softmax', 'sm', [logits])]);
        return g;
      }, 'flatten -> matmul', (ops) => assert.deepEqual([ops.Transpose, ops.Flatten, ops.Reshape], [1, 1, undefined]));
    });
  }

  test('a flattened conv output read by another op than MatMul is put back in tfjs element order', async () => {
    await checkBoth(() => {
      const { g, x } = imageGraph(11);
      const y = g.op('Conv2D', 'c', [x, g.random('c/w', [3, 3, 3, 2])], convAttrs(2, 'VALID')); // [N, 4, 3, 2]
      const flat = g.op('Reshape', 'flatten', [y, g.ints('flatten/shape', [-1, 24])]);
      const scaled = g.op('Mul', 'scaled', [flat, g.random('scaled/k', [24], 0.5, 2)]);
      const logits = g.op('MatMul', 'd', [scaled, g.random('d/w', [24, CLASSES], -2, 2)]);
      g.op('Identity', 'Identity', [g.op('Softmax', 'sm', [logits])]);
      return g;
    }, 'flatten -> mul', (ops) => assert.deepEqual([ops.Transpose, ops.Flatten], [2, undefined]));
  });

  test('a value and its graph Transpose both put back in tfjs order get different Transposes', async () => {
    await checkBoth(() => {
      const { g, x } = imageGraph(12);
      const y = g.op('Conv2D', 'c', [x, g.random('c/w', [3, 3, 3, 2])], convAttrs(2, 'VALID')); // [N, 4, 3, 2]
      const swapped = g.op('Transpose', 'swap', [y, g.ints('swap/perm', [0, 2, 1, 3])]); // [N, 3, 4, 2]
      const flatY = g.op('Mul', 'fy', [g.op('Reshape', 'ry', [y, g.ints('ry/shape', [-1, 24])]), g.random('fy/k', [24], 0.5, 2)]);
      const flatS = g.op('Mul', 'fs', [g.op('Reshape', 'rs', [swapped, g.ints('rs/shape', [-1, 24])]), g.random('fs/k', [24], 0.5, 2)]);
      const logits = g.op('MatMul', 'd', [g.op('Sub', 'both', [flatY, flatS]), g.random('d/w', [24, CLASSES], -2, 2)]);
      g.op('Identity', 'Identity', [g.op('Softmax', 'sm', [logits])]);
      return g;
    }, 'two views of one tensor');
  });

  test("Keras Reshape's target from Shape, Rank, GatherV2, Slice, Prod and Pack, folded", async () => {
    await checkBoth(() => {
      const { g, x } = imageGraph(13);
      const y = g.op('Conv2D', 'c', [x, g.random('c/w', [3, 3, 3, 2])], convAttrs(2, 'VALID')); // [N, 4, 3, 2]
      const int = { T: a.type('DT_INT32') };
      const shape = g.op('Shape', 'shape', [y], { out_type: a.type('DT_INT32') });
      const batch = g.op('GatherV2', 'batch', [shape, g.ints('zero', [0], []), g.ints('axis0', [0], [])], { ...int, batch_dims: a.int(0) });
      const hw = g.op('Prod', 'hw', [g.op('Slice', 'hw/slice', [shape, g.ints('hw/begin', [1]), g.ints('hw/size', [2])], int), g.ints('hw/axes', [0])], { ...int, keep_dims: a.bool(false) });
      const last = g.op('Sub', 'last', [g.op('Rank', 'rank', [y]), g.ints('one', [1], [])], int);
      const channels = g.op('GatherV2', 'channels', [shape, last, g.ints('axis0b', [0], [])], { ...int, batch_dims: a.int(0) });
      const target = g.op('Pack', 'target', [batch, hw, channels], { ...int, axis: a.int(0), N: a.int(3) });
      const reshaped = g.op('Reshape', 'reshape', [y, target]); // [N, 12, 2]
      const pooled = g.op('Mean', 'pool', [reshaped, g.ints('pool/axes', [1])], { keep_dims: a.bool(false) });
      const logits = g.op('MatMul', 'd', [pooled, g.random('d/w', [2, CLASSES], -3, 3)]);
      g.op('Identity', 'Identity', [g.op('Softmax', 'sm', [logits])]);
      return g;
    }, 'keras reshape', (ops) => assert.equal(ops.Shape, undefined, 'no shape arithmetic left in ONNX'));
  });
});
