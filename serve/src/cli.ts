// pets-serve: serve models over HTTP on the Open Inference Protocol until SIGTERM or SIGINT, which stop
// accepting, let in-flight requests finish and exit 0. Human lines go to stderr, the JSON log (one line
// per request) to stdout.
/* eslint-disable no-console -- a CLI prints where it listens */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { DEFAULT_MAX_BATCH, NODE_PROVIDERS, type NodeProvider } from '@pets/runtime';
import { failUsage, reportError, UsageError } from '@pets/runtime/cli-errors';
import { parseModelSpec } from './models.js';
import { createServer, SERVE_DEFAULTS } from './server.js';

/** "32mb", "512kb", "1gb" or a byte count. */
export function parseSize(text: string): number {
  const match = /^(\d+)\s*(b|kb|mb|gb)?$/i.exec(text.trim());
  if (!match) throw new UsageError(`Invalid size "${text}". Expected a byte count or a number with kb, mb or gb (e.g. 32mb).`);
  const unit = { b: 1, kb: 2 ** 10, mb: 2 ** 20, gb: 2 ** 30 }[(match[2] ?? 'b').toLowerCase() as 'b'];
  return Number(match[1]) * unit;
}

try {
  const argv = await yargs(hideBin(process.argv))
    .scriptName('pets-serve')
    .usage('$0 --model MODEL.onnx [--model NAME@VERSION=OTHER.onnx] [--port 8000] [--host 127.0.0.1]\n\nServe pets models over HTTP: the Open Inference Protocol (KServe v2 / Triton REST) with Triton\'s binary tensor and classification extensions, and POST /v2/models/NAME/classify for image files.')
    .option('model', { type: 'string', array: true, demandOption: true, describe: 'A model to serve: PATH (named after the file, version 1), NAME=PATH or NAME@VERSION=PATH; repeat for several' })
    .option('port', { type: 'number', default: 8000, describe: 'TCP port; 0 picks a free one' })
    .option('host', { type: 'string', default: '127.0.0.1', describe: 'Address to bind. 127.0.0.1 is this machine only; 0.0.0.0 or :: exposes the server (no authentication, no TLS) to every network the machine is on' })
    .option('providers', { type: 'string', default: 'auto', describe: `Execution providers: auto, or a comma list of ${NODE_PROVIDERS.join(', ')}` })
    .option('threads', { type: 'number', describe: 'Inference threads per model [default: one per core]' })
    .option('max-batch', { type: 'number', default: DEFAULT_MAX_BATCH, describe: 'Most images per inference run (concurrent requests are batched)' })
    .option('max-queue', { type: 'number', default: SERVE_DEFAULTS.maxQueue, describe: 'Most images admitted at once; beyond it requests get 503 with Retry-After' })
    .option('body-limit', { type: 'string', default: '32mb', describe: 'Largest request body (bytes, or with kb, mb, gb); beyond it 413' })
    .option('timeout', { type: 'number', default: SERVE_DEFAULTS.timeoutMs, describe: 'Milliseconds a request may take; a slow upload gets 408, a slow inference 503' })
    .option('max-pixels', { type: 'number', describe: 'Largest decoded image in pixels [default: 100000000]' })
    .option('log-level', { type: 'string', default: SERVE_DEFAULTS.logLevel, choices: ['info', 'warn', 'error', 'silent'], describe: 'JSON log on stdout: info logs one line per request' })
    .strict()
    .help()
    .version(false)
    .fail(failUsage)
    .parseAsync();
  if (!Number.isInteger(argv.port) || argv.port < 0 || argv.port > 65535) throw new UsageError(`--port must be an integer from 0 to 65535; got ${argv.port}.`);
  const server = await createServer({
    models: argv.model.map(parseModelSpec),
    executionProviders: argv.providers === 'auto' ? 'auto' : (argv.providers.split(',') as NodeProvider[]),
    threads: argv.threads,
    maxBatch: argv['max-batch'],
    maxQueue: argv['max-queue'],
    bodyLimit: parseSize(argv['body-limit']),
    timeoutMs: argv.timeout,
    maxPixels: argv['max-pixels'],
    logLevel: argv['log-level'],
  });
  for (const m of server.context.models.all()) {
    const { inputSize, labels, executionProvider, reason } = m.classifier.info;
    console.error(`pets-serve: model "${m.name}" version ${m.version} from ${m.path}: ${inputSize.height}x${inputSize.width}, ${labels.length} classes, execution provider ${executionProvider}${reason ? ` (${reason})` : ''}`);
  }
  let url: string;
  try {
    url = await server.listen(argv.port, argv.host);
  } catch (error) {
    await server.close();
    throw error;
  }
  console.error(`pets-serve: listening on ${url} (models: ${server.context.models.all().map((m) => `${url}/v2/models/${m.name}`).join(', ')})`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      console.error(`pets-serve: ${signal} again, exiting without waiting`);
      process.exit(1);
    }
    stopping = true;
    console.error(`pets-serve: ${signal}: finishing in-flight requests`);
    server.close().then(
      () => {
        console.error('pets-serve: stopped');
        process.exitCode = 0;
        // onnxruntime's thread pools can keep the loop alive after the sessions are released.
        setTimeout(() => process.exit(0), 500).unref();
      },
      (error: unknown) => {
        process.exitCode = reportError('pets-serve', error);
        process.exit();
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
} catch (error) {
  process.exitCode = reportError('pets-serve', error, ['ServeError']);
}
