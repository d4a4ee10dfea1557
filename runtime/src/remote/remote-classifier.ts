// A classifier whose model runs on an inference server that speaks the Open Inference Protocol
// (pets-serve, Triton, KServe): the same Classifier as the local one (decoding and the contract's
// preprocessing here, batching of concurrent calls, the same result shapes), with a session whose run()
// is one POST .../infer carrying the batch as a binary FP32 tensor.
import { Classifier, DEFAULT_MAX_BATCH, type ClassifierInfo, type Platform, type SessionLike } from '../classifier.js';
import { ModelContractError, ONNX_METADATA_KEYS, ONNX_NAMES, parseContract, validateContract, type ModelContract } from '../contract.js';
import { contractFromMetadata, provenanceFromMetadata, readOnnxMetadata } from '../onnx-metadata.js';
import { modelDtype, type ModelDtype } from '../onnx-dtype.js';
import { asFloat32 } from './binary-tensors.js';
import { RemoteInferenceError } from './errors.js';
import { baseUrl, InferenceClient, type ModelMetadata, type TensorMetadata } from './inference-client.js';

/** Default for RemoteClassifierOptions.timeoutMs. */
export const DEFAULT_REMOTE_TIMEOUT_MS = 30_000;

/** Options of createRemoteClassifier(). */
export interface RemoteClassifierOptions {
  /** Base URL of the server, e.g. http://127.0.0.1:8000. */
  url: string;
  /** Model name on the server (pets-serve: the .onnx file name; Triton: the repository folder). */
  model: string;
  /** Model version. Default: the server's choice (its latest). */
  version?: string | number;
  /**
   * The model's input contract, for a server that does not give it. Default: read from the server (the
   * metadata's or the model configuration's parameters["pets.contract"], which pets-serve and a
   * repository written by pets-export --triton-repo carry).
   */
  contract?: ModelContract;
  /** The model's .onnx file (path or URL per platform, or bytes), to read the contract from instead. Default none. */
  modelFile?: string | Uint8Array | ArrayBuffer;
  /** Milliseconds each HTTP request may take. Default 30000. */
  timeoutMs?: number;
  /** Most images per request; lowered to the server's max_batch_size when it tells. Default 16. */
  maxBatch?: number;
  /** Extra HTTP headers on every request (authorization, say). Default none. */
  headers?: Record<string, string>;
}

/** Where the classifier sends its requests, and where its contract came from. */
export interface RemoteServerInfo {
  url: string;
  model: string;
  version: string | null;
  /** The metadata's platform, e.g. onnxruntime_onnx. */
  platform: string;
  contractSource: 'option' | 'file' | 'metadata' | 'config';
  /** The server's max_batch_size when its model configuration tells it, else null. */
  maxBatchSize: number | null;
}

export interface RemoteClassifierInfo extends ClassifierInfo {
  remote: RemoteServerInfo;
}

/** A Classifier whose info also names the server. */
export type RemoteClassifier<Input> = Classifier<Input> & { readonly info: RemoteClassifierInfo };

function checkOptions(options: RemoteClassifierOptions): void {
  if (typeof options !== 'object' || options === null || typeof options.url !== 'string' || typeof options.model !== 'string' || !options.model) {
    throw new TypeError('createRemoteClassifier needs { url, model }: the server\'s base URL and the model\'s name on it.');
  }
  baseUrl(options.url);
  const timeout = options.timeoutMs ?? DEFAULT_REMOTE_TIMEOUT_MS;
  if (!Number.isInteger(timeout) || timeout < 1) throw new RangeError(`"timeoutMs" must be a positive integer; got ${String(options.timeoutMs)}.`);
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError(`"maxBatch" must be a positive integer; got ${String(options.maxBatch)}.`);
  if (options.version !== undefined && !/^[A-Za-z0-9_.-]+$/.test(String(options.version))) {
    throw new RangeError(`"version" must be a version name such as 1; got ${JSON.stringify(options.version)}.`);
  }
}

/**
 * The contract JSON in a parameters object: a JSON string under "pets.contract" (pets-serve's metadata),
 * or Triton's ModelParameter { string_value } there (a model configuration from GET .../config).
 */
export function contractParameter(parameters: unknown): string | null {
  if (typeof parameters !== 'object' || parameters === null) return null;
  const value = (parameters as Record<string, unknown>)[ONNX_METADATA_KEYS.contract];
  if (typeof value === 'string') return value;
  const nested = (value as { string_value?: unknown } | undefined)?.string_value;
  return typeof nested === 'string' ? nested : null;
}

const fits = (shape: readonly number[], expected: readonly number[]) =>
  shape.length >= expected.length && expected.every((d, i) => [d, -1].includes(shape[shape.length - expected.length + i]));

