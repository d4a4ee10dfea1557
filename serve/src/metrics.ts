// Prometheus metrics through prom-client, on a registry of the server's own (two servers in one process
// keep theirs apart): requests by route and status, latency, batch sizes, queue depth, and the
// process's default metrics (resident memory among them).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ServeMetrics {
  registry: Registry;
  requests: Counter<'route' | 'method' | 'status'>;
  latency: Histogram<'route'>;
  batchSize: Histogram<'model'>;
  queueDepth: Gauge;
}

export function createMetrics(maxBatch: number): ServeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'pets_serve_' });
  const buckets: number[] = [];
  for (let b = 1; b < maxBatch; b *= 2) buckets.push(b);
  buckets.push(maxBatch);
  return {
    registry,
    requests: new Counter({ name: 'pets_serve_requests_total', help: 'HTTP requests answered, by route and status', labelNames: ['route', 'method', 'status'], registers: [registry] }),
    latency: new Histogram({
      name: 'pets_serve_request_duration_seconds',
      help: 'Time from request to response, by route',
      labelNames: ['route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    batchSize: new Histogram({ name: 'pets_serve_batch_size', help: 'Images per inference run (the runtime batcher)', labelNames: ['model'], buckets, registers: [registry] }),
    queueDepth: new Gauge({ name: 'pets_serve_queue_depth', help: 'Images admitted and not yet answered (decoding, queued or running)', registers: [registry] }),
  };
}
