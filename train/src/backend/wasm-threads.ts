// Runs tfjs-backend-wasm's multithreaded build (XNNPACK on a pthread pool) in Node, where tfjs 4.22 turns
// it off (its WASM_HAS_MULTITHREAD_SUPPORT flag is false under IS_NODE, tensorflow/tfjs#3830) although
// the emscripten output supports Node's worker_threads. Four things stand in the way, each handled here:
// - tfjs passes the pthread workers their script as a Blob URL, which Node's Worker cannot load: they get
//   it as a data: URL instead, with `require` and `__filename` (which the script expects) provided;
// - the pool size is capped at emscripten_num_logical_cores() / 2 (hyperthread pairs), one thread on a
//   2-core machine: that import is answered with twice the requested count;
// - the pool's threads keep Node alive: they are unref'd once started (and the idle workers ended);
// - a worker may grow the shared heap, leaving the main thread's HEAPU8 view (which BackendWasm reads)
//   short: it is re-taken whenever the memory's buffer changed.
// XNNPACK splits each operator's output between threads and every output element is still summed in the
// same order, so results do not depend on the thread count (checked in train/test/wasm-threads.test.ts).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** tfjs starts 8 pthread workers and caps XNNPACK's pool at 8 threads. */
export const MAX_WASM_THREADS = 8;

/** Longest the module may take to start (it takes about 0.1 s) before it counts as failed. */
const START_TIMEOUT_MS = 60_000;

const require = createRequire(import.meta.url);
const BUILD = '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd';

type Cwrap = (name: string, returns: string | null, args: string[]) => (...args: number[]) => number;
interface ThreadedModule {
  cwrap: Cwrap;
  wasmMemory: WebAssembly.Memory;
  HEAPU8: Uint8Array;
  PThread?: { runningWorkers: { unref(): void }[]; unusedWorkers: { terminate(): Promise<number> }[]; terminateAllThreads(): void };
  tfjs?: Record<string, (...args: number[]) => number>;
}
interface FactoryConfig extends Partial<ThreadedModule> {
  mainScriptUrlOrBlob: string;
  locateFile(path: string, prefix: string): string | URL;
  instantiateWasm(imports: WebAssembly.Imports & { env: WebAssembly.ModuleImports }, receive: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void): object;
  onAbort(reason: unknown): void;
}

/** The pthread worker's script (shipped by tfjs as a string) as an ES module with what it expects of CommonJS. */
function workerUrl(script: string): URL {
  const { wasmWorkerContents } = require(`${BUILD}.worker.js`) as { wasmWorkerContents: string };
  const source = [
    "import { createRequire } from 'node:module';",
    `globalThis.require = createRequire(${JSON.stringify(script)});`,
    `globalThis.__filename = ${JSON.stringify(script)};`,
    // The string came from a template literal, which turned its "\n" escapes into line breaks.
    wasmWorkerContents.replace(/\n/g, '\\n'),
  ].join('\n');
  return new URL(`data:text/javascript,${encodeURIComponent(source)}`);
}

async function startModule(threads: number): Promise<ThreadedModule> {
  const script = require.resolve(`${BUILD}.js`);
  const factory = require(script) as (config: FactoryConfig) => Promise<ThreadedModule>;
  let fail: (error: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => (fail = reject));
  // emscripten uses this object as its Module, so PThread appears on it while the module starts.
  const config: FactoryConfig = {
    mainScriptUrlOrBlob: script,
    locateFile: (path, prefix) => (path.endsWith('.worker.js') ? workerUrl(script) : path.endsWith('.wasm') ? script.replace(/\.js$/, '.wasm') : prefix + path),
    instantiateWasm: (imports, receive) => {
      imports.env.emscripten_num_logical_cores = () => 2 * threads;
      WebAssembly.instantiate(readFileSync(script.replace(/\.js$/, '.wasm')), imports).then(
        ({ instance, module }) => receive(instance, module),
        (error: Error) => fail(error),
      );
      return {};
    },
    onAbort: (reason) => fail(new Error(`the threaded wasm module aborted: ${String(reason)}`)),
  };
  const timer = setTimeout(() => fail(new Error(`the threaded wasm module did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
  try {
    return await Promise.race([factory(config), failed]);
  } catch (error) {
    config.PThread?.terminateAllThreads();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** Re-takes the heap view whenever the shared memory grew (possibly from a worker thread). */
function keepHeapViewCurrent(module: ThreadedModule): void {
  let view = module.HEAPU8;
  Object.defineProperty(module, 'HEAPU8', {
    get: () => (view.buffer === module.wasmMemory.buffer ? view : (view = new Uint8Array(module.wasmMemory.buffer))),
    set: (next: Uint8Array) => (view = next),
  });
}

/** A wasm backend whose XNNPACK operators run on `threads` threads (the calling one included). */
export async function createThreadedWasmBackend(threads: number): Promise<BackendWasm> {
  if (!Number.isInteger(threads) || threads < 2 || threads > MAX_WASM_THREADS) {
    throw new RangeError(`"threads" must be an integer from 2 to ${MAX_WASM_THREADS} for the threaded wasm build; got ${threads}.`);
  }
  // Imported here, not at the top: importing the package registers the wasm backend, which would then
  // be tfjs' default even where another backend was chosen.
  const { BackendWasm } = await import('@tensorflow/tfjs-backend-wasm');
  const module = await startModule(threads);
  const cwrap = module.cwrap;
  // The same bridge tfjs' own init() builds.
  module.tfjs = {
    init: cwrap('init', null, []),
    initWithThreadsCount: cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: cwrap('get_threads_count', 'number', []),
    registerTensor: cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: cwrap('dispose_data', null, ['number']),
    dispose: cwrap('dispose', null, []),
  };
  keepHeapViewCurrent(module);
  // Its constructor creates XNNPACK's pool: with no count set, as many threads as the cores reported above.
  const backend = new BackendWasm(module as unknown as ConstructorParameters<typeof BackendWasm>[0]);
  for (const worker of module.PThread?.runningWorkers ?? []) worker.unref();
  // emscripten starts 8 workers up front; the pool took what it needs, and each idle one holds a V8
  // isolate (about 15 MiB). Should a thread start later, emscripten starts a worker for it.
  if (module.PThread) for (const worker of module.PThread.unusedWorkers.splice(0)) void worker.terminate();
  const started = module.tfjs.getThreadsCount();
  if (started !== threads) {
    backend.dispose();
    throw new Error(`the threaded wasm module started ${started} threads instead of ${threads}`);
  }
  return backend;
}
