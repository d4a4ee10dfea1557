// Inference requests and responses as the Open Inference Protocol's REST API defines them (KServe
// "Predict Protocol - Version 2", section HTTP/REST: $inference_request, $request_input, $request_output,
// $inference_response, "Tensor Data"), plus Triton's binary tensor data extension
// (server/docs/protocol/extension_binary_data.md). Pure: bytes and JSON in, typed values out.
import { badRequest } from '../errors.js';

/** $parameters: string, number or boolean values. */
export type Parameters = Record<string, string | number | boolean>;

export interface RequestInput {
  name: string;
  shape: number[];
  datatype: string;
  parameters?: Parameters;
  data?: unknown;
}

export interface RequestOutput {
  name: string;
  parameters?: Parameters;
}

export interface InferenceRequest {
  id?: string;
  parameters?: Parameters;
  inputs: RequestInput[];
  outputs?: RequestOutput[];
}

export interface ResponseOutput {
  name: string;
  shape: number[];
  datatype: string;
  parameters?: Parameters;
  data?: number[] | string[];
}

export interface InferenceResponse {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: Parameters;
  outputs: ResponseOutput[];
}

/** The header that gives the JSON part's length when binary tensor data follows it. */
export const HEADER_LENGTH = 'inference-header-content-length';

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function checkParameters(value: unknown, where: string): Parameters | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value) || !Object.values(value).every((v) => ['string', 'number', 'boolean'].includes(typeof v))) {
    throw badRequest(`${where} "parameters" must be an object of string, number or boolean values.`);
  }
  return value as Parameters;
}

/**
 * Splits a request body into its JSON object and the binary tensor data after it. Without the
 * Inference-Header-Content-Length header the whole body is the JSON object.
 */
export function splitBody(body: Buffer, headerLength: string | string[] | undefined): { json: Buffer; binary: Buffer } {
  if (headerLength === undefined) return { json: body, binary: body.subarray(body.length) };
  const length = Number(headerLength);
  if (Array.isArray(headerLength) || !Number.isInteger(length) || length < 0 || length > body.length) {
    throw badRequest(`Inference-Header-Content-Length must be an integer from 0 to the body's ${body.length} bytes; got "${String(headerLength)}".`);
  }
  return { json: body.subarray(0, length), binary: body.subarray(length) };
}

/** Parses and checks the $inference_request object (types only; the model checks names and shapes). */
export function parseInferenceRequest(json: Buffer): InferenceRequest {
  let value: unknown;
  try {
    value = JSON.parse(json.toString('utf8'));
  } catch (error) {
    throw badRequest(`The request body is not valid JSON: ${(error as Error).message}.`);
  }
  if (!isObject(value)) throw badRequest('The inference request must be a JSON object with "inputs".');
  if (value.id !== undefined && typeof value.id !== 'string') throw badRequest('"id" must be a string.');
  if (!Array.isArray(value.inputs) || value.inputs.length === 0) throw badRequest('"inputs" must be a non-empty array of input tensors.');
  const inputs = value.inputs.map((input: unknown, i: number): RequestInput => {
    if (!isObject(input) || typeof input.name !== 'string') throw badRequest(`inputs[${i}] must be an object with a string "name".`);
    if (!Array.isArray(input.shape) || !input.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw badRequest(`Input "${input.name}": "shape" must be an array of non-negative integers.`);
    }
    if (typeof input.datatype !== 'string') throw badRequest(`Input "${input.name}": "datatype" must be a string such as "FP32".`);
    return { name: input.name, shape: input.shape as number[], datatype: input.datatype, parameters: checkParameters(input.parameters, `Input "${input.name}"`), data: input.data };
  });
  let outputs: RequestOutput[] | undefined;
  if (value.outputs !== undefined) {
    if (!Array.isArray(value.outputs)) throw badRequest('"outputs" must be an array of requested outputs.');
    outputs = value.outputs.map((output: unknown, i: number): RequestOutput => {
      if (!isObject(output) || typeof output.name !== 'string') throw badRequest(`outputs[${i}] must be an object with a string "name".`);
      return { name: output.name, parameters: checkParameters(output.parameters, `Output "${output.name}"`) };
    });
  }
  return { id: value.id as string | undefined, parameters: checkParameters(value.parameters, 'The request'), inputs, outputs };
}

export const elementCount = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Flattens JSON tensor data (flat or nested, row-major) into float32 values, checking the count. */
export function jsonFloat32(data: unknown, count: number, name: string): Float32Array {
  if (!Array.isArray(data)) throw badRequest(`Input "${name}": "data" must be an array of numbers (or give "binary_data_size").`);
  const flat = data.flat(Infinity) as unknown[];
  if (flat.length !== count) throw badRequest(`Input "${name}": "data" has ${flat.length} elements; its shape needs ${count}.`);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const v = flat[i];
    if (typeof v !== 'number') throw badRequest(`Input "${name}": element ${i} of "data" is ${JSON.stringify(v)}, not a number.`);
    out[i] = v;
  }
  return out;
}

/** Binary tensor data (little-endian, row-major) as float32 values, copied so that it is aligned. */
export function binaryFloat32(bytes: Buffer, count: number, name: string): Float32Array {
  if (bytes.length !== count * 4) throw badRequest(`Input "${name}": "binary_data_size" is ${bytes.length} bytes; its FP32 shape needs ${count * 4}.`);
  // Every platform onnxruntime-node ships for (x64, arm64) is little-endian, as the extension's data is.
  const out = new Float32Array(count);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/** A BYTES tensor in the binary extension's layout: each element a 4-byte little-endian length, then its bytes. */
export function encodeBytesElements(values: readonly string[]): Buffer {
  const parts = values.flatMap((value) => {
    const bytes = Buffer.from(value, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32LE(bytes.length);
    return [length, bytes];
  });
  return Buffer.concat(parts);
}

/** Float32 values as binary tensor data. */
export const encodeFloat32 = (values: Float32Array): Buffer => Buffer.from(values.buffer, values.byteOffset, values.byteLength);

/** The response body: the JSON object, then each binary output in order; headerLength is set when binary data follows. */
export function encodeResponse(response: InferenceResponse, binary: Buffer[]): { body: Buffer; headerLength: number | null } {
  const json = Buffer.from(JSON.stringify(response), 'utf8');
  if (binary.length === 0) return { body: json, headerLength: null };
  return { body: Buffer.concat([json, ...binary]), headerLength: json.length };
}
