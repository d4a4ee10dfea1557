// ONNX-checker-like rules for the graphs pets-export writes, for tests here and in other packages (the
// Python onnx.checker is not available to a Node project):
// versions declared, names unique and defined before use, initializers named and sized, typed graph
// inputs/outputs, no dead nodes, and no Transpose feeding a Transpose. An empty input name is an optional
// input left out (ONNX IR: "an empty string ... indicates an input that is not provided").
import assert from 'node:assert/strict';
import { MAX_OPSET, MIN_OPSET } from './opset.js';
import { DataType, type ModelProto } from './types.js';

// uint8 (2), int8 (3) and int32 (6) hold int8 models' quantized weights, zero points and biases.
const ELEMENT_BYTES: Record<number, number> = { [DataType.FLOAT]: 4, [DataType.FLOAT16]: 2, [DataType.INT64]: 8, 2: 1, 3: 1, 6: 4 };
const IR_FOR_OPSET: Record<number, number> = { 13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10, 22: 10 };

export function checkModel(model: ModelProto): void {
  assert.ok(model.ir_version > 0, 'ir_version declared');
  const onnxDomain = model.opset_import?.find((o) => (o.domain ?? '') === '');
  assert.ok(onnxDomain, 'opset_import declares the default ONNX domain');
  assert.ok(onnxDomain.version >= MIN_OPSET && onnxDomain.version <= MAX_OPSET, `opset ${onnxDomain.version} in range`);
  assert.equal(model.ir_version, IR_FOR_OPSET[onnxDomain.version], 'IR version matches the opset');
  assert.ok(model.producer_name && model.producer_version, 'producer declared');
  const graph = model.graph;
  assert.ok(graph.name, 'graph named');

  const defined = new Set<string>();
  for (const value of [...graph.input, ...graph.output]) {
    assert.ok(value.name, 'graph inputs/outputs are named');
    const tensor = value.type?.tensor_type;
    assert.ok(tensor && tensor.elem_type === DataType.FLOAT, `${value.name} is a float32 tensor`);
    assert.ok(tensor.shape.dim.length > 0, `${value.name} has a shape`);
  }
  for (const input of graph.input) {
    assert.ok(!defined.has(input.name), `input ${input.name} unique`);
    defined.add(input.name);
  }
  for (const init of graph.initializer ?? []) {
    assert.ok(init.name, 'every initializer is named');
    assert.ok(!defined.has(init.name), `initializer ${init.name} unique and not an input`);
    defined.add(init.name);
    const elements = (init.dims ?? []).reduce((a, b) => a * Number(b), 1);
    assert.equal(init.raw_data?.length, elements * ELEMENT_BYTES[init.data_type], `${init.name} holds dims x element size bytes`);
  }

  const nodeNames = new Set<string>();
  const producer = new Map<string, (typeof graph.node)[number]>();
  const used = new Set<string>();
  for (const node of graph.node) {
    assert.ok(node.name && !nodeNames.has(node.name), `node name ${node.name} unique`);
    nodeNames.add(node.name);
    for (const input of node.input) {
      if (input === '') continue; // an optional input left out, as ONNX spells it
      assert.ok(defined.has(input), `${node.name} (${node.op_type}) reads ${input}, which is a graph input, an initializer or an earlier node's output`);
      used.add(input);
    }
    for (const a of node.attribute ?? []) assert.ok(a.name && a.type, `${node.name}: attribute ${a.name} is typed`);
    for (const output of node.output) {
      assert.ok(!defined.has(output), `${output} is assigned once`);
      defined.add(output);
      producer.set(output, node);
    }
    if (node.op_type === 'Transpose') {
      const from = producer.get(node.input[0]);
      assert.notEqual(from?.op_type, 'Transpose', `redundant Transpose pair: ${from?.name} -> ${node.name}`);
    }
  }
  for (const output of graph.output) {
    assert.ok(producer.has(output.name), `graph output ${output.name} is produced by a node`);
    used.add(output.name);
  }
  for (const node of graph.node) for (const output of node.output) assert.ok(used.has(output), `${node.name}'s output ${output} is used`);
  for (const init of graph.initializer ?? []) assert.ok(used.has(init.name), `initializer ${init.name} is used`);
}

export function opCounts(model: ModelProto): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const node of model.graph.node) counts[node.op_type] = (counts[node.op_type] ?? 0) + 1;
  return counts;
}
