// Health (OIP REST "Health"): status 200 means true. The bodies are the newer Open Inference Protocol
// spec's ($live_server_response, $ready_server_response, $ready_model_response); clients of the
// original spec read only the status.
import type { FastifyInstance } from 'fastify';
import { MODEL_PREFIXES, modelOf, type ServeContext } from '../context.js';

export function healthRoutes(app: FastifyInstance, ctx: ServeContext): void {
  app.get('/v2/health/live', async () => ({ live: true }));
  // Every model loads before the server listens, so a server that answers is ready.
  app.get('/v2/health/ready', async () => ({ ready: true }));
  for (const prefix of MODEL_PREFIXES) {
    app.get(`${prefix}/ready`, async (request) => {
      const model = modelOf(ctx, request);
      return { name: model.name, ready: true };
    });
  }
}
