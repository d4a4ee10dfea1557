// exportGraphModel() as a whole: a MobileNetV2-style graph as tfjs-converter writes them (one Transpose in
// the ONNX graph), the logits/probabilities head, opsets, metadata, and every bad input as a named error.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { ONNX_METADATA_KEYS, parseContract } from '@pets/runtime/contract';
import { decodeModel, exportGraphModel, SUPPORTED_GRAPH_OPS, type GraphModel } from '../src/index.js';
import { tf } from '@pets/train/tfjs';
import { a, assertClose, contractOf, convAttrs, GraphFixture, graphParity, type Quantization } from './graph-fixtures.js';
import { ready, REPO_ROOT } from './fixtures.js';

before(ready);

const [H, W, CLASSES] = [17, 15, 4];

const fused = (activation?: string) => ({ fused_ops: a.strs(activation ? ['BiasAdd', activation] : ['BiasAdd']), num_args: a.int(1), epsilon: a.float(0) });

/** MobileNetV2's shape: input scaling, a strided conv, inverted residual blocks, average pool, dense, softmax. */
function mobileNetLike(seed = 11, quantization?: Quantization): GraphFixture {
  // Quantized weights as tensorflowjs_converter --quantize_uint8/--quantize_float16 writes them.
  const g = new GraphFixture(seed, quantization);
  let x = g.op('Mul', 'hub_input/Mul', [g.constant('hub_input/Mul/y', [], [2]), g.placeholder('input', [-1, H, W, 3])]);
  x = g.op('Sub', 'hub_input/Sub', [x, g.constant('hub_input/Sub/y', [], [1])]);
  x = g.op('_FusedConv2D', 'Conv/Relu6', [x, g.random('Conv/w', [3, 3, 3, 8]), g.random('Conv/b', [8])], { ...convAttrs(2, 'SAME'), ...fused('Relu6') });
  const block = (name: string, input: string, channels: number, stride: number, residual: boolean): string => {
    let y = g.op('_FusedConv2D', `${name}/expand`, [input, g.random(`${name}/ew`, [1, 1, channels, channels * 2], -0.5, 0.5), g.random(`${name}/eb`, [channels * 2])], { ...convAttrs(1, 'SAME'), ...fused('Relu6') });
    y = g.op('FusedDepthwiseConv2dNative', `${name}/depthwise`, [y, g.random(`${name}/dw`, [3, 3, channels * 2, 1]), g.random(`${name}/db`, [channels * 2])], { ...convAttrs(stride, 'SAME'), ...fused('Relu6') });
    y = g.op('_FusedConv2D', `${name}/project`, [y, g.random(`${name}/pw`, [1, 1, channels * 2, channels], -0.5, 0.5), g.random(`${name}/pb`, [channels])], { ...convAttrs(1, 'SAME'), ...fused() });
    return residual ? g.op('AddV2', `${name}/add`, [input, y]) : y;
  };
  x = block('expanded_conv_1', x, 8, 1, true);
  x = block('expanded_conv_2', x, 8, 2, false); // 9x8 -> 5x4
  x = block('expanded_conv_3', x, 8, 1, true);
  x = g.op('AvgPool', 'Logits/AvgPool', [x], { ksize: a.ints([1, 5, 4, 1]), strides: a.ints([1, 1, 1, 1]), padding: a.str('VALID'), data_format: a.str('NHWC') });
  x = g.op('Squeeze', 'SpatialSqueeze', [x], { squeeze_dims: a.ints([1, 2]) });
  x = g.op('_FusedMatMul', 'dense/BiasAdd', [x, g.random('dense/w', [8, CLASSES], -3, 3), g.random('dense/b', [CLASSES])], { ...fused(), transpose_a: a.bool(false), transpose_b: a.bool(false) });
  g.op('Identity', 'Identity', [g.op('Softmax', 'prediction/Softmax', [x])]);
  return g;
}

