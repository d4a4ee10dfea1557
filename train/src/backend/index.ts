// Chooses the TensorFlow.js backend at run time: native TensorFlow with CUDA, native TensorFlow on CPU,
// WebAssembly, or pure JavaScript. The native packages are optional dependencies (their install downloads
// libtensorflow, which fails offline), so each is probed and every skip is explained.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { tf } from './tf.js';
import { registerWasmTrainingKernels } from './wasm-kernels.js';
import { createThreadedWasmBackend, MAX_WASM_THREADS } from './wasm-threads.js';

export const BACKEND_NAMES = ['auto', 'node-gpu', 'node', 'wasm', 'cpu'] as const;
export type BackendRequest = (typeof BACKEND_NAMES)[number];
export type BackendName = Exclude<BackendRequest, 'auto'>;

/** Which backend runs, and why each one tried before it did not. */
export interface BackendReport {
  /** The backend that runs. */
  name: BackendName;
  /** tfjs' own name for it (tensorflow, wasm, cpu). */
  tfjsName: string;
  /** Backends tried first and skipped, each with a reason a user can act on. */
  skipped: { name: BackendName; reason: string }[];
  /** wasm only: threads its XNNPACK kernels run on. */
  threads?: number;
  /** wasm only: why it runs on fewer threads than requested. */
  threadsNote?: string;
}

export interface BackendOptions {
  /**
   * Threads for the wasm backend's XNNPACK kernels (the first wasm start in a process decides). 1 runs
   * tfjs' single-threaded SIMD build; more run its multithreaded build. Results do not depend on it.
   * Default: the machine's cores, at most 8.
   */
  threads?: number;
}

/** The default of BackendOptions.threads. */
export function defaultWasmThreads(): number {
  return Math.min(availableParallelism(), MAX_WASM_THREADS);
}

/** Raised when an explicitly requested backend cannot run. */
export class BackendUnavailableError extends Error {
  override name = 'BackendUnavailableError';
}

const NATIVE_HINT = 'they need network access at install time to download libtensorflow';

function explainNativeLoadError(pkg: string, error: unknown): string {
  const message = String((error as Error)?.message ?? error);
  if ((error as { code?: string })?.code === 'ERR_MODULE_NOT_FOUND' && message.includes(`'${pkg}'`)) {
    return `${pkg} is not installed (npm install ${pkg}; ${NATIVE_HINT})`;
  }
  const lib = /(lib[\w.-]+\.so(?:\.[\d.]+)?)/.exec(message)?.[1];
  if (lib?.startsWith('libcudart') || lib?.startsWith('libcublas') || lib?.startsWith('libcufft')) {
    return `${lib} not found: tfjs-node-gpu 4.x needs CUDA 11.2 (and cuDNN 8.1) on LD_LIBRARY_PATH`;
  }
  if (lib?.startsWith('libcudnn')) return `${lib} not found: tfjs-node-gpu 4.x needs cuDNN 8.1 on LD_LIBRARY_PATH`;
  if (lib?.startsWith('libtensorflow')) {
    return `${pkg} is installed but ${lib} is missing (its install could not download libtensorflow: run "npm rebuild ${pkg}" with network access)`;
  }
  if (message.includes('tfjs_binding.node')) {
    return `${pkg} is installed but its native addon was not built (run "npm rebuild ${pkg}" with network access)`;
  }
  return `${pkg} failed to load: ${message.split('\n')[0]}`;
}

/** A CUDA device is usable when the NVIDIA driver is loaded and nvidia-smi lists a GPU. */
function cudaDeviceReason(): string | undefined {
  if (!existsSync('/proc/driver/nvidia/version')) return 'no NVIDIA driver is loaded (/proc/driver/nvidia/version is missing)';
  try {
    const list = execFileSync('nvidia-smi', ['-L'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });
    return /GPU \d+/.test(list) ? undefined : 'nvidia-smi lists no GPU';
  } catch {
    return 'nvidia-smi could not run, so no CUDA device can be confirmed';
  }
}

async function importOptional(pkg: string): Promise<void> {
  // A variable specifier: the package is optional and may be absent when this is compiled.
  await import(pkg);
}

async function tryNative(name: 'node-gpu' | 'node'): Promise<string | undefined> {
  const pkg = name === 'node-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
  if (name === 'node-gpu') {
    const noDevice = cudaDeviceReason();
    if (noDevice) return noDevice;
  }
  try {
    await importOptional(pkg);
  } catch (error) {
    return explainNativeLoadError(pkg, error);
  }
  return (await tf.setBackend('tensorflow')) ? undefined : `${pkg} loaded but the "tensorflow" backend did not initialize`;
}

