// Inference requests and responses of the Open Inference Protocol REST API (KServe "v2"; Triton's
// docs/protocol, "Inference" of the KServe predict protocol) with Triton's binary tensor data extension
// (server/docs/protocol/extension_binary_data.md): the JSON object, then each binary tensor's bytes in the
// order of the tensors in the JSON, "binary_data_size" on each binary tensor, the JSON's length in the
// Inference-Header-Content-Length header; little-endian, row-major, no padding; BOOL one byte, BYTES a
// 4-byte little-endian length before each element. Pure: no fetch, no Node APIs.

/** OIP tensor datatypes. */
export const DATATYPES = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'] as const;
export type Datatype = (typeof DATATYPES)[number];

/** Element data: typed arrays for numbers, boolean[] for BOOL, string[] for BYTES. */
export type TensorData = Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array | BigInt64Array | BigUint64Array | boolean[] | string[];

export interface Tensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  data: TensorData;
}

/** A requested output: binary unless `binary` is false. */
export interface RequestedOutput {
  name: string;
  binary?: boolean;
  parameters?: Record<string, unknown>;
}

export interface InferRequest {
  id?: string;
  inputs: Tensor[];
  outputs?: RequestedOutput[];
  parameters?: Record<string, unknown>;
}

export interface InferResponse {
  modelName: string | null;
  modelVersion: string | null;
  id: string | null;
  outputs: Tensor[];
}

/** The header naming the JSON's length in a body with binary tensors. */
export const HEADER_LENGTH = 'Inference-Header-Content-Length';

/** A body or header that does not follow the protocol. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

const ELEMENT_BYTES: Record<Exclude<Datatype, 'BYTES'>, number> = {
  BOOL: 1, UINT8: 1, INT8: 1, UINT16: 2, INT16: 2, FP16: 2, UINT32: 4, INT32: 4, FP32: 4, UINT64: 8, INT64: 8, FP64: 8,
};

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Elements of a shape; -1 and fractions are refused. */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => {
    if (!Number.isSafeInteger(d) || d < 0) throw new ProtocolError(`Invalid tensor shape [${shape.join(', ')}].`);
    return n * d;
  }, 1);
}

const TYPED: Record<string, { new (n: number): ArrayBufferView & { [i: number]: number | bigint; length: number } }> = {
  UINT8: Uint8Array, INT8: Int8Array, UINT16: Uint16Array, INT16: Int16Array, UINT32: Uint32Array, INT32: Int32Array,
  FP32: Float32Array, FP64: Float64Array, UINT64: BigUint64Array, INT64: BigInt64Array,
};

/** The little-endian bytes of a tensor's data. */
export function tensorBytes(tensor: Tensor): Uint8Array {
  const { datatype, data, name } = tensor;
  if (datatype === 'BYTES') {
    if (!Array.isArray(data) || !data.every((s) => typeof s === 'string')) throw new TypeError(`Tensor "${name}" (BYTES) needs string[] data.`);
    const parts = (data as string[]).map((s) => new TextEncoder().encode(s));
    const out = new Uint8Array(parts.reduce((n, p) => n + 4 + p.length, 0));
    const view = new DataView(out.buffer);
    let offset = 0;
    for (const part of parts) {
      view.setUint32(offset, part.length, true);
      out.set(part, offset + 4);
      offset += 4 + part.length;
    }
    return out;
  }
  if (datatype === 'BOOL') {
    const values = data as ArrayLike<unknown>;
    return Uint8Array.from({ length: values.length }, (_, i) => (values[i] ? 1 : 0));
  }
  if (datatype === 'FP16') throw new TypeError(`Tensor "${name}": FP16 inputs are not supported; send FP32.`);
  const Typed = TYPED[datatype];
  if (!Typed || !(data instanceof Typed)) throw new TypeError(`Tensor "${name}" (${datatype}) needs ${Typed?.name ?? 'typed'} data.`);
  const view = data as ArrayBufferView;
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  if (LITTLE_ENDIAN || ELEMENT_BYTES[datatype] === 1) return bytes;
  const size = ELEMENT_BYTES[datatype];
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += size) for (let j = 0; j < size; j++) out[i + j] = bytes[i + size - 1 - j];
  return out;
}

