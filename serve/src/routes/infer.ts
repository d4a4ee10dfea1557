// POST /v2/models/{name}[/versions/{version}]/infer (OIP REST "Inference"), with JSON tensor data or
// Triton's binary tensor data extension, and the classification extension on any output. The image
// input goes to the runtime's batcher as it is: the client has preprocessed it per the model's contract.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ImageOutputs } from '@pets/runtime';
import { ONNX_NAMES } from '@pets/runtime/contract';
import { classificationCount, classificationStrings } from '../codec/classification.js';
import {
  binaryFloat32,
  elementCount,
  encodeBytesElements,
  encodeFloat32,
  encodeResponse,
  HEADER_LENGTH,
  jsonFloat32,
  parseInferenceRequest,
  splitBody,
  type InferenceRequest,
  type ResponseOutput,
} from '../codec/tensors.js';
import { MODEL_PREFIXES, modelOf, type ServeContext } from '../context.js';
import { badRequest } from '../errors.js';
import type { LoadedModel } from '../models.js';

/** The image input as float32 [count, H, W, 3], from JSON data or the binary section. */
function imageInput(request: InferenceRequest, binary: Buffer, model: LoadedModel): { x: Float32Array; count: number } {
  const expected = model.inputs[0];
  let offset = 0;
  let found: { x: Float32Array; count: number } | null = null;
  for (const input of request.inputs) {
    if (input.name !== expected.name) throw badRequest(`Unexpected input "${input.name}" for model "${model.name}"; its only input is "${expected.name}".`);
    if (found) throw badRequest(`Input "${input.name}" is given twice.`);
    if (input.datatype !== expected.datatype) {
      throw badRequest(`Input "${input.name}" has datatype ${input.datatype}; model "${model.name}" expects ${expected.datatype}.`);
    }
    const [, h, w, c] = expected.shape;
    const [n, ...rest] = input.shape;
    if (input.shape.length !== 4 || rest[0] !== h || rest[1] !== w || rest[2] !== c || n < 1) {
      throw badRequest(`Input "${input.name}" has shape [${input.shape.join(', ')}]; model "${model.name}" expects [N, ${h}, ${w}, ${c}] with N >= 1.`);
    }
    const count = elementCount(input.shape);
    const size = input.parameters?.binary_data_size;
    let x: Float32Array;
    if (size !== undefined) {
      if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw badRequest(`Input "${input.name}": "binary_data_size" must be a non-negative integer.`);
      if (offset + size > binary.length) throw badRequest(`Input "${input.name}": "binary_data_size" ${size} runs past the ${binary.length} bytes of binary data.`);
      x = binaryFloat32(binary.subarray(offset, offset + size), count, input.name);
      offset += size;
    } else {
      x = jsonFloat32(input.data, count, input.name);
    }
    found = { x, count: n };
  }
  if (offset !== binary.length) throw badRequest(`The body holds ${binary.length - offset} bytes of binary data that no input's "binary_data_size" accounts for.`);
  if (!found) throw badRequest(`Model "${model.name}" needs input "${expected.name}".`);
  return found;
}

interface PlannedOutput {
  name: string;
  classification: number | null;
  binary: boolean;
}

/** The outputs to return: the requested ones, or all of them with the request's defaults. */
function plannedOutputs(request: InferenceRequest, model: LoadedModel): PlannedOutput[] {
  const binaryDefault = request.parameters?.binary_data_output === true;
  const requested = request.outputs ?? model.outputs.map((o) => ({ name: o.name, parameters: undefined }));
  const classes = model.outputs[0].shape[1];
  return requested.map((output) => {
    if (!model.outputs.some((o) => o.name === output.name)) {
      throw badRequest(`Unknown output "${output.name}" for model "${model.name}". Outputs: ${model.outputs.map((o) => o.name).join(', ')}.`);
    }
    const k = output.parameters?.classification;
    const binary = output.parameters?.binary_data;
    if (binary !== undefined && typeof binary !== 'boolean') throw badRequest(`Output "${output.name}": "binary_data" must be true or false.`);
    return { name: output.name, classification: k === undefined ? null : classificationCount(k, output.name, classes), binary: binary ?? binaryDefault };
  });
}

function outputValues(results: ImageOutputs[], name: string): Float32Array[] {
  return results.map((r) => (name === ONNX_NAMES.logits ? (r.logits as Float32Array) : r.probabilities));
}

function respond(results: ImageOutputs[], outputs: PlannedOutput[], model: LoadedModel, id: string | undefined) {
  const binary: Buffer[] = [];
  const labels = model.classifier.info.labels;
  const tensors = outputs.map((output): ResponseOutput => {
    const values = outputValues(results, output.name);
    let tensor: ResponseOutput;
    let bytes: () => Buffer;
    if (output.classification !== null) {
      const k = output.classification;
      const strings = values.flatMap((v) => classificationStrings(v, labels, k));
      tensor = { name: output.name, shape: [results.length, k], datatype: 'BYTES', data: strings };
      bytes = () => encodeBytesElements(strings);
    } else {
      const flat = new Float32Array(values.reduce((n, v) => n + v.length, 0));
      values.forEach((v, i) => flat.set(v, i * v.length));
      tensor = { name: output.name, shape: [results.length, values[0].length], datatype: 'FP32', data: Array.from(flat) };
      bytes = () => encodeFloat32(flat);
    }
    if (!output.binary) return tensor;
    const data = bytes();
    binary.push(data);
    const { data: _json, ...header } = tensor;
    return { ...header, parameters: { binary_data_size: data.length } };
  });
  return encodeResponse({ model_name: model.name, model_version: model.version, ...(id === undefined ? {} : { id }), outputs: tensors }, binary);
}

async function infer(ctx: ServeContext, request: FastifyRequest, reply: FastifyReply) {
  const model = modelOf(ctx, request);
  const body = request.body;
  if (!Buffer.isBuffer(body) || body.length === 0) throw badRequest('The request body is empty; expected an inference request JSON object.');
  const { json, binary } = splitBody(body, request.headers[HEADER_LENGTH]);
  const inference = parseInferenceRequest(json);
  const { x, count } = imageInput(inference, binary, model);
  const outputs = plannedOutputs(inference, model);
  const results = await ctx.admission.run(count, () => model.classifier.infer(x));
  if (reply.sent) return reply; // timed out meanwhile: the 503 has gone
  const { body: out, headerLength } = respond(results, outputs, model, inference.id);
  if (headerLength === null) return reply.type('application/json').send(out);
  return reply.type('application/octet-stream').header('Inference-Header-Content-Length', String(headerLength)).send(out);
}

export function inferRoutes(app: FastifyInstance, ctx: ServeContext): void {
  for (const prefix of MODEL_PREFIXES) app.post(`${prefix}/infer`, (request, reply) => infer(ctx, request, reply));
}