/** The wasm build is chosen once per process: replacing an initialized backend would drop its tensors. */
let wasmConfigured = false;
let wasmThreads = 1;
let wasmThreadsNote: string | undefined;

/** Registers tfjs' multithreaded wasm build in place of its single-threaded one, falling back on failure. */
function useThreadedWasm(threads: number): void {
  const stock = tf.findBackendFactory('wasm');
  const priority = 2; // tfjs-backend-wasm's own
  tf.removeBackend('wasm');
  tf.registerBackend('wasm', async () => {
    try {
      return await createThreadedWasmBackend(threads);
    } catch (error) {
      wasmThreadsNote = `1 thread instead of ${threads}: ${(error as Error).message}`;
      return stock();
    }
  }, priority);
}

async function tryWasm(threads: number): Promise<string | undefined> {
  let wasm: typeof import('@tensorflow/tfjs-backend-wasm');
  try {
    wasm = await import('@tensorflow/tfjs-backend-wasm');
  } catch (error) {
    return `@tensorflow/tfjs-backend-wasm failed to load: ${(error as Error).message}`;
  }
  registerWasmTrainingKernels();
  if (!wasmConfigured) {
    // A wasm backend someone already started (tf.setBackend('wasm')) keeps running, with its tensors.
    if (threads > 1 && tf.engine().registry.wasm === undefined) useThreadedWasm(threads);
    wasmConfigured = true;
  }
  if (!(await tf.setBackend('wasm'))) return 'the wasm backend did not initialize (see the warning above)';
  wasmThreads = wasm.getThreadsCount();
  return undefined;
}

async function tryBackend(name: BackendName, options: BackendOptions): Promise<string | undefined> {
  if (name === 'node-gpu' || name === 'node') return tryNative(name);
  if (name === 'wasm') return tryWasm(options.threads ?? defaultWasmThreads());
  return (await tf.setBackend('cpu')) ? undefined : 'the cpu backend did not initialize';
}

/**
 * Selects and initializes a backend. 'auto' tries node-gpu, node, wasm, cpu in that order; an explicit
 * name throws BackendUnavailableError with the reason when it cannot run.
 */
export async function chooseBackend(request: BackendRequest = 'auto', options: BackendOptions = {}): Promise<BackendReport> {
  if (!BACKEND_NAMES.includes(request)) {
    throw new RangeError(`Unsupported backend "${String(request)}". Expected one of: ${BACKEND_NAMES.join(', ')}.`);
  }
  const { threads } = options;
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1 && threads <= MAX_WASM_THREADS)) {
    throw new RangeError(`"threads" must be an integer from 1 to ${MAX_WASM_THREADS}; got ${threads}.`);
  }
  const order: BackendName[] = request === 'auto' ? ['node-gpu', 'node', 'wasm', 'cpu'] : [request];
  const skipped: BackendReport['skipped'] = [];
  for (const name of order) {
    const reason = await tryBackend(name, options);
    if (reason === undefined) {
      await tf.ready();
      const report: BackendReport = { name, tfjsName: tf.getBackend(), skipped };
      if (name === 'wasm') Object.assign(report, { threads: wasmThreads }, wasmThreadsNote ? { threadsNote: wasmThreadsNote } : {});
      return report;
    }
    if (request !== 'auto') throw new BackendUnavailableError(`Backend "${name}" cannot run: ${reason}.`);
    skipped.push({ name, reason });
  }
  throw new BackendUnavailableError(`No TensorFlow.js backend could run: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}.`);
}

/** One line per backend for the console: which runs and why the others were skipped. */
export function describeBackend(report: BackendReport): string[] {
  const threads = report.threads === undefined ? '' : `, ${report.threads} thread${report.threads === 1 ? '' : 's'}`;
  return [
    `backend: ${report.name} (tfjs "${report.tfjsName}"${threads})`,
    ...(report.threadsNote ? [`  wasm threads: ${report.threadsNote}`] : []),
    ...report.skipped.map((s) => `  skipped ${s.name}: ${s.reason}`),
  ];
}

/** Size of the wasm backend's heap in bytes (it only grows: its peak), or undefined on another backend. */
export function wasmHeapBytes(): number | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  const backend = tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } };
  return backend.wasm.HEAPU8.buffer.byteLength;
}
