// GET / (a page naming the loaded models and the endpoints) and GET /metrics (Prometheus text format).
import type { FastifyInstance } from 'fastify';
import type { ServeContext } from '../context.js';

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function homeRoutes(app: FastifyInstance, ctx: ServeContext): void {
  app.get('/', async (_request, reply) => {
    const rows = ctx.models.all().map((m) => {
      const { inputSize, labels, executionProvider, reason } = m.classifier.info;
      const base = `/v2/models/${m.name}/versions/${m.version}`;
      return `<tr><td>${escape(m.name)}</td><td>${escape(m.version)}</td><td>${escape(m.path)}</td><td>${inputSize.height}×${inputSize.width}</td><td>${labels.length}</td><td>${escape(executionProvider)}${reason ? ` <small>(${escape(reason)})</small>` : ''}</td><td><a href="${base}">metadata</a>, POST ${base}/infer, POST ${base}/classify</td></tr>`;
    });
    const html = `<!doctype html><html><head><meta charset="utf-8"><title>pets-serve</title></head><body>
<h1>pets-serve ${escape(ctx.version)}</h1>
<p>Open Inference Protocol (KServe v2 / Triton REST) with the binary tensor data and classification extensions. <a href="/v2">Server metadata</a>, <a href="/metrics">metrics</a>.</p>
<table border="1" cellpadding="4"><tr><th>model</th><th>version</th><th>file</th><th>input</th><th>classes</th><th>execution provider</th><th>endpoints</th></tr>
${rows.join('\n')}
</table>
<p>Classify a photo: <code>curl --data-binary @cat.jpg http://HOST/v2/models/NAME/classify</code></p>
</body></html>`;
    return reply.type('text/html; charset=utf-8').send(html);
  });
  app.get('/metrics', async (_request, reply) => reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics()));
}
