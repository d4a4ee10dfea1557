// HTTP calls of the Open Inference Protocol REST API on one model (KServe "v2" predict protocol, as Triton
// and pets-serve implement it): model metadata, Triton's model configuration extension, and inference with
// binary tensors. fetch() only, so that the same code runs in Node and browsers. Errors become
// RemoteInferenceError: an HTTP status with the protocol's {"error": "..."} text, no connection, a timeout,
// or a body off the protocol.
import { decodeInferResponse, encodeInferRequest, HEADER_LENGTH, ProtocolError, type InferRequest, type InferResponse } from './binary-tensors.js';
import { RemoteInferenceError } from './errors.js';

/** $metadata_tensor */
export interface TensorMetadata {
  name: string;
  datatype: string;
  shape: number[];
}

/** $metadata_model_response (pets-serve adds parameters["pets.contract"]). */
export interface ModelMetadata {
  name: string;
  versions?: string[];
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
  parameters?: Record<string, unknown>;
}

export interface ClientOptions {
  /** Server base URL, e.g. http://127.0.0.1:8000 (a path prefix is kept: https://host/serving/). */
  url: string;
  model: string;
  /** Model version; the server's choice when absent. */
  version?: string;
  /** Milliseconds a request may take before it is aborted. */
  timeoutMs: number;
  /** Extra request headers (authorization, a KServe ingress Host). */
  headers?: Record<string, string>;
}

/** A checked base URL without a trailing slash; TypeError when it is not http(s). */
export function baseUrl(url: unknown): string {
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    throw new TypeError(`"url" must be an http(s) URL such as http://127.0.0.1:8000; got ${JSON.stringify(url)}.`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError(`"url" must be an http(s) URL such as http://127.0.0.1:8000; got ${JSON.stringify(url)}.`);
  }
  return parsed.href.replace(/\/+$/, '');
}

export class InferenceClient {
  /** .../v2/models/{name}[/versions/{v}] */
  readonly modelUrl: string;

  constructor(private readonly options: ClientOptions) {
    const version = options.version === undefined ? '' : `/versions/${encodeURIComponent(options.version)}`;
    this.modelUrl = `${baseUrl(options.url)}/v2/models/${encodeURIComponent(options.model)}${version}`;
  }

  /** One request; resolves with the response when its status is 2xx. */
  private async send(method: 'GET' | 'POST', url: string, init: { body?: Uint8Array<ArrayBuffer>; headers?: Record<string, string> } = {}): Promise<{ response: Response; body: Uint8Array }> {
    const endpoint = `${method} ${url}`;
    let response: Response;
    let body: Uint8Array;
    try {
      response = await fetch(url, {
        method,
        headers: { ...this.options.headers, ...init.headers },
        body: init.body,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      body = new Uint8Array(await response.arrayBuffer());
    } catch (error) {
      const name = (error as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new RemoteInferenceError(endpoint, 'timeout', `no answer within ${this.options.timeoutMs} ms (timeoutMs).`, { cause: error });
      }
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason = cause?.code ?? cause?.message ?? (error as Error).message;
      throw new RemoteInferenceError(endpoint, 'network', `cannot reach the server (${reason}).`, { cause: error });
    }
    if (!response.ok) {
      const retry = Number(response.headers.get('retry-after'));
      throw new RemoteInferenceError(endpoint, 'http', `${response.status} ${response.statusText}: ${errorText(body)}`, {
        status: response.status,
        retryAfter: Number.isFinite(retry) && retry >= 0 && response.headers.has('retry-after') ? retry : null,
      });
    }
    return { response, body };
  }

  private async getJson(url: string): Promise<unknown> {
    const { body } = await this.send('GET', url);
    try {
      return JSON.parse(new TextDecoder().decode(body));
    } catch (error) {
      throw new RemoteInferenceError(`GET ${url}`, 'protocol', `the answer is not JSON (${(error as Error).message}).`);
    }
  }

  /** GET /v2/models/{name}[/versions/{v}] */
  async metadata(): Promise<ModelMetadata> {
    const json = await this.getJson(this.modelUrl);
    const value = json as Partial<ModelMetadata> | null;
    if (!value || typeof value !== 'object' || !Array.isArray(value.inputs) || !Array.isArray(value.outputs)) {
      throw new RemoteInferenceError(`GET ${this.modelUrl}`, 'protocol', 'the model metadata has no "inputs" and "outputs" arrays.');
    }
    return value as ModelMetadata;
  }

  /** GET .../config (Triton's model configuration extension); null when the server does not have it. */
  async config(): Promise<Record<string, unknown> | null> {
    try {
      const json = await this.getJson(`${this.modelUrl}/config`);
      return typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : null;
    } catch (error) {
      if (error instanceof RemoteInferenceError && error.failure !== 'network' && error.failure !== 'timeout') return null;
      throw error;
    }
  }

  /** POST .../infer with binary input tensors; outputs come back binary as requested. */
  async infer(request: InferRequest): Promise<InferResponse> {
    const url = `${this.modelUrl}/infer`;
    const { body, headerLength } = encodeInferRequest(request);
    const { response, body: answer } = await this.send('POST', url, {
      body,
      headers: { 'Content-Type': 'application/octet-stream', [HEADER_LENGTH]: String(headerLength) },
    });
    const header = response.headers.get(HEADER_LENGTH);
    try {
      return decodeInferResponse(answer, header === null ? null : Number(header));
    } catch (error) {
      if (error instanceof ProtocolError) throw new RemoteInferenceError(`POST ${url}`, 'protocol', error.message, { status: response.status });
      throw error;
    }
  }
}

/** The protocol's {"error": "..."} text, else the start of the body. */
function errorText(body: Uint8Array): string {
  const text = new TextDecoder().decode(body);
  try {
    const json = JSON.parse(text) as { error?: unknown };
    if (typeof json.error === 'string') return json.error;
  } catch {
    // not JSON: a proxy's page, say
  }
  return text.trim().slice(0, 200) || '(empty body)';
}
