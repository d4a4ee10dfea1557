// POST /v2/models/{name}[/versions/{version}]/classify: an image for people rather than tensor clients.
// The body is the image's bytes (any content type but multipart) or a multipart form with one file;
// the answer is classify()'s own predictions, decoded and preprocessed by the runtime as classify() does.
// Query: ?top=K (default 5), ?all=true for every class.
import type { MultipartFile } from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MODEL_PREFIXES, modelOf, type ServeContext } from '../context.js';
import { badRequest } from '../errors.js';

function predictOptions(query: Record<string, string | undefined>): { topK?: number; all?: boolean } {
  const topK = query.top === undefined ? undefined : Number(query.top);
  if (topK !== undefined && (!Number.isInteger(topK) || topK < 1)) throw badRequest(`"top" must be a positive integer; got "${query.top}".`);
  if (query.all !== undefined && !['true', 'false'].includes(query.all)) throw badRequest(`"all" must be true or false; got "${query.all}".`);
  return { topK, all: query.all === 'true' };
}

async function imageBytes(ctx: ServeContext, request: FastifyRequest): Promise<Buffer> {
  if (!request.isMultipart()) {
    const body = request.body;
    if (!Buffer.isBuffer(body) || body.length === 0) throw badRequest('The request body is empty; send the image bytes, or a multipart form with one file.');
    return body;
  }
  let file: MultipartFile | undefined;
  let bytes: Buffer;
  try {
    file = await request.file();
    bytes = file ? await file.toBuffer() : Buffer.alloc(0);
  } catch (error) {
    // Size errors keep their 413; anything else busboy says is a malformed form, the client's.
    if ((error as { statusCode?: number }).statusCode === 413) throw error;
    throw badRequest(`Malformed multipart form: ${(error as Error).message}.`);
  }
  ctx.bodyReceived.add(request);
  if (!file) throw badRequest('The multipart form holds no file; send the image as a file field.');
  if (bytes.length === 0) throw badRequest(`The file "${file.filename}" is empty.`);
  return bytes;
}

async function classify(ctx: ServeContext, request: FastifyRequest, reply: FastifyReply) {
  const model = modelOf(ctx, request);
  const options = predictOptions(request.query as Record<string, string | undefined>);
  const bytes = await imageBytes(ctx, request);
  const predictions = await ctx.admission.run(1, () => model.classifier.classify(bytes, options));
  if (reply.sent) return reply;
  return reply.send({ model_name: model.name, model_version: model.version, predictions });
}

export function classifyRoutes(app: FastifyInstance, ctx: ServeContext): void {
  for (const prefix of MODEL_PREFIXES) app.post(`${prefix}/classify`, (request, reply) => classify(ctx, request, reply));
}
