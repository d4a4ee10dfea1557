// Builds the static site: the page bundled by esbuild, the model, onnxruntime-web's module and .wasm
// file, a few sample photos and config.json. The folder can be hosted anywhere; nothing comes from a CDN.
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { createClassifier } from '@pets/runtime';
import { SITE_CONFIG_FILE, type SiteConfig } from '../src/site-config.js';
import { onnxWeightPrecision } from './onnx-precision.js';
import { DEFAULT_BROTLI_QUALITY, precompress } from './precompress.js';

export const webDemoDir = fileURLToPath(new URL('../..', import.meta.url));
export const repoDir = resolve(webDemoDir, '..');
const srcDir = join(webDemoDir, 'src');

/** The model `npm start` exports; used when no --model is given. */
export const DEFAULT_MODEL = join(repoDir, 'models', 'demo.onnx');

/** Sample photos from the bundled dataset (two cats, two dogs, small files). */
export const SAMPLE_PHOTOS = ['Bombay_125.jpg', 'Egyptian_Mau_152.jpg', 'pug_145.jpg', 'pomeranian_132.jpg'];
const sampleDir = join(repoDir, 'data', 'pets-mini', 'images');
/** Compressed copies of onnxruntime-web's files, kept between builds (compressing its .wasm takes seconds). */
const compressCache = join(repoDir, 'node_modules', '.cache', 'pets-web-demo');
/** The service worker's file, beside index.html (its scope is the folder). */
export const SERVICE_WORKER = 'sw.js';

/** Headers for hosts that read a `_headers` file (Netlify, Cloudflare Pages): cross-origin isolation for wasm threads. */
const HOST_HEADERS = `/*
  Cross-Origin-Opener-Policy: same-origin
  Cross-Origin-Embedder-Policy: require-corp
  Cross-Origin-Resource-Policy: same-origin
`;

export interface BuildOptions {
  /** The .onnx model written by pets-export (fp32, or fp16 with --fp16). Default: models/demo.onnx. */
  model?: string;
  /** The folder to write; replaced as a whole once the build succeeds. Default: web-demo/dist. */
  outDir?: string;
  /** Minify the page's script. Default true. */
  minify?: boolean;
  /** Brotli quality of the precompressed copies, 0-11. Default 9. */
  brotliQuality?: number;
  /** What makes the first visit fast and a reload work offline; all on by default (the bench turns one off to measure it). */
  levers?: Partial<BuildLevers>;
}

export interface BuildLevers {
  /** Load onnxruntime-web's wasm-only build (14 MB .wasm) unless WebGPU runs the model; off: its WebGPU build for both. */
  wasmOnlyBuild: boolean;
  /** Write FILE.br and FILE.gz beside each file that compresses. */
  precompress: boolean;
  /** Fetch the model (a preload link) and the runtime (from main.js) in parallel. */
  prefetch: boolean;
  /** Register sw.js, which keeps the page's files for an offline reload. */
  serviceWorker: boolean;
}

const ALL_LEVERS: BuildLevers = { wasmOnlyBuild: true, precompress: true, prefetch: true, serviceWorker: true };

export interface BuildResult {
  outDir: string;
  config: SiteConfig;
  labels: number;
  inputSize: { height: number; width: number };
  /** Every file written, relative to outDir, with its size in bytes. */
  files: Record<string, number>;
}

/**
 * Resolves the runtime's imports of onnxruntime-web's builds ('onnxruntime-web' for WebGPU,
 * 'onnxruntime-web/wasm') to their bundle files, each kept as its own file under ort/ and imported only
 * when a page needs it. `found`: import specifier -> the file. With `single`, both resolve to the WebGPU build.
 */
function onnxruntimeWebBeside(found: Map<string, string>, single: boolean): Plugin {
  return {
    name: 'onnxruntime-web-beside',
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter: /^onnxruntime-web(\/wasm)?$/ }, async (args) => {
        if (args.pluginData === 'inner') return undefined;
        const specifier = single ? 'onnxruntime-web' : args.path;
        const resolved = await pluginBuild.resolve(specifier, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: 'inner' });
        if (resolved.errors.length > 0) return { errors: resolved.errors };
        found.set(args.path, resolved.path);
        // Kept out of main.js: its wasm threads start workers from its own URL (import.meta.url).
        return { path: `./ort/${basename(resolved.path)}`, external: true };
      });
    },
  };
}

/** The import each provider's build comes from (runtime/src/backend/web.ts). */
const ORT_IMPORTS = { webgpu: 'onnxruntime-web', wasm: 'onnxruntime-web/wasm' } as const;