/** Image -> global max -> dense logits, no softmax. */
function logitsOnly(): GraphFixture {
  const g = new GraphFixture(12);
  const x = g.op('Conv2D', 'c', [g.placeholder('input', [-1, H, W, 3]), g.random('c/w', [3, 3, 3, 5])], convAttrs(1, 'SAME'));
  const pooled = g.op('Mean', 'pool', [x, g.ints('pool/axes', [1, 2])], { keep_dims: a.bool(false) });
  g.op('MatMul', 'logits', [pooled, g.random('logits/w', [5, CLASSES], -3, 3)]);
  return g;
}

describe('exportGraphModel', () => {
  let mobileNet: GraphModel;
  before(async () => {
    mobileNet = await mobileNetLike().load();
  });

  test('a MobileNetV2-style graph matches tfjs-converter in fp32 and fp16, with one Transpose and no Reshape', async () => {
    for (const fp16 of [false, true]) {
      const m = await graphParity(mobileNet, contractOf(H, W, CLASSES), { fp16 }, 4);
      assertClose(m, fp16, fp16 ? 'fp16' : 'fp32');
      assert.equal(m.ops.Transpose, 1, 'the only Transpose is at the input');
      assert.equal(m.ops.Reshape, undefined, 'the Squeeze needs no layout change');
      assert.equal(m.ops.Softmax, 1, "the model's Softmax is replaced by the exported one");
      assert.equal(m.ops.Conv, 10);
      assert.equal(m.ops.Cast, fp16 ? 2 : undefined);
    }
  });

  for (const quantization of ['uint8', 'float16'] as const) {
    test(`weights quantized to ${quantization} in the manifest are read as tfjs reads them`, async () => {
      const model = await mobileNetLike(13, quantization).load();
      assertClose(await graphParity(model, contractOf(H, W, CLASSES)), false, quantization);
      model.dispose();
    });
  }

  test('exporting and the tfjs reference leave no tensors behind', async () => {
    const before = tf.memory().numTensors;
    await graphParity(mobileNet, contractOf(H, W, CLASSES));
    assert.equal(tf.memory().numTensors, before);
  });

  test('opsets 13 and 22 (reduction axes as attribute and as input) both run', async () => {
    const model = await logitsOnly().load();
    for (const opset of [13, 22]) {
      const m = await graphParity(model, contractOf(H, W, CLASSES), { opset });
      assertClose(m, false, `opset ${opset}`);
    }
    model.dispose();
  });

  test('a model that ends in logits gets a softmax (outputs "auto" and "logits")', async () => {
    const model = await logitsOnly().load();
    for (const outputs of ['auto', 'logits'] as const) {
      const m = await graphParity(model, contractOf(H, W, CLASSES), { outputs });
      assertClose(m, false, outputs);
      assert.equal(m.ops.Softmax, 1);
    }
    model.dispose();
  });

  test('metadata: the contract, provenance and a doc string naming the input and outputs', () => {
    const contract = contractOf(H, W, CLASSES);
    const onnx = decodeModel(exportGraphModel(mobileNet, contract, { provenance: { source: 'hand-made graph' } }).bytes);
    const meta = Object.fromEntries(onnx.metadata_props.map((p) => [p.key, p.value]));
    assert.deepEqual(parseContract(meta[ONNX_METADATA_KEYS.contract]).labels, contract.labels);
    assert.deepEqual(JSON.parse(meta[ONNX_METADATA_KEYS.provenance]), { source: 'hand-made graph' });
    assert.match(onnx.doc_string ?? '', /TensorFlow\.js graph model.*\n.*"image".*\[N, 17, 15, 3\]/);
    assert.deepEqual(onnx.graph.output.map((o) => o.name), ['probabilities', 'logits']);
  });

  test('SUPPORTED_GRAPH_OPS is sorted and holds the ops the translator documents', () => {
    assert.deepEqual([...SUPPORTED_GRAPH_OPS], [...SUPPORTED_GRAPH_OPS].sort());
    for (const op of ['Placeholder', 'Const', '_FusedConv2D', 'FusedDepthwiseConv2dNative', '_FusedMatMul', 'MirrorPad', 'FusedBatchNormV3', 'StridedSlice', 'Pack']) {
      assert.ok(SUPPORTED_GRAPH_OPS.includes(op), op);
    }
  });
});

