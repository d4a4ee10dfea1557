// The Open Inference Protocol body codec of the remote classifier, against the examples of Triton's
// binary tensor data extension (server/docs/protocol/extension_binary_data.md, "Examples") and the
// classification extension's BYTES strings; and bodies off the protocol.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createContract, serializeContract } from '../src/contract.js';
import { asFloat32, decodeInferResponse, encodeInferRequest, tensorBytes } from '../src/remote/binary-tensors.js';
import { contractParameter } from '../src/remote/remote-classifier.js';

const utf8 = (text: string) => new TextEncoder().encode(text);

/** A response body: the JSON, then the binary sections; and the header length. */
function responseBody(json: unknown, ...binary: Uint8Array[]): { body: Uint8Array; headerLength: number } {
  const header = utf8(JSON.stringify(json));
  const body = new Uint8Array(header.length + binary.reduce((n, b) => n + b.length, 0));
  body.set(header);
  let offset = header.length;
  for (const b of binary) {
    body.set(b, offset);
    offset += b.length;
  }
  return { body, headerLength: header.length };
}

function littleEndianFloat32(values: number[]): Uint8Array {
  const view = new DataView(new ArrayBuffer(values.length * 4));
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return new Uint8Array(view.buffer);
}

const PROTOCOL = (pattern: RegExp) => (error: Error) => error.name === 'ProtocolError' && pattern.test(error.message);

describe('binary tensor request', () => {
  test("encodes the extension's example request: the JSON object, then input0's 16 and input1's 3 bytes", () => {
    const { body, headerLength } = encodeInferRequest({
      inputs: [
        { name: 'input0', shape: [2, 2], datatype: 'UINT32', data: Uint32Array.from([1, 2, 3, 0x01020304]) },
        { name: 'input1', shape: [3], datatype: 'BOOL', data: [true, false, true] },
      ],
      outputs: [{ name: 'output0' }],
    });
    assert.equal(body.length, headerLength + 19, 'the binary data is 19 bytes');
    assert.deepEqual(JSON.parse(new TextDecoder().decode(body.subarray(0, headerLength))), {
      inputs: [
        { name: 'input0', shape: [2, 2], datatype: 'UINT32', parameters: { binary_data_size: 16 } },
        { name: 'input1', shape: [3], datatype: 'BOOL', parameters: { binary_data_size: 3 } },
      ],
      outputs: [{ name: 'output0', parameters: { binary_data: true } }],
    });
    assert.deepEqual([...body.subarray(headerLength)], [1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 3, 2, 1, 1, 0, 1], 'little-endian, row-major, BOOL as one byte');
  });

  test('an FP32 image batch goes as its float bytes, with request-level binary_data_output', () => {
    const x = Float32Array.from({ length: 2 * 2 * 2 * 3 }, (_, i) => i / 7 - 1);
    const { body, headerLength } = encodeInferRequest({
      id: 'r1',
      inputs: [{ name: 'image', shape: [2, 2, 2, 3], datatype: 'FP32', data: x }],
      outputs: [{ name: 'probabilities' }],
      parameters: { binary_data_output: true },
    });
    const json = JSON.parse(new TextDecoder().decode(body.subarray(0, headerLength))) as Record<string, unknown>;
    assert.equal(json.id, 'r1');
    assert.deepEqual(json.parameters, { binary_data_output: true });
    assert.deepEqual(body.subarray(headerLength), littleEndianFloat32([...x]));
  });

  test('BYTES elements are each preceded by their 4-byte little-endian length', () => {
    assert.deepEqual([...tensorBytes({ name: 's', datatype: 'BYTES', shape: [2], data: ['ab', 'é'] })], [2, 0, 0, 0, 97, 98, 2, 0, 0, 0, 0xc3, 0xa9]);
  });

  test('BAD CALL - data that does not fill the shape, or of the wrong type', () => {
    assert.throws(() => encodeInferRequest({ inputs: [{ name: 'x', shape: [2, 3], datatype: 'FP32', data: new Float32Array(5) }] }), { name: 'RangeError', message: /"x" has 5 elements but shape \[2, 3\]/ });
    assert.throws(() => encodeInferRequest({ inputs: [{ name: 'x', shape: [2], datatype: 'FP32', data: new Float64Array(2) }] }), { name: 'TypeError', message: /needs Float32Array/ });
  });
});

