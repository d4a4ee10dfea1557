// What every route reads: the models, the admission queue, the metrics and the limits.
import type { FastifyRequest } from 'fastify';
import type { Admission } from './admission.js';
import type { ServeMetrics } from './metrics.js';
import type { LoadedModel, ModelRegistry } from './models.js';

export interface ServeContext {
  models: ModelRegistry;
  admission: Admission;
  metrics: ServeMetrics;
  /** Largest request body in bytes. */
  bodyLimit: number;
  /** Requests whose body has been read in full (a timeout before that is the client's: 408). */
  bodyReceived: WeakSet<FastifyRequest>;
  /** The server's package version (server metadata). */
  version: string;
}

export interface ModelParams {
  name: string;
  version?: string;
}

/** The model a /v2/models/{name}[/versions/{version}]/... URL names. */
export function modelOf(ctx: ServeContext, request: FastifyRequest): LoadedModel {
  const { name, version } = request.params as ModelParams;
  return ctx.models.get(name, version);
}

/** Registers a GET or POST handler under both /v2/models/{name}{suffix} and /v2/models/{name}/versions/{version}{suffix}. */
export const MODEL_PREFIXES = ['/v2/models/:name', '/v2/models/:name/versions/:version'] as const;
