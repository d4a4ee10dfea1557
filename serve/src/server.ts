// createServer(): models loaded through @pets/runtime behind a fastify app with the protocol's routes,
// errors as {"error": "..."}, a bounded admission queue, limits, metrics and one log line per request.
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import multipart from '@fastify/multipart';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { DEFAULT_MAX_BATCH, type NodeProvider } from '@pets/runtime';
import { Admission } from './admission.js';
import type { ServeContext } from './context.js';
import { ServeError } from './errors.js';
import { createMetrics } from './metrics.js';
import { ModelRegistry, type ModelSpec } from './models.js';
import { classifyRoutes } from './routes/classify.js';
import { healthRoutes } from './routes/health.js';
import { homeRoutes } from './routes/home.js';
import { inferRoutes } from './routes/infer.js';
import { metadataRoutes } from './routes/metadata.js';

/** Options of createServer(). */
export interface ServeOptions {
  /** The models to serve. */
  models: ModelSpec[];
  /** Execution providers: 'auto' (CUDA when usable, else CPU) or a list. Default 'auto'. */
  executionProviders?: 'auto' | NodeProvider[];
  /** Inference threads per model; default onnxruntime's (one per core). */
  threads?: number;
  /** Most images per inference run. Default 16. */
  maxBatch?: number;
  /** Most images admitted at once (decoding, queued or running); beyond it 503. Default 64. */
  maxQueue?: number;
  /** Largest request body in bytes. Default 32 MiB. */
  bodyLimit?: number;
  /** Milliseconds a request may take from arrival to response (a slow upload gets 408). Default 30000. */
  timeoutMs?: number;
  /** Largest decoded image in pixels. Default the runtime's (100 MP). */
  maxPixels?: number;
  /** pino log level for the one line per request: 'info', 'warn', 'error' or 'silent'. Default 'info'. */
  logLevel?: string;
}

export const SERVE_DEFAULTS = { maxQueue: 64, bodyLimit: 32 * 2 ** 20, timeoutMs: 30_000, logLevel: 'info' } as const;

export interface PetsServer {
  app: FastifyInstance;
  context: ServeContext;
  /** Starts listening; resolves with the base URL (port 0 picks a free port). */
  listen(port: number, host: string): Promise<string>;
  /** Stops accepting, lets in-flight requests finish, then releases the models. */
  close(): Promise<void>;
}

function packageVersion(): string {
  for (const path of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as { name?: string; version: string };
      if (pkg.name === '@pets/serve') return pkg.version;
    } catch {
      // not this one
    }
  }
  return '0.0.0';
}

function checkPositive(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 1)) throw new RangeError(`"${name}" must be a positive integer; got ${String(value)}.`);
}

/** Maps any error to the protocol's error response: status, headers and message. */
function toServeError(error: FastifyError | Error, request: FastifyRequest, ctx: ServeContext): ServeError {
  if (error instanceof ServeError) return error;
  const code = (error as FastifyError).code;
  if (code === 'FST_ERR_HANDLER_TIMEOUT') {
    if (!ctx.bodyReceived.has(request)) return new ServeError(408, 'The request body did not arrive in time; the request timed out.', { connection: 'close' });
    return new ServeError(503, 'The request timed out waiting for inference. Retry later.', { 'retry-after': '1' });
  }
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE' || code === 'FST_REQ_FILE_TOO_LARGE' || (error as FastifyError).statusCode === 413) {
    return new ServeError(413, `The request body is larger than the limit of ${ctx.bodyLimit} bytes (--body-limit).`, { connection: 'close' });
  }
  if (error.name === 'ImageDecodeError') return new ServeError(400, error.message);
  const status = (error as FastifyError).statusCode;
  if (status !== undefined && status >= 400 && status < 500) return new ServeError(status, error.message);
  return new ServeError(500, `Internal error: ${error.message}`);
}

/** Answers a connection-level error (a request that never completed: timeout, malformed HTTP) in the protocol's format. */
function clientError(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) return void socket.destroy();
  const timeout = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  const [status, text] = timeout ? [408, 'Request Timeout'] : [400, 'Bad Request'];
  const body = JSON.stringify({ error: timeout ? 'The request did not arrive in time; the request timed out.' : `Malformed HTTP request: ${error.message}` });
  socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