/** The image input and class outputs of the metadata, checked against the contract. */
function checkMetadata(metadata: ModelMetadata, contract: ModelContract, where: string): { input: TensorMetadata; outputs: string[] } {
  const input = metadata.inputs.find((t) => t.name === ONNX_NAMES.input) ?? (metadata.inputs.length === 1 ? metadata.inputs[0] : undefined);
  const { height, width } = contract.imageSize;
  if (!input || input.datatype !== 'FP32' || !Array.isArray(input.shape) || !fits(input.shape, [height, width, 3])) {
    const got = metadata.inputs.map((t) => `${t.name} ${t.datatype} [${String(t.shape)}]`).join(', ');
    throw new ModelContractError(`${where}: the model's input is not an FP32 [N, ${height}, ${width}, 3] image as its contract says (inputs: ${got}).`);
  }
  const classes = contract.labels.length;
  const outputs = [ONNX_NAMES.probabilities, ONNX_NAMES.logits].filter((name) => metadata.outputs.some((t) => t.name === name));
  const probabilities = metadata.outputs.find((t) => t.name === ONNX_NAMES.probabilities);
  if (!probabilities || !Array.isArray(probabilities.shape) || !fits(probabilities.shape, [classes])) {
    throw new ModelContractError(`${where}: the model has no "${ONNX_NAMES.probabilities}" output of ${classes} classes, as its contract's labels say (outputs: ${metadata.outputs.map((t) => `${t.name} [${String(t.shape)}]`).join(', ')}).`);
  }
  return { input, outputs };
}

/** Opens a remote classifier; `platform` decodes images (its sessions are not used). */
export async function openRemoteClassifier<Input>(platform: Platform<Input>, options: RemoteClassifierOptions): Promise<RemoteClassifier<Input>> {
  checkOptions(options);
  const version = options.version === undefined ? undefined : String(options.version);
  const client = new InferenceClient({ url: options.url, model: options.model, version, timeoutMs: options.timeoutMs ?? DEFAULT_REMOTE_TIMEOUT_MS, headers: options.headers });
  const [metadata, config] = await Promise.all([client.metadata(), client.config()]);

  let contract: ModelContract;
  let contractSource: RemoteServerInfo['contractSource'];
  let provenance: Record<string, unknown> | null = null;
  let dtype: ModelDtype | null = null;
  const fromServer = contractParameter(metadata.parameters) ?? contractParameter(config?.parameters);
  if (options.contract !== undefined) {
    [contract, contractSource] = [validateContract(options.contract), 'option'];
  } else if (options.modelFile !== undefined) {
    const modelBytes = await platform.loadModel(options.modelFile);
    const fileMetadata = readOnnxMetadata(modelBytes);
    dtype = modelDtype(modelBytes);
    [contract, contractSource, provenance] = [contractFromMetadata(fileMetadata), 'file', provenanceFromMetadata(fileMetadata)];
  } else if (fromServer !== null) {
    contract = parseContract(fromServer);
    contractSource = contractParameter(metadata.parameters) !== null ? 'metadata' : 'config';
  } else {
    throw new ModelContractError(
      `${client.modelUrl} does not give the model's input contract (no parameters["${ONNX_METADATA_KEYS.contract}"] in its metadata or configuration): pass { contract } or { modelFile }.`,
    );
  }
  const { input, outputs } = checkMetadata(metadata, contract, client.modelUrl);

  const serverMax = typeof config?.max_batch_size === 'number' || typeof config?.max_batch_size === 'string' ? Number(config.max_batch_size) : null;
  const maxBatchSize = serverMax !== null && Number.isInteger(serverMax) && serverMax >= 0 ? serverMax : null;
  const requested = options.maxBatch ?? DEFAULT_MAX_BATCH;
  const maxBatch = maxBatchSize ? Math.min(requested, maxBatchSize) : requested;

  const classes = contract.labels.length;
  const inferUrl = `POST ${client.modelUrl}/infer`;
  const session: SessionLike = {
    outputNames: outputs,
    async run(feeds) {
      const x = feeds[ONNX_NAMES.input] as { data: Float32Array; dims: number[] };
      const count = x.dims[0];
      const response = await client.infer({
        inputs: [{ name: input.name, datatype: 'FP32', shape: x.dims, data: x.data }],
        outputs: outputs.map((name) => ({ name })),
        parameters: { binary_data_output: true },
      });
      const result: Record<string, { data: Float32Array; dims: number[] }> = {};
      for (const name of outputs) {
        const tensor = response.outputs.find((t) => t.name === name);
        if (!tensor) throw new RemoteInferenceError(inferUrl, 'protocol', `the response has no output "${name}".`);
        const data = asFloat32(tensor);
        if (tensor.shape[0] !== count || data.length !== count * classes) {
          throw new RemoteInferenceError(inferUrl, 'protocol', `output "${name}" has shape [${tensor.shape.join(', ')}]; expected [${count}, ${classes}].`);
        }
        result[name] = { data, dims: tensor.shape };
      }
      return result;
    },
    async release() {},
  };
  const info: RemoteClassifierInfo = {
    executionProvider: 'remote',
    reason: null,
    labels: contract.labels,
    inputSize: { ...contract.imageSize },
    contract,
    dtype,
    provenance,
    remote: { url: baseUrl(options.url), model: options.model, version: version ?? null, platform: String(metadata.platform), contractSource, maxBatchSize },
  };
  // The batcher's tensors go to the session above as they are: no onnxruntime tensor is made.
  const remotePlatform: Platform<Input> = { ...platform, tensor: (data, dims) => ({ data, dims }) };
  return Classifier.fromSession(remotePlatform, session, info, maxBatch) as RemoteClassifier<Input>;
}
