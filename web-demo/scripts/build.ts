// Builds the static site: the page bundled by esbuild, the model, onnxruntime-web's module and .wasm
// file, a few sample photos and config.json. The folder can be hosted anywhere; nothing comes from a CDN.
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { createClassifier } from '@pets/runtime';
import { SITE_CONFIG_FILE, type SiteConfig } from '../src/site-config.js';
import { onnxWeightPrecision } from './onnx-precision.js';

export const webDemoDir = fileURLToPath(new URL('../..', import.meta.url));
export const repoDir = resolve(webDemoDir, '..');
const srcDir = join(webDemoDir, 'src');

/** The model `npm start` exports; used when no --model is given. */
export const DEFAULT_MODEL = join(repoDir, 'models', 'demo.onnx');

/** Sample photos from the bundled dataset (two cats, two dogs, small files). */
export const SAMPLE_PHOTOS = ['Bombay_125.jpg', 'Egyptian_Mau_152.jpg', 'pug_145.jpg', 'pomeranian_132.jpg'];
const sampleDir = join(repoDir, 'data', 'pets-mini', 'images');

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
}

export interface BuildResult {
  outDir: string;
  config: SiteConfig;
  labels: number;
  inputSize: { height: number; width: number };
  /** Every file written, relative to outDir, with its size in bytes. */
  files: Record<string, number>;
}

/** Resolves `import 'onnxruntime-web'` to the bundle build (the default export condition), kept as its own file. */
function onnxruntimeWebBeside(found: { path?: string }): Plugin {
  return {
    name: 'onnxruntime-web-beside',
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter: /^onnxruntime-web$/ }, async (args) => {
        if (args.pluginData === 'inner') return undefined;
        const resolved = await pluginBuild.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: 'inner' });
        if (resolved.errors.length > 0) return { errors: resolved.errors };
        found.path = resolved.path;
        // Kept out of main.js: its wasm threads start workers from its own URL (import.meta.url).
        return { path: `./ort/${basename(resolved.path)}`, external: true };
      });
    },
  };
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

  const partial = `${outDir}.partial-${process.pid}`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(join(partial, 'ort'), { recursive: true });
  await mkdir(join(partial, 'samples'), { recursive: true });
  try {
    const ort: { path?: string } = {};
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
      plugins: [onnxruntimeWebBeside(ort)],
      logLevel: 'warning',
    });
    if (!ort.path) throw new Error('The page does not import onnxruntime-web (through @pets/runtime): nothing to copy.');
    const ortDir = dirname(ort.path);
    const wasmFiles = await wasmFilesOf(ort.path);
    if (wasmFiles.length !== 1) throw new Error(`Expected ${basename(ort.path)} to load one .wasm file; it names ${wasmFiles.join(', ') || 'none'}.`);
    for (const file of [basename(ort.path), `${basename(ort.path)}.map`, ...wasmFiles]) {
      await copyFile(join(ortDir, file), join(partial, 'ort', file)).catch((error: NodeJS.ErrnoException) => {
        if (!(error.code === 'ENOENT' && file.endsWith('.map'))) throw error;
      });
    }

    await writeFile(join(partial, 'model.onnx'), checked.bytes);
    for (const photo of SAMPLE_PHOTOS) await copyFile(join(sampleDir, photo), join(partial, 'samples', photo));
    for (const file of ['index.html', 'styles.css']) await copyFile(join(srcDir, file), join(partial, file));
    await writeFile(join(partial, '_headers'), HOST_HEADERS);

    const config: SiteConfig = {
      model: { url: 'model.onnx', bytes: checked.bytes.length, precision: checked.precision },
      ortFiles: { wasm: `ort/${wasmFiles[0]}` },
      samples: SAMPLE_PHOTOS.map((photo) => ({ url: `samples/${photo}`, label: photo.replace(/_\d+\.\w+$/, '') })),
    };
    await writeFile(join(partial, SITE_CONFIG_FILE), `${JSON.stringify(config, null, 2)}\n`);

    const files: Record<string, number> = {};
    for (const file of ['index.html', 'styles.css', 'main.js', SITE_CONFIG_FILE, 'model.onnx', config.ortFiles.wasm, `ort/${basename(ort.path)}`]) {
      files[file] = (await stat(join(partial, file))).size;
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
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(`Usage: npm run web:build -- [--model FILE.onnx] [--out DIR]

  --model      the .onnx model written by pets-export (fp32, or fp16 with --fp16)   [default: models/demo.onnx]
  --out        the folder to write (replaced)                                     [default: web-demo/dist]
  --no-minify  keep main.js readable                                              [default: false]`);
    return undefined;
  }
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const result = await buildSite({
    model: values.model === undefined ? undefined : resolve(cwd, values.model),
    outDir: values.out === undefined ? undefined : resolve(cwd, values.out),
    minify: !values['no-minify'],
  });
  const { files, config, labels, inputSize } = result;
  const notes: Record<string, string> = {
    'model.onnx': `${config.model.precision}, ${labels} labels, ${inputSize.width}x${inputSize.height} input`,
    [config.ortFiles.wasm]: 'onnxruntime-web (WebGPU and wasm)',
    'main.js': `the page, with ${config.samples.length} sample photos in samples/`,
  };
  const width = Math.max(...Object.keys(notes).map((name) => name.length));
  console.log(`Built ${relative(cwd, result.outDir) || '.'}/`);
  for (const [name, note] of Object.entries(notes)) console.log(`  ${name.padEnd(width)}  ${megabytes(files[name]).padStart(8)}  ${note}`);
  if (!serving) console.log('Serve it with "npm run web", or from any static host: see web-demo/README.md for the headers that enable wasm threads.');
  return result;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildCli(process.argv.slice(2)).catch((error: Error) => {
    console.error(`web:build: ${error.message}`);
    process.exitCode = 1;
  });
}
