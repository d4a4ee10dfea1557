// The Node platform: onnxruntime-node sessions (CUDA when usable, else CPU) and sharp decoding.
// With node-decode.ts, the only place the runtime imports onnxruntime-node or sharp.
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { arch, platform as osPlatform } from 'node:os';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Platform, SessionLike } from '../classifier.js';
import { ImageDecodeError } from '../errors.js';
import { checkProviders, openFirstUsable } from '../providers.js';
import { decodeImage, DEFAULT_MAX_PIXELS } from './node-decode.js';

export const NODE_PROVIDERS = ['cuda', 'cpu'] as const;
export type NodeProvider = (typeof NODE_PROVIDERS)[number];

/** Default limit on an encoded input's size: 64 MiB. */
export const DEFAULT_MAX_BYTES = 64 * 2 ** 20;


export interface NodePlatformOptions {
  /** 'auto' (CUDA when usable, else CPU) or an ordered list. Default 'auto'. */
  executionProviders?: 'auto' | NodeProvider[];
  /** Intra-op threads of the session; default: onnxruntime's choice (one per core). */
  threads?: number;
  /**
   * Let the session's idle threads spin-wait for the next run (onnxruntime's default). Default false:
   * after a run they would spin for tens of milliseconds on the cores that decode the next images
   * (`npm run bench` compares classify() with and without it: docs/benchmarks.md).
   */
  spinning?: boolean;
  /** Largest decoded image in pixels. Default 100 MP. */
  maxPixels?: number;
  /** Largest encoded input in bytes. Default 64 MiB. */
  maxBytes?: number;
}

const CUDA_HINT = 'onnxruntime-node 1.30 needs CUDA 12 and cuDNN 9';

/** Why the CUDA execution provider cannot load here, or undefined when it may. */
export function cudaUnavailableReason(): string | undefined {
  const require = createRequire(import.meta.url);
  const binDir = join(dirname(require.resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', osPlatform(), arch());
  if (!existsSync(join(binDir, 'libonnxruntime_providers_cuda.so'))) {
    return `CUDA EP not installed: onnxruntime-node downloads it at install time, which this install skipped; run "ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node" (${CUDA_HINT})`;
  }
  if (!existsSync('/proc/driver/nvidia/version')) return 'no NVIDIA driver is loaded (/proc/driver/nvidia/version is missing)';
  return undefined;
}

function createSession(bytes: Uint8Array, options: NodePlatformOptions, probe: (session: SessionLike) => Promise<void>) {
  return openFirstUsable<NodeProvider>({
    requested: checkProviders(options.executionProviders, NODE_PROVIDERS),
    autoOrder: ['cuda', 'cpu'],
    unavailable: (provider) => (provider === 'cuda' ? cudaUnavailableReason() : undefined),
    open: async (provider) =>
      (await ort.InferenceSession.create(bytes, {
        executionProviders: [provider],
        ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
        ...(options.spinning ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
      })) as unknown as SessionLike,
    probe,
    hint: (provider) => (provider === 'cuda' ? ` (${CUDA_HINT})` : ''),
  });
}

/** Input accepted in Node: a file path, or the bytes of an encoded image. */
export type NodeImageInput = string | Uint8Array | ArrayBuffer;

export function nodePlatform(options: NodePlatformOptions = {}): Platform<NodeImageInput> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (!Number.isInteger(maxBytes) || maxBytes < 1) throw new RangeError(`"maxBytes" must be a positive integer; got ${String(options.maxBytes)}.`);
  if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 1)) {
    throw new RangeError(`"threads" must be a positive integer; got ${String(options.threads)}.`);
  }
  if (options.spinning !== undefined && typeof options.spinning !== 'boolean') {
    throw new RangeError(`"spinning" must be true or false; got ${String(options.spinning)}.`);
  }
  checkProviders(options.executionProviders, NODE_PROVIDERS);
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  return {
    async loadModel(model) {
      if (typeof model === 'string') return new Uint8Array(await readFile(model));
      if (model instanceof Uint8Array) return model;
      if (model instanceof ArrayBuffer) return new Uint8Array(model);
      throw new TypeError('"model" must be a path, a Uint8Array or an ArrayBuffer.');
    },
    createSession: (bytes, probe) => createSession(bytes, options, probe),
    async decode(input, name) {
      if (typeof input === 'string') {
        const size = await stat(input).then((s) => s.size, () => -1);
        if (size > maxBytes) throw new ImageDecodeError(name, `the file is ${size} bytes; the limit is ${maxBytes} (maxBytes)`);
        // sharp would call it "unsupported image format"; the browser entry says the input is empty.
        if (size === 0) throw new ImageDecodeError(name, 'the file is empty');
        return decodeImage(input, { maxPixels });
      }
      const bytes = input instanceof ArrayBuffer ? new Uint8Array(input) : input;
      if (!(bytes instanceof Uint8Array)) {
        throw new ImageDecodeError(name, 'expected a file path, encoded image bytes (Uint8Array, Buffer, ArrayBuffer) or decoded pixels');
      }
      if (bytes.byteLength > maxBytes) throw new ImageDecodeError(name, `the input is ${bytes.byteLength} bytes; the limit is ${maxBytes} (maxBytes)`);
      return decodeImage(bytes, { maxPixels, name });
    },
    tensor: (data, dims) => new ort.Tensor('float32', data, dims),
  };
}