describe('binary tensor response', () => {
  test("decodes the extension's example response: output0, a [3, 2] FP32 tensor in 24 bytes after the JSON", () => {
    const values = [0.5, -1.25, 3, 1e-7, 65504, -0];
    const { body, headerLength } = responseBody({ outputs: [{ name: 'output0', shape: [3, 2], datatype: 'FP32', parameters: { binary_data_size: 24 } }] }, littleEndianFloat32(values));
    const response = decodeInferResponse(body, headerLength);
    assert.equal(response.outputs.length, 1);
    const [out] = response.outputs;
    assert.equal(out.name, 'output0');
    assert.deepEqual(out.shape, [3, 2]);
    assert.ok(out.data instanceof Float32Array);
    assert.deepEqual([...out.data], values.map(Math.fround));
  });

  test('binary and JSON outputs mixed, binary sections in output order, classification strings as BYTES', () => {
    const strings = tensorBytes({ name: 'c', datatype: 'BYTES', shape: [1, 2], data: ['0.75:3:Bengal', '0.25:0:Abyssinian'] });
    const { body, headerLength } = responseBody(
      {
        model_name: 'm5',
        model_version: '1',
        id: 'r1',
        outputs: [
          { name: 'probabilities', shape: [1, 2], datatype: 'FP32', parameters: { binary_data_size: 8 } },
          { name: 'counts', shape: [2, 2], datatype: 'UINT32', data: [10, 11, 12, 13] },
          { name: 'classes', shape: [1, 2], datatype: 'BYTES', parameters: { binary_data_size: strings.length } },
          { name: 'nested', shape: [2, 1], datatype: 'FP64', data: [[1.5], [2.5]] },
        ],
      },
      littleEndianFloat32([0.25, 0.75]),
      strings,
    );
    const response = decodeInferResponse(body, headerLength);
    assert.deepEqual([response.modelName, response.modelVersion, response.id], ['m5', '1', 'r1']);
    const [probabilities, counts, classes, nested] = response.outputs;
    assert.deepEqual([...asFloat32(probabilities)], [0.25, 0.75]);
    assert.ok(counts.data instanceof Uint32Array);
    assert.deepEqual([...counts.data], [10, 11, 12, 13]);
    assert.deepEqual(classes.data, ['0.75:3:Bengal', '0.25:0:Abyssinian']);
    assert.deepEqual([...asFloat32(nested)], [1.5, 2.5]);
  });

  test('a JSON-only response (no Inference-Header-Content-Length)', () => {
    const body = utf8(JSON.stringify({ outputs: [{ name: 'p', shape: [1, 3], datatype: 'FP32', data: [0.1, 0.2, 0.7] }] }));
    assert.deepEqual([...asFloat32(decodeInferResponse(body, null).outputs[0])], [0.1, 0.2, 0.7].map(Math.fround));
  });

  test('FP16 outputs are read as float32', () => {
    const { body, headerLength } = responseBody({ outputs: [{ name: 'h', shape: [4], datatype: 'FP16', parameters: { binary_data_size: 8 } }] }, Uint8Array.from([0x00, 0x3c, 0x00, 0xc0, 0x00, 0x38, 0xff, 0x7b]));
    assert.deepEqual([...asFloat32(decodeInferResponse(body, headerLength).outputs[0])], [1, -2, 0.5, 65504]);
  });

  test('BAD CALL - bodies off the protocol are ProtocolErrors naming the problem', () => {
    const ok = { name: 'o', shape: [1, 2], datatype: 'FP32', parameters: { binary_data_size: 8 } };
    const eight = littleEndianFloat32([1, 2]);
    let r = responseBody({ outputs: [ok] }, eight);
    assert.throws(() => decodeInferResponse(r.body, r.body.length + 1), PROTOCOL(/does not fit the \d+-byte body/));
    assert.throws(() => decodeInferResponse(r.body.subarray(0, r.body.length - 1), r.headerLength), PROTOCOL(/runs past the 7 bytes/));
    r = responseBody({ outputs: [ok] }, eight, Uint8Array.from([9]));
    assert.throws(() => decodeInferResponse(r.body, r.headerLength), PROTOCOL(/1 bytes after the outputs' binary data belong to no output/));
    r = responseBody({ outputs: [{ ...ok, shape: [1, 3] }] }, eight);
    assert.throws(() => decodeInferResponse(r.body, r.headerLength), PROTOCOL(/has 8 bytes; 3 FP32 elements take 12/));
    r = responseBody({ outputs: [{ ...ok, datatype: 'FP8' }] }, eight);
    assert.throws(() => decodeInferResponse(r.body, r.headerLength), PROTOCOL(/datatype "FP8"/));
    assert.throws(() => decodeInferResponse(utf8('{"outputs": ['), null), PROTOCOL(/not JSON/));
    assert.throws(() => decodeInferResponse(utf8('{"error": "x"}'), null), PROTOCOL(/no "outputs" array/));
    assert.throws(() => decodeInferResponse(utf8('{"outputs": [{"name": "o", "shape": [2], "datatype": "FP32", "data": [1]}]}'), null), PROTOCOL(/has 1 elements; its shape says 2/));
    assert.throws(() => decodeInferResponse(utf8('{"outputs": [{"name": "o", "shape": [-1], "datatype": "FP32", "data": []}]}'), null), PROTOCOL(/Invalid tensor shape \[-1\]/));
  });
});

describe('the contract on the server', () => {
  test("read from pets-serve's metadata parameters and from Triton's model configuration JSON", () => {
    const json = serializeContract(createContract({ labels: ['cat', 'dog'], imageSize: 32 }));
    assert.equal(contractParameter({ 'pets.contract': json }), json);
    // GET /v2/models/{name}/config on Triton: ModelConfig in protobuf's JSON mapping, proto field names.
    const config = { name: 'pets', platform: 'onnxruntime_onnx', max_batch_size: 16, parameters: { 'pets.contract': { string_value: json } } };
    assert.equal(contractParameter(config.parameters), json);
    assert.equal(contractParameter({ other: { string_value: json } }), null);
    assert.equal(contractParameter(undefined), null);
  });
});
