// modelDtype(): the precision read from the initializers' element types of a ModelProto's wire bytes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import protobuf from 'protobufjs/minimal.js';
import { modelDtype } from '../src/onnx-dtype.js';

/** A ModelProto with producer_name (2), then graph (7) holding one initializer (5) per data type (field 2). */
function modelBytes(dataTypes: number[]): Uint8Array {
  const graph = protobuf.Writer.create();
  for (const type of dataTypes) {
    const tensor = protobuf.Writer.create().uint32((1 << 3) | 0).int64(3).uint32((2 << 3) | 0).int32(type).uint32((8 << 3) | 2).string('w').finish();
    graph.uint32((5 << 3) | 2).bytes(tensor);
  }
  return protobuf.Writer.create().uint32((2 << 3) | 2).string('pets-export').uint32((7 << 3) | 2).bytes(graph.finish()).finish();
}

test('modelDtype(): int8 weights make an int8 model, a float16 majority an fp16 one, else fp32', () => {
  assert.equal(modelDtype(modelBytes([1, 1, 7])), 'fp32');
  assert.equal(modelDtype(modelBytes([10, 10, 1, 7])), 'fp16');
  assert.equal(modelDtype(modelBytes([3, 1, 2, 6, 1, 1])), 'int8');
  assert.equal(modelDtype(modelBytes([])), 'fp32');
  const garbage = protobuf.Writer.create().uint32((7 << 3) | 2).bytes(Uint8Array.of(1, 2, 3, 4, 5)).finish();
  assert.equal(modelDtype(garbage), 'fp32', 'an unreadable graph is left to onnxruntime');
});
