// Server and model metadata (OIP REST "Server Metadata", "Model Metadata"), and Triton's model
// configuration extension (server/docs/protocol/extension_model_configuration.md), which is where a
// client finds the pets input contract both here and on a Triton that serves an exported repository.
import type { FastifyInstance } from 'fastify';
import { ONNX_METADATA_KEYS } from '@pets/runtime/contract';
import { MODEL_PREFIXES, modelOf, type ServeContext } from '../context.js';
import type { LoadedModel } from '../models.js';

/** Extensions this server implements, as Triton names them in its server metadata. */
export const EXTENSIONS = ['binary_tensor_data', 'classification', 'model_configuration'];

/** $metadata_model_response, plus "parameters" carrying the pets contract as a JSON string. */
export function modelMetadata(model: LoadedModel, versions: string[]) {
  return {
    name: model.name,
    versions,
    platform: 'onnxruntime_onnx',
    inputs: model.inputs,
    outputs: model.outputs,
    parameters: { [ONNX_METADATA_KEYS.contract]: model.contractJson },
  };
}

/** The model as Triton's GET .../config returns it (protobuf JSON mapping: int64 dims are strings). */
export function modelConfig(model: LoadedModel, maxBatch: number) {
  const tensor = (t: { name: string; shape: number[] }) => ({ name: t.name, data_type: 'TYPE_FP32', dims: t.shape.slice(1).map(String) });
  return {
    name: model.name,
    platform: 'onnxruntime_onnx',
    backend: 'onnxruntime',
    max_batch_size: maxBatch,
    input: model.inputs.map(tensor),
    output: model.outputs.map(tensor),
    parameters: { [ONNX_METADATA_KEYS.contract]: { string_value: model.contractJson } },
  };
}

export function metadataRoutes(app: FastifyInstance, ctx: ServeContext, maxBatch: number): void {
  app.get('/v2', async () => ({ name: 'pets-serve', version: ctx.version, extensions: EXTENSIONS }));
  for (const prefix of MODEL_PREFIXES) {
    app.get(prefix, async (request) => {
      const model = modelOf(ctx, request);
      return modelMetadata(model, ctx.models.versions(model.name));
    });
    app.get(`${prefix}/config`, async (request) => modelConfig(modelOf(ctx, request), maxBatch));
  }
}
