// Chooses the TensorFlow.js backend at run time: native TensorFlow with CUDA, native TensorFlow on CPU,
// WebAssembly, or pure JavaScript. The native packages are optional dependencies (their install downloads
// libtensorflow, which fails offline), so each is probed and every skip is explained.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tf } from './tf.js';
import { registerWasmTrainingKernels } from './wasm-kernels.js';

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

async function tryWasm(): Promise<string | undefined> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
  } catch (error) {
    return `@tensorflow/tfjs-backend-wasm failed to load: ${(error as Error).message}`;
  }
  registerWasmTrainingKernels();
  return (await tf.setBackend('wasm')) ? undefined : 'the wasm backend did not initialize (see the warning above)';
}

async function tryBackend(name: BackendName): Promise<string | undefined> {
  if (name === 'node-gpu' || name === 'node') return tryNative(name);
  if (name === 'wasm') return tryWasm();
  return (await tf.setBackend('cpu')) ? undefined : 'the cpu backend did not initialize';
}

/**
 * Selects and initializes a backend. 'auto' tries node-gpu, node, wasm, cpu in that order; an explicit
 * name throws BackendUnavailableError with the reason when it cannot run.
 */
export async function chooseBackend(request: BackendRequest = 'auto'): Promise<BackendReport> {
  if (!BACKEND_NAMES.includes(request)) {
    throw new RangeError(`Unsupported backend "${String(request)}". Expected one of: ${BACKEND_NAMES.join(', ')}.`);
  }
  const order: BackendName[] = request === 'auto' ? ['node-gpu', 'node', 'wasm', 'cpu'] : [request];
  const skipped: BackendReport['skipped'] = [];
  for (const name of order) {
    const reason = await tryBackend(name);
    if (reason === undefined) {
      await tf.ready();
      return { name, tfjsName: tf.getBackend(), skipped };
    }
    if (request !== 'auto') throw new BackendUnavailableError(`Backend "${name}" cannot run: ${reason}.`);
    skipped.push({ name, reason });
  }
  throw new BackendUnavailableError(`No TensorFlow.js backend could run: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}.`);
}

/** One line per backend for the console: which runs and why the others were skipped. */
export function describeBackend(report: BackendReport): string[] {
  return [
    `backend: ${report.name} (tfjs "${report.tfjsName}")`,
    ...report.skipped.map((s) => `  skipped ${s.name}: ${s.reason}`),
  ];
}