export async function createServer(options: ServeOptions): Promise<PetsServer> {
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  const maxQueue = options.maxQueue ?? SERVE_DEFAULTS.maxQueue;
  const bodyLimit = options.bodyLimit ?? SERVE_DEFAULTS.bodyLimit;
  const timeoutMs = options.timeoutMs ?? SERVE_DEFAULTS.timeoutMs;
  for (const [name, value] of Object.entries({ maxBatch, maxQueue, bodyLimit, timeoutMs, threads: options.threads, maxPixels: options.maxPixels })) checkPositive(name, value);
  const metrics = createMetrics(maxBatch);
  const models = await ModelRegistry.load(options.models, {
    executionProviders: options.executionProviders,
    threads: options.threads,
    maxBatch,
    maxPixels: options.maxPixels,
    maxBytes: bodyLimit,
    onBatch: (model, size) => metrics.batchSize.observe({ model }, size),
  });
  const ctx: ServeContext = {
    models,
    admission: new Admission(maxQueue, (depth) => metrics.queueDepth.set(depth)),
    metrics,
    bodyLimit,
    bodyReceived: new WeakSet(),
    version: packageVersion(),
  };
  const logLevel = options.logLevel ?? SERVE_DEFAULTS.logLevel;
  const app = Fastify({
    logger: logLevel === 'silent' ? false : { level: logLevel },
    // Our own onResponse hook writes the one line per request.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    handlerTimeout: timeoutMs,
    // The socket-level backstop for a request whose headers never complete; handlerTimeout covers the rest.
    requestTimeout: timeoutMs * 2,
    http: { connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(timeoutMs / 2))) },
    // Our onRequest hook answers requests that arrive while closing, in the protocol's error format.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    clientErrorHandler: clientError,
    // Errors fastify raises before routing (a URL that does not decode), in the protocol's format.
    frameworkErrors: (error, _request, reply) => void (reply as FastifyReply).code(400).type('application/json').send({ error: error.message }),
  });
  // Bodies are read as bytes and parsed by the routes: the protocol's JSON may be followed by binary data.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  await app.register(multipart, { limits: { fileSize: bodyLimit, files: 1, fields: 16 } });

  let closing = false;
  app.addHook('onRequest', async (_request, reply) => {
    if (closing) return reply.code(503).headers({ connection: 'close', 'retry-after': '1' }).send({ error: 'The server is shutting down.' });
  });
  app.addHook('preHandler', async (request) => {
    if (!request.isMultipart()) ctx.bodyReceived.add(request);
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    metrics.requests.inc({ route, method: request.method, status: String(status) });
    metrics.latency.observe({ route }, reply.elapsedTime / 1000);
    request.log.info({ method: request.method, url: request.url, route, status, ms: Math.round(reply.elapsedTime * 100) / 100 }, 'request');
  });
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const serveError = toServeError(error, request, ctx);
    if (serveError.statusCode >= 500 && serveError.statusCode !== 503) request.log.error({ err: error }, 'request failed');
    return reply.code(serveError.statusCode).headers(serveError.headers).type('application/json').send({ error: serveError.message });
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: `No such endpoint: ${request.method} ${request.url.split('?')[0]}.` }));

  healthRoutes(app, ctx);
  metadataRoutes(app, ctx, maxBatch);
  inferRoutes(app, ctx);
  classifyRoutes(app, ctx);
  homeRoutes(app, ctx);

  let closed: Promise<void> | null = null;
  return {
    app,
    context: ctx,
    async listen(port, host) {
      await app.listen({ port, host });
      const address = app.server.address();
      if (address === null || typeof address === 'string') throw new Error(`Unexpected server address ${String(address)}.`);
      const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      return `http://${shown}:${address.port}`;
    },
    close() {
      closing = true;
      closed ??= app.close().then(() => models.dispose());
      return closed;
    },
  };
}
