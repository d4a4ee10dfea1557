// What the serve tests share: requests in the protocol's shapes, responses read back (JSON or with
// binary tensor data), and a raw socket for clients that send slowly.
import assert from 'node:assert/strict';
import { connect } from 'node:net';

export interface Reply {
  status: number;
  headers: Headers;
  /** The JSON object (the part before binary data when there is some). */
  json: Record<string, unknown>;
  /** The bytes after the JSON object. */
  binary: Buffer;
}

export async function readReply(response: Response): Promise<Reply> {
  const body = Buffer.from(await response.arrayBuffer());
  const headerLength = response.headers.get('inference-header-content-length');
  const jsonEnd = headerLength === null ? body.length : Number(headerLength);
  return { status: response.status, headers: response.headers, json: JSON.parse(body.subarray(0, jsonEnd).toString('utf8')), binary: body.subarray(jsonEnd) };
}

export async function get(url: string): Promise<Reply> {
  return readReply(await fetch(url));
}

export async function post(url: string, body: string | Buffer | FormData, headers: Record<string, string> = {}): Promise<Reply> {
  return readReply(await fetch(url, { method: 'POST', body: Buffer.isBuffer(body) ? new Uint8Array(body) : body, headers }));
}

/** An inference request for the image input: JSON data, or binary data after the JSON object. */
export function inferBody(x: Float32Array, count: number, size: number, options: { binary?: boolean; outputs?: unknown; parameters?: unknown; id?: string } = {}): { body: Buffer; headers: Record<string, string> } {
  const input = { name: 'image', shape: [count, size, size, 3], datatype: 'FP32', ...(options.binary ? { parameters: { binary_data_size: x.byteLength } } : { data: Array.from(x) }) };
  const request = { ...(options.id ? { id: options.id } : {}), ...(options.parameters ? { parameters: options.parameters } : {}), inputs: [input], ...(options.outputs ? { outputs: options.outputs } : {}) };
  const json = Buffer.from(JSON.stringify(request));
  if (!options.binary) return { body: json, headers: { 'content-type': 'application/json' } };
  return {
    body: Buffer.concat([json, Buffer.from(x.buffer, x.byteOffset, x.byteLength)]),
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(json.length) },
  };
}

/** Asserts the protocol's error object and the status. */
export function assertError(reply: Reply, status: number, message: RegExp): void {
  assert.equal(reply.status, status, JSON.stringify(reply.json));
  assert.deepEqual(Object.keys(reply.json), ['error']);
  assert.match(reply.json.error as string, message);
}

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) <= tolerance, `${what}[${i}]: ${actual[i]} vs ${expected[i]} (tolerance ${tolerance})`);
}

/**
 * Sends a request's head and the first part of its body on a raw socket; `finish()` sends the rest.
 * `response` resolves with the raw HTTP response text once the server closes or answers.
 */
export function partialRequest(port: number, path: string, body: Buffer, sentBytes: number, headers: Record<string, string> = {}) {
  const socket = connect(port, '127.0.0.1');
  const head = [`POST ${path} HTTP/1.1`, 'Host: 127.0.0.1', `Content-Length: ${body.length}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), 'Connection: close', '', ''].join('\r\n');
  socket.write(head);
  socket.write(body.subarray(0, sentBytes));
  const response = new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', reject);
  });
  return { response, finish: () => socket.write(body.subarray(sentBytes)) };
}

/** Status and JSON body of a raw HTTP response text. */
export function parseRaw(text: string): { status: number; json: Record<string, unknown> } {
  const status = Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1]);
  const body = text.slice(text.indexOf('\r\n\r\n') + 4);
  return { status, json: JSON.parse(body) };
}
