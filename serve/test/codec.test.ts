// The pure codecs against the protocol documents' own examples: KServe "Predict Protocol - Version 2"
// (Tensor Data, Inference Request Examples), Triton's binary tensor data and classification extensions.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { classificationCount, classificationStrings, float32Text } from '../src/codec/classification.js';
import { binaryFloat32, encodeBytesElements, encodeResponse, jsonFloat32, parseInferenceRequest, splitBody } from '../src/codec/tensors.js';

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('JSON tensors (Predict Protocol v2, "Tensor Data")', () => {
  test('the natural [[1, 2], [4, 5]] and the flattened [1, 2, 4, 5] give the same row-major values', () => {
    assert.deepEqual(Array.from(jsonFloat32([[1, 2], [4, 5]], 4, 'x')), [1, 2, 4, 5]);
    assert.deepEqual(Array.from(jsonFloat32([1, 2, 4, 5], 4, 'x')), [1, 2, 4, 5]);
  });

  test('the spec\'s inference request example parses: id, inputs with shape and datatype, requested outputs', () => {
    const request = parseInferenceRequest(
      json({
        id: '42',
        inputs: [
          { name: 'input0', shape: [2, 2], datatype: 'UINT32', data: [1, 2, 3, 4] },
          { name: 'input1', shape: [3], datatype: 'BOOL', data: [true] },
        ],
        outputs: [{ name: 'output0' }],
      }),
    );
    assert.equal(request.id, '42');
    assert.deepEqual(request.inputs.map((i) => [i.name, i.shape, i.datatype]), [['input0', [2, 2], 'UINT32'], ['input1', [3], 'BOOL']]);
    assert.deepEqual(request.outputs, [{ name: 'output0', parameters: undefined }]);
  });

  test('BAD CALL - malformed JSON, missing inputs, a negative dimension, a non-number element, the wrong count', () => {
    assert.throws(() => parseInferenceRequest(Buffer.from('{"inputs": [')), { name: 'ServeError', statusCode: 400, message: /not valid JSON/ });
    assert.throws(() => parseInferenceRequest(json({ outputs: [] })), { statusCode: 400, message: /"inputs" must be a non-empty array/ });
    assert.throws(() => parseInferenceRequest(json({ inputs: [{ name: 'a', shape: [-1], datatype: 'FP32', data: [] }] })), { statusCode: 400, message: /non-negative integers/ });
    assert.throws(() => parseInferenceRequest(json({ inputs: [{ name: 'a', shape: [1], datatype: 'FP32', data: [1], parameters: { x: [1] } }] })), { statusCode: 400, message: /"parameters"/ });
    assert.throws(() => jsonFloat32([1, '2'], 2, 'a'), { statusCode: 400, message: /element 1 of "data" is "2", not a number/ });
    assert.throws(() => jsonFloat32([1, 2, 3], 4, 'a'), { statusCode: 400, message: /has 3 elements; its shape needs 4/ });
  });
});

describe('binary tensor data extension', () => {
  test('Inference-Header-Content-Length splits the JSON object from the tensor bytes that follow it', () => {
    const header = json({ inputs: [{ name: 'input0', shape: [2, 2], datatype: 'FP32', parameters: { binary_data_size: 16 } }] });
    const data = Buffer.from(new Float32Array([1.5, -2, 3.25, 4]).buffer);
    const { json: head, binary } = splitBody(Buffer.concat([header, data]), String(header.length));
    assert.deepEqual(parseInferenceRequest(head).inputs[0].parameters, { binary_data_size: 16 });
    assert.deepEqual(Array.from(binaryFloat32(binary, 4, 'input0')), [1.5, -2, 3.25, 4]);
    // An odd offset (the JSON length is arbitrary) still reads aligned float32 values.
    const odd = Buffer.concat([Buffer.from('x'), data]).subarray(1);
    assert.deepEqual(Array.from(binaryFloat32(odd, 4, 'input0')), [1.5, -2, 3.25, 4]);
  });

  test('without the header the whole body is JSON; a header longer than the body is refused', () => {
    const body = json({ inputs: [] });
    assert.equal(splitBody(body, undefined).json.length, body.length);
    assert.throws(() => splitBody(body, String(body.length + 1)), { statusCode: 400, message: /Inference-Header-Content-Length must be an integer from 0/ });
    assert.throws(() => splitBody(body, 'ten'), { statusCode: 400 });
    assert.throws(() => binaryFloat32(Buffer.alloc(12), 4, 'input0'), { statusCode: 400, message: /binary_data_size" is 12 bytes; its FP32 shape needs 16/ });
  });

  test('BYTES elements are a 4-byte little-endian length then the bytes; a response with binary outputs reports its JSON length', () => {
    const bytes = encodeBytesElements(['ab', 'é']);
    assert.deepEqual([...bytes], [2, 0, 0, 0, 0x61, 0x62, 2, 0, 0, 0, 0xc3, 0xa9]);
    const response = { model_name: 'm', outputs: [{ name: 'output0', shape: [3, 2], datatype: 'FP32', parameters: { binary_data_size: 24 } }] };
    const { body, headerLength } = encodeResponse(response, [Buffer.alloc(24, 7)]);
    assert.equal(headerLength, body.length - 24);
    assert.deepEqual(JSON.parse(body.subarray(0, headerLength as number).toString()), response);
    assert.equal(encodeResponse(response, []).headerLength, null);
  });
});

describe('classification extension', () => {
  test('the document\'s example: output [1.1, 3.3, 0.5, 2.4], classification 2 -> "3.3:1", "2.4:3" (with labels appended)', () => {
    const values = new Float32Array([1.1, 3.3, 0.5, 2.4]);
    assert.deepEqual(classificationStrings(values, ['a', 'b', 'c', 'd'], 2), ['3.3:1:b', '2.4:3:d']);
  });

  test('a value is written as the shortest text that reads back to the same float32', () => {
    for (const v of [0.1, 1 / 3, 1e-7, 0.027703141793608665, 1, 0]) {
      const f = Math.fround(v);
      assert.equal(Math.fround(Number(float32Text(f))), f);
    }
    assert.equal(float32Text(Math.fround(0.1)), '0.1');
  });

  test('BAD CALL - a count that is not a positive integer; a count above the classes is capped', () => {
    assert.throws(() => classificationCount(0, 'probabilities', 37), { statusCode: 400, message: /"classification" must be a positive integer; got 0/ });
    assert.throws(() => classificationCount('3', 'probabilities', 37), { statusCode: 400 });
    assert.equal(classificationCount(99, 'probabilities', 37), 37);
  });
});