describe('exportGraphModel: bad input', () => {
  async function exportOf(build: (g: GraphFixture, x: string) => void, options = {}, contract = contractOf(H, W, CLASSES)) {
    const g = new GraphFixture(3);
    build(g, g.placeholder('input', [-1, H, W, 3]));
    const model = await g.load();
    try {
      return exportGraphModel(model, contract, options);
    } finally {
      model.dispose();
    }
  }
  const dense = (g: GraphFixture, x: string, name = 'logits'): string =>
    g.op('MatMul', name, [g.op('Mean', `${name}/pool`, [x, g.ints(`${name}/axes`, [1, 2])], { keep_dims: a.bool(false) }), g.random(`${name}/w`, [3, CLASSES])]);

  test('BAD CALL - an op with no translation is named, with its node and the supported list', async () => {
    await assert.rejects(exportOf((g, x) => dense(g, g.op('Erf', 'bad/erf', [x]))), {
      name: 'UnsupportedOpError',
      message: /^Node "bad\/erf" has op Erf, which pets-export cannot translate to ONNX\. Supported: .*Conv2D.*Transpose, _FusedConv2D, _FusedMatMul\.$/,
    });
  });

  test('BAD CALL - an unsupported setting of a supported op says why', async () => {
    await assert.rejects(exportOf((g, x) => dense(g, g.op('MirrorPad', 'sym', [x, g.ints('p', [0, 0, 1, 1, 1, 1, 0, 0], [4, 2])], { mode: a.str('SYMMETRIC') }))), {
      name: 'UnsupportedOpError',
      message: /Node "sym" \(MirrorPad\) cannot be exported: mode SYMMETRIC/,
    });
    const dw = (g: GraphFixture, x: string) =>
      g.op('FusedDepthwiseConv2dNative', 'dw', [x, g.random('dw/w', [3, 3, 3, 1]), g.random('dw/b', [3])], { ...convAttrs(1, 'SAME'), ...fused('LeakyRelu') });
    await assert.rejects(exportOf((g, x) => dense(g, dw(g, x))), { name: 'UnsupportedOpError', message: /"dw" \(FusedDepthwiseConv2dNative\).*backend-dependent slope/ });
  });

  test('BAD CALL - two outputs, an input that differs from the contract, labels that differ from the outputs', async () => {
    await assert.rejects(exportOf((g, x) => [dense(g, x, 'one'), dense(g, x, 'two')]), { name: 'ExportError', message: /2 outputs/ });
    await assert.rejects(exportOf((g, x) => dense(g, x), {}, contractOf(16, W, CLASSES)), { name: 'ModelContractError', message: /\[-1,17,15,3\].*\[null, 16, 15, 3\]/ });
    await assert.rejects(exportOf((g, x) => dense(g, x), {}, contractOf(H, W, CLASSES + 1)), { name: 'ModelContractError' });
  });

  test('BAD CALL - outputs "probabilities" on a model without a Softmax; an unknown outputs value', async () => {
    await assert.rejects(exportOf((g, x) => dense(g, x), { outputs: 'probabilities' }), { name: 'ExportError', message: /not a Softmax .*MatMul.*"logits"/ });
    await assert.rejects(exportOf((g, x) => dense(g, x), { outputs: 'softmax' }), { name: 'RangeError', message: /Unsupported outputs "softmax"\. Expected one of: probabilities, logits, auto\./ });
  });
});

test('docs/graph-models.md names every supported op', async () => {
  const doc = await readFile(join(REPO_ROOT, 'docs', 'graph-models.md'), 'utf8');
  const missing = SUPPORTED_GRAPH_OPS.filter((op) => !doc.includes(`\`${op}\``));
  assert.deepEqual(missing, [], 'ops missing from docs/graph-models.md');
});
