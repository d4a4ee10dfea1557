// A static server for the built site (sirv), with the headers that make the page cross-origin isolated
// so onnxruntime-web can run wasm on several threads (SharedArrayBuffer).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import sirv from 'sirv';
import { buildCli, webDemoDir } from './build.js';

/** Sent with every file: COOP + COEP give the page crossOriginIsolated, hence wasm threads. */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
} as const;

export interface ServeOptions {
  /** The built site. Default: web-demo/dist. */
  dir?: string;
  /** Port; 0 picks a free one. Default 8080. */
  port?: number;
  /** Interface to listen on. Default 127.0.0.1 (this machine only). */
  host?: string;
  /** Send the COOP/COEP headers. Default true; false shows the single-threaded fallback. */
  isolate?: boolean;
  /** Serve FILE.br / FILE.gz (written by the build) for FILE when the browser accepts them. Default true. */
  precompressed?: boolean;
}

export interface SiteServer {
  url: string;
  close(): Promise<void>;
}

export async function serveSite(options: ServeOptions = {}): Promise<SiteServer> {
  const isolate = options.isolate ?? true;
  const precompressed = options.precompressed ?? true;
  const files = sirv(resolve(options.dir ?? join(webDemoDir, 'dist')), {
    dev: true, // re-reads the folder on each request, so a rebuild is served without a restart
    etag: true,
    // By Accept-Encoding, brotli before gzip, with Content-Encoding and Vary: Accept-Encoding.
    brotli: precompressed,
    gzip: precompressed,
    setHeaders(res, pathname) {
      if (isolate) for (const [name, value] of Object.entries(ISOLATION_HEADERS)) res.setHeader(name, value);
      if (pathname.endsWith('.onnx')) res.setHeader('Content-Type', 'application/octet-stream');
    },
  });
  const server = createServer((req, res) => files(req, res));
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 8080, host, done);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    strict: false,
    options: {
      build: { type: 'boolean', default: false },
      dir: { type: 'string' },
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      'no-isolation': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(`Usage: npm run web -- [--model FILE.onnx] [--port 8080] [--host 127.0.0.1] [--no-isolation]

  --build         build the site first (npm run web does); --model and --out go to the build  [default: false]
  --dir           the folder to serve                                                          [default: web-demo/dist]
  --port          port, 0 for any free one                                                     [default: 8080]
  --host          interface, e.g. 0.0.0.0 to try it from a phone on the same network           [default: 127.0.0.1]
  --no-isolation  leave out the COOP/COEP headers (wasm then runs on one thread)               [default: false]`);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`"--port" must be an integer from 0 to 65535; got ${String(values.port)}.`);
  let dir = typeof values.dir === 'string' ? resolve(process.env.INIT_CWD ?? process.cwd(), values.dir) : undefined;
  if (values.build) {
    const buildArgs = argv.filter((arg, i) => ['--model', '--out'].some((o) => arg === o || arg.startsWith(`${o}=`) || argv[i - 1] === o));
    const built = await buildCli(buildArgs, { serving: true });
    dir ??= built?.outDir;
  }
  const server = await serveSite({ dir, port, host: String(values.host), isolate: !values['no-isolation'] });
  const shown = relative(process.env.INIT_CWD ?? process.cwd(), dir ?? join(webDemoDir, 'dist')) || '.';
  console.log(`Serving ${shown}/ at ${server.url}  (open it in a browser; Ctrl+C stops)`);
  process.once('SIGINT', () => void server.close());
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((error: Error) => {
    console.error(`web: ${error.message}`);
    process.exitCode = 1;
  });
}