/** The request body: the JSON object with every input sent as binary data, then their bytes. */
export function encodeInferRequest(request: InferRequest): { body: Uint8Array<ArrayBuffer>; headerLength: number } {
  const binary = request.inputs.map((input) => {
    if (elementCount(input.shape) !== input.data.length) {
      throw new RangeError(`Tensor "${input.name}" has ${input.data.length} elements but shape [${input.shape.join(', ')}].`);
    }
    return tensorBytes(input);
  });
  const json = {
    ...(request.id === undefined ? {} : { id: request.id }),
    inputs: request.inputs.map((input, i) => ({ name: input.name, shape: input.shape, datatype: input.datatype, parameters: { binary_data_size: binary[i].length } })),
    ...(request.outputs ? { outputs: request.outputs.map((o) => ({ name: o.name, parameters: { ...o.parameters, binary_data: o.binary ?? true } })) } : {}),
    ...(request.parameters ? { parameters: request.parameters } : {}),
  };
  const header = new TextEncoder().encode(JSON.stringify(json));
  const body = new Uint8Array(header.length + binary.reduce((n, b) => n + b.length, 0));
  body.set(header, 0);
  let offset = header.length;
  for (const part of binary) {
    body.set(part, offset);
    offset += part.length;
  }
  return { body, headerLength: header.length };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fromFloat16(bits: number): number {
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  const sign = bits & 0x8000 ? -1 : 1;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** Reads `count` elements of a datatype from little-endian bytes. */
export function readTensorBytes(datatype: Datatype, bytes: Uint8Array, count: number, name: string): TensorData {
  if (datatype === 'BYTES') {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const out: string[] = [];
    let offset = 0;
    while (offset < bytes.length) {
      if (offset + 4 > bytes.length) throw new ProtocolError(`Output "${name}": a BYTES element's length runs past its data.`);
      const length = view.getUint32(offset, true);
      if (offset + 4 + length > bytes.length) throw new ProtocolError(`Output "${name}": a BYTES element runs past its data.`);
      out.push(new TextDecoder().decode(bytes.subarray(offset + 4, offset + 4 + length)));
      offset += 4 + length;
    }
    if (out.length !== count) throw new ProtocolError(`Output "${name}" holds ${out.length} BYTES elements; its shape says ${count}.`);
    return out;
  }
  const size = ELEMENT_BYTES[datatype];
  if (bytes.length !== count * size) throw new ProtocolError(`Output "${name}" has ${bytes.length} bytes; ${count} ${datatype} elements take ${count * size}.`);
  if (datatype === 'BOOL') return Array.from(bytes, (b) => b !== 0);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (datatype === 'FP16') return Float32Array.from({ length: count }, (_, i) => fromFloat16(view.getUint16(i * 2, true)));
  const out = new TYPED[datatype](count);
  if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(bytes);
  else {
    const get = { UINT8: 'getUint8', INT8: 'getInt8', UINT16: 'getUint16', INT16: 'getInt16', UINT32: 'getUint32', INT32: 'getInt32', FP32: 'getFloat32', FP64: 'getFloat64', UINT64: 'getBigUint64', INT64: 'getBigInt64' }[datatype] as 'getFloat32';
    for (let i = 0; i < count; i++) out[i] = view[get](i * size, true);
  }
  return out as TensorData;
}

/** JSON "data" (flat, or nested row-major) as typed data. */
function readJsonData(datatype: Datatype, data: unknown, count: number, name: string): TensorData {
  if (!Array.isArray(data)) throw new ProtocolError(`Output "${name}" has neither "data" nor "binary_data_size".`);
  const flat = (data as unknown[]).flat(Infinity);
  if (flat.length !== count) throw new ProtocolError(`Output "${name}" has ${flat.length} elements; its shape says ${count}.`);
  if (datatype === 'BYTES') {
    if (!flat.every((x) => typeof x === 'string')) throw new ProtocolError(`Output "${name}" (BYTES) has data that are not strings.`);
    return flat as string[];
  }
  if (datatype === 'BOOL') return flat.map((x) => x === true);
  if (!flat.every((x) => typeof x === 'number')) throw new ProtocolError(`Output "${name}" (${datatype}) has data that are not numbers.`);
  if (datatype === 'FP16') return Float32Array.from(flat as number[]);
  const out = new TYPED[datatype](count);
  (flat as number[]).forEach((x, i) => (out[i] = datatype.endsWith('64') && datatype !== 'FP64' ? BigInt(x) : x));
  return out as TensorData;
}

/**
 * Parses a response body. `headerLength` is the Inference-Header-Content-Length header (null when absent:
 * the whole body is JSON). Binary outputs take their bytes from after the JSON, in order.
 */
export function decodeInferResponse(body: Uint8Array, headerLength: number | null): InferResponse {
  if (headerLength !== null && (!Number.isSafeInteger(headerLength) || headerLength < 0 || headerLength > body.length)) {
    throw new ProtocolError(`${HEADER_LENGTH} ${headerLength} does not fit the ${body.length}-byte body.`);
  }
  const end = headerLength ?? body.length;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(body.subarray(0, end)));
  } catch (error) {
    throw new ProtocolError(`The response is not JSON (${(error as Error).message}).`);
  }
  if (!isRecord(json) || !Array.isArray(json.outputs)) throw new ProtocolError('The response has no "outputs" array.');
  let offset = end;
  const outputs = json.outputs.map((output: unknown): Tensor => {
    if (!isRecord(output) || typeof output.name !== 'string') throw new ProtocolError('A response output has no "name".');
    const name = output.name;
    const datatype = output.datatype as Datatype;
    if (!DATATYPES.includes(datatype)) throw new ProtocolError(`Output "${name}" has datatype ${JSON.stringify(output.datatype)}; expected one of ${DATATYPES.join(', ')}.`);
    if (!Array.isArray(output.shape)) throw new ProtocolError(`Output "${name}" has no "shape".`);
    const shape = output.shape as number[];
    const count = elementCount(shape);
    const size = isRecord(output.parameters) ? output.parameters.binary_data_size : undefined;
    if (size === undefined) return { name, datatype, shape, data: readJsonData(datatype, output.data, count, name) };
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0 || offset + size > body.length) {
      throw new ProtocolError(`Output "${name}": binary_data_size ${JSON.stringify(size)} runs past the ${body.length - end} bytes after the JSON.`);
    }
    const bytes = body.subarray(offset, offset + size);
    offset += size;
    return { name, datatype, shape, data: readTensorBytes(datatype, bytes, count, name) };
  });
  if (offset !== body.length) throw new ProtocolError(`${body.length - offset} bytes after the outputs' binary data belong to no output.`);
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  return { modelName: text(json.model_name), modelVersion: text(json.model_version), id: text(json.id), outputs };
}

/** A numeric output as float32 (FP32 as it is; other numeric types converted). */
export function asFloat32(tensor: Tensor): Float32Array {
  if (tensor.data instanceof Float32Array) return tensor.data;
  if (tensor.datatype === 'BYTES' || tensor.datatype === 'BOOL') throw new ProtocolError(`Output "${tensor.name}" is ${tensor.datatype}, not numbers.`);
  return Float32Array.from(tensor.data as ArrayLike<number>, Number);
}
