// Public API of @pets/serve: the server behind pets-serve, for embedding and tests.
export { createServer, SERVE_DEFAULTS } from './server.js';
export type { PetsServer, ServeOptions } from './server.js';
export { parseModelSpec } from './models.js';
export type { ModelSpec, LoadedModel, TensorMetadata } from './models.js';
export { modelMetadata, modelConfig, EXTENSIONS } from './routes/metadata.js';
export { ServeError } from './errors.js';
export type { InferenceRequest, InferenceResponse, RequestInput, RequestOutput, ResponseOutput, Parameters } from './codec/tensors.js';