/** Preload links, so that the model and config.json download while main.js does. */
function withPreloads(html: string, config: SiteConfig): string {
  const links = [config.model.url, SITE_CONFIG_FILE].map((url) => `<link rel="preload" href="${url}" as="fetch" crossorigin>`);
  return html.replace(/(\n\s*)<link rel="stylesheet"/, (match, indent: string) => `${links.map((l) => indent + l).join('')}${match}`);
}

/** A short hash of every file in `dir`: the service worker's cache version. */
async function hashOf(dir: string): Promise<string> {
  const hash = createHash('sha256');
  for (const name of (await readdir(dir, { recursive: true })).sort()) {
    const bytes = await readFile(join(dir, name)).catch(() => undefined); // folders
    if (bytes) hash.update(name).update(bytes);
  }
  return hash.digest('hex').slice(0, 16);
}

async function checkModel(model: string) {
  const exists = await stat(model).then((s) => s.isFile(), () => false);
  if (!exists) {
    const shown = relative(repoDir, model).startsWith('..') ? model : relative(repoDir, model);
    throw new Error(
      `No model at ${shown}. Make one with "npm start" (trains on the bundled sample and exports models/demo.onnx), ` +
        'or export a training run with "npx pets-export --run runs/sample --out models/demo.onnx [--fp16]", ' +
        'or pass --model path/to/model.onnx.',
    );
  }
  const bytes = new Uint8Array(await readFile(model));
  // Opening it with the Node runtime checks its contract and outputs before anything ships.
  const classifier = await createClassifier({ model: bytes, executionProviders: ['cpu'] }).catch((error: Error) => {
    throw new Error(`${model} is not a usable pets model: ${error.message}`, { cause: error });
  });
  const { labels, inputSize } = classifier.info;
  await classifier.dispose();
  return { bytes, labels: labels.length, inputSize, precision: onnxWeightPrecision(bytes) };
}

/** onnxruntime-web's .wasm files that its bundle build loads (named in its code). */
async function wasmFilesOf(ortBundle: string): Promise<string[]> {
  const code = await readFile(ortBundle, 'utf8');
  return [...new Set(code.match(/ort-wasm[\w.-]*?\.wasm/g) ?? [])];
}

export async function buildSite(options: BuildOptions = {}): Promise<BuildResult> {
  const model = resolve(options.model ?? DEFAULT_MODEL);
  const outDir = resolve(options.outDir ?? join(webDemoDir, 'dist'));
  const checked = await checkModel(model);

  const levers = { ...ALL_LEVERS, ...options.levers };

  const partial = `${outDir}.partial-${process.pid}`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(join(partial, 'ort'), { recursive: true });
  await mkdir(join(partial, 'samples'), { recursive: true });
  try {
    const ort = new Map<string, string>();
    await build({
      entryPoints: [join(srcDir, 'main.ts')],
      outfile: join(partial, 'main.js'),
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      minify: options.minify ?? true,
      sourcemap: 'linked',
      tsconfig: join(srcDir, 'tsconfig.json'),
      plugins: [onnxruntimeWebBeside(ort, !levers.wasmOnlyBuild)],
      logLevel: 'warning',
    });
    const ortFiles: Partial<SiteConfig['ortFiles']> = {};
    for (const [provider, specifier] of Object.entries(ORT_IMPORTS) as [keyof typeof ORT_IMPORTS, string][]) {
      const bundle = ort.get(specifier);
      if (!bundle) throw new Error(`The page does not import ${specifier} (through @pets/runtime): nothing to copy.`);
      const wasmFiles = await wasmFilesOf(bundle);
      if (wasmFiles.length !== 1) throw new Error(`Expected ${basename(bundle)} to load one .wasm file; it names ${wasmFiles.join(', ') || 'none'}.`);
      for (const file of [basename(bundle), `${basename(bundle)}.map`, ...wasmFiles]) {
        await copyFile(join(dirname(bundle), file), join(partial, 'ort', file)).catch((error: NodeJS.ErrnoException) => {
          if (!(error.code === 'ENOENT' && file.endsWith('.map'))) throw error;
        });
      }
      ortFiles[provider] = `ort/${wasmFiles[0]}`;
    }

    await writeFile(join(partial, 'model.onnx'), checked.bytes);
    for (const photo of SAMPLE_PHOTOS) await copyFile(join(sampleDir, photo), join(partial, 'samples', photo));
    await copyFile(join(srcDir, 'styles.css'), join(partial, 'styles.css'));
    await writeFile(join(partial, '_headers'), HOST_HEADERS);

    const config: SiteConfig = {
      model: { url: 'model.onnx', bytes: checked.bytes.length, precision: checked.precision },
      ortFiles: ortFiles as SiteConfig['ortFiles'],
      prefetch: levers.prefetch,
      serviceWorker: levers.serviceWorker ? SERVICE_WORKER : null,
      samples: SAMPLE_PHOTOS.map((photo) => ({ url: `samples/${photo}`, label: photo.replace(/_\d+\.\w+$/, '') })),
    };
    const html = await readFile(join(srcDir, 'index.html'), 'utf8');
    await writeFile(join(partial, 'index.html'), levers.prefetch ? withPreloads(html, config) : html);
    await writeFile(join(partial, SITE_CONFIG_FILE), `${JSON.stringify(config, null, 2)}\n`);
    if (config.serviceWorker) {
      await build({
        entryPoints: [join(srcDir, 'sw.ts')],
        outfile: join(partial, config.serviceWorker),
        bundle: true,
        format: 'iife',
        platform: 'browser',
        target: 'es2022',
        minify: options.minify ?? true,
        define: { VERSION: JSON.stringify(await hashOf(partial)) },
        tsconfig: join(srcDir, 'tsconfig.json'),
        logLevel: 'warning',
      });
    }

    const files: Record<string, number> = {};
    for (const file of ['index.html', 'styles.css', 'main.js', SITE_CONFIG_FILE, 'model.onnx', ...Object.values(config.ortFiles), ...[...ort.values()].map((b) => `ort/${basename(b)}`)]) {
      files[file] = (await stat(join(partial, file))).size;
    }
    if (levers.precompress) {
      const copies = await precompress(partial, { brotliQuality: options.brotliQuality, cacheDir: compressCache, cacheable: (name) => name.startsWith('ort/') });
      for (const [copy, size] of Object.entries(copies)) if (copy.replace(/\.(br|gz)$/, '') in files) files[copy] = size;
    }
    await rm(outDir, { recursive: true, force: true });
    await rename(partial, outDir);
    return { outDir, config, labels: checked.labels, inputSize: checked.inputSize, files };
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    throw error;
  }
}

const megabytes = (bytes: number) => (bytes < 1e5 ? `${(bytes / 1e3).toFixed(0)} kB` : `${(bytes / 1e6).toFixed(1)} MB`);

/** `node build/scripts/build.js [--model FILE.onnx] [--out DIR]`; relative paths are from where npm was run. */
export async function buildCli(argv: string[], { serving = false } = {}): Promise<BuildResult | undefined> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      out: { type: 'string' },
      'no-minify': { type: 'boolean', default: false },
      'brotli-quality': { type: 'string', default: String(DEFAULT_BROTLI_QUALITY) },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(`Usage: npm run web:build -- [--model FILE.onnx] [--out DIR]

  --model           the .onnx model written by pets-export (fp32, or fp16 with --fp16) [default: models/demo.onnx]
  --out             the folder to write (replaced)                                [default: web-demo/dist]
  --no-minify       keep main.js readable                                         [default: false]
  --brotli-quality  of the precompressed .br copies, 0-11 (11: 14% smaller, ~70 s more) [default: ${DEFAULT_BROTLI_QUALITY}]`);
    return undefined;
  }
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const result = await buildSite({
    model: values.model === undefined ? undefined : resolve(cwd, values.model),
    outDir: values.out === undefined ? undefined : resolve(cwd, values.out),
    minify: !values['no-minify'],
    brotliQuality: Number(values['brotli-quality']),
  });
  const { files, config, labels, inputSize } = result;
  const notes: Record<string, string> = {
    'model.onnx': `${config.model.precision}, ${labels} labels, ${inputSize.width}x${inputSize.height} input`,
    [config.ortFiles.wasm]: 'onnxruntime-web, wasm-only build (loaded unless WebGPU runs the model)',
    [`${config.ortFiles.wasm}.br`]: 'the same, brotli',
    [config.ortFiles.webgpu]: 'onnxruntime-web, WebGPU build (loaded only for WebGPU)',
    [`${config.ortFiles.webgpu}.br`]: 'the same, brotli',
    'main.js': `the page, with ${config.samples.length} sample photos in samples/`,
  };
  const width = Math.max(...Object.keys(notes).map((name) => name.length));
  console.log(`Built ${relative(cwd, result.outDir) || '.'}/`);
  for (const [name, note] of Object.entries(notes)) if (name in files) console.log(`  ${name.padEnd(width)}  ${megabytes(files[name]).padStart(8)}  ${note}`);
  if (!serving) console.log('Serve it with "npm run web", or from any static host: see web-demo/README.md for the headers that enable wasm threads.');
  return result;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildCli(process.argv.slice(2)).catch((error: Error) => {
    console.error(`web:build: ${error.message}`);
    process.exitCode = 1;
  });
}
