// The browser platform: onnxruntime-web sessions (WebGPU when an adapter is available, else wasm) and
// decoding with createImageBitmap. The only place the runtime imports onnxruntime-web.
import type * as Ort from 'onnxruntime-web';
import protobuf from 'protobufjs/minimal.js';
import type { Platform, SessionLike } from '../classifier.js';
import { ImageDecodeError } from '../errors.js';
import { checkProviders, openFirstUsable } from '../providers.js';
import type { DecodedPixels } from '../preprocess.js';

export const WEB_PROVIDERS = ['webgpu', 'wasm'] as const;
export type WebProvider = (typeof WEB_PROVIDERS)[number];
type OrtModule = typeof Ort;

/**
 * The onnxruntime-web build each provider loads, imported on first use so that a page downloads one:
 * the wasm-only build (a 14 MB .wasm) unless the model runs on WebGPU, the WebGPU build (WebGPU and
 * wasm, a 28 MB .wasm) only then.
 */
const ORT_BUILDS: Record<WebProvider, () => Promise<OrtModule>> = {
  wasm: () => import('onnxruntime-web/wasm'),
  webgpu: () => import('onnxruntime-web'),
};
const ortBuilds = new Map<WebProvider, Promise<OrtModule>>();

/** Imports the onnxruntime-web build `provider` runs on (once); call it early to fetch it in parallel with the model. */
export function preloadWebRuntime(provider: WebProvider): Promise<OrtModule> {
  let build = ortBuilds.get(provider);
  if (!build) {
    build = ORT_BUILDS[provider]();
    ortBuilds.set(provider, build);
    build.catch(() => ortBuilds.delete(provider));
  }
  return build;
}

export interface WebPlatformOptions {
  /** 'auto' (WebGPU when usable, else wasm) or an ordered list. Default 'auto'. */
  executionProviders?: 'auto' | WebProvider[];
  /** wasm threads (needs a cross-origin isolated page); default: onnxruntime-web's choice. */
  threads?: number;
  /** Where onnxruntime-web's .wasm/.mjs files are served from (a URL prefix or per-file map). Default: beside onnxruntime-web's module, never a CDN. */
  wasmPaths?: string | Record<string, string>;
  /** Largest decoded image in pixels. Default 100 MP. */
  maxPixels?: number;
  /** Largest encoded input in bytes. Default 64 MiB. */
  maxBytes?: number;
  /**
   * The .wasm binary of the build a provider loads, already on its way (fetched in parallel with the
   * model); used instead of fetching it from wasmPaths.
   */
  wasmBinaries?: Partial<Record<WebProvider, Promise<ArrayBuffer | Uint8Array>>>;
}

/** Input accepted in browsers: a URL, encoded bytes, a Blob/File, or anything createImageBitmap takes. */
export type WebImageInput = string | Uint8Array | ArrayBuffer | Blob | ImageBitmap | ImageData | HTMLImageElement | HTMLCanvasElement | OffscreenCanvas;

interface GpuNavigator {
  gpu?: { requestAdapter(): Promise<{ features?: { has(name: string): boolean } } | null> };
}

const FLOAT16 = 10;

/** Whether the model stores float16 weights (pets-export --fp16): ModelProto.graph (7) -> initializer (5) -> data_type (2). */
function hasFloat16Weights(bytes: Uint8Array): boolean {
  const reader = protobuf.Reader.create(bytes);
  const fields = (end: number, visit: (field: number, wireType: number) => boolean): boolean => {
    while (reader.pos < end) {
      const tag = reader.uint32();
      if (visit(tag >>> 3, tag & 7)) return true;
    }
    return false;
  };
  const inside = (field: number, visit: (end: number) => boolean) => (f: number, wireType: number): boolean => {
    if (f !== field || wireType !== 2) {
      reader.skipType(wireType);
      return false;
    }
    const end = reader.uint32() + reader.pos;
    return visit(end);
  };
  const isFloat16 = (f: number, wireType: number): boolean => {
    if (f === 2 && wireType === 0) return reader.int32() === FLOAT16;
    reader.skipType(wireType);
    return false;
  };
  return fields(bytes.length, inside(7, (graphEnd) => fields(graphEnd, inside(5, (tensorEnd) => fields(tensorEnd, isFloat16)))));
}

/** Why WebGPU cannot run a model here (float16: whether the model stores float16 weights), or undefined when it can. */
export async function webgpuUnavailableReason(float16: boolean): Promise<string | undefined> {
  const nav = (globalThis as { navigator?: GpuNavigator }).navigator;
  if (!nav?.gpu) return 'WebGPU is not available here (navigator.gpu is missing: an older browser, an insecure page, or Node)';
  try {
    const adapter = await nav.gpu.requestAdapter();
    if (!adapter) return 'WebGPU has no adapter on this device (requestAdapter() returned null)';
    // Without shader-f16, onnxruntime-web's float16 shaders fail to compile and runs return zeros, silently.
    if (!adapter.features?.has('shader-f16') && float16) return 'WebGPU has no "shader-f16" feature on this device, which this float16 model needs';
    return undefined;
  } catch (error) {
    return `WebGPU adapter request failed: ${(error as Error).message}`;
  }
}

/**
 * The provider createClassifier() opens first with these options on a model with (float16) or without
 * float16 weights, unless it then fails: the build to preload before the model is here.
 */
export async function likelyWebProvider(executionProviders: WebPlatformOptions['executionProviders'], float16: boolean): Promise<WebProvider> {
  const requested = checkProviders(executionProviders, WEB_PROVIDERS);
  if (requested !== 'auto') return requested[0];
  return (await webgpuUnavailableReason(float16)) === undefined ? 'webgpu' : 'wasm';
}

/** The build for `provider`, set up with the options (each build has its own env). */
async function ortFor(provider: WebProvider, options: WebPlatformOptions): Promise<OrtModule> {
  const ort = await preloadWebRuntime(provider);
  if (options.wasmPaths !== undefined) ort.env.wasm.wasmPaths = options.wasmPaths;
  if (options.threads !== undefined) ort.env.wasm.numThreads = options.threads;
  const binary = options.wasmBinaries?.[provider];
  if (binary) ort.env.wasm.wasmBinary = await binary;
  return ort;
}

function createSession(bytes: Uint8Array, options: WebPlatformOptions, probe: (session: SessionLike) => Promise<void>, opened: (ort: OrtModule) => void) {
  return openFirstUsable<WebProvider>({
    requested: checkProviders(options.executionProviders, WEB_PROVIDERS),
    autoOrder: ['webgpu', 'wasm'],
    unavailable: (provider) => (provider === 'webgpu' ? webgpuUnavailableReason(hasFloat16Weights(bytes)) : undefined),
    open: async (provider) => {
      const ort = await ortFor(provider, options);
      opened(ort);
      return (await ort.InferenceSession.create(bytes, { executionProviders: [provider] })) as unknown as SessionLike;
    },
    probe,
  });
}

async function toBlob(input: string | Uint8Array | ArrayBuffer | Blob, name: string): Promise<Blob> {
  if (input instanceof Blob) return input;
  if (typeof input !== 'string') return new Blob([input instanceof Uint8Array ? input.slice() : input]);
  const response = await fetch(input).catch((error: Error) => {
    throw new ImageDecodeError(name, `cannot fetch it: ${error.message}`);
  });
  if (!response.ok) throw new ImageDecodeError(name, `fetching it returned HTTP ${response.status}`);
  return response.blob();
}

/** Pixels as the browser decodes them: no colour-space conversion, no premultiplied alpha, EXIF applied. */
async function decodeInBrowser(input: WebImageInput, name: string, maxBytes: number, maxPixels: number): Promise<DecodedPixels> {
  if (typeof ImageData !== 'undefined' && input instanceof ImageData) return { data: input.data, width: input.width, height: input.height, channels: 4 };
  if (typeof createImageBitmap !== 'function') {
    throw new ImageDecodeError(name, 'this environment cannot decode images (no createImageBitmap); pass decoded pixels { data, width, height, channels }');
  }
  let source: ImageBitmapSource = input as ImageBitmapSource;
  if (typeof input === 'string' || input instanceof Uint8Array || input instanceof ArrayBuffer || input instanceof Blob) {
    const blob = await toBlob(input, name);
    if (blob.size === 0) throw new ImageDecodeError(name, 'the input is empty');
    if (blob.size > maxBytes) throw new ImageDecodeError(name, `the input is ${blob.size} bytes; the limit is ${maxBytes} (maxBytes)`);
    source = blob;
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(source, { colorSpaceConversion: 'none', premultiplyAlpha: 'none', imageOrientation: 'from-image' });
  } catch (error) {
    throw new ImageDecodeError(name, `the browser cannot decode it (${(error as Error).message})`, { cause: error });
  }
  const { width, height } = bitmap;
  if (width * height > maxPixels) {
    bitmap.close();
    throw new ImageDecodeError(name, `${width}x${height} exceeds the ${maxPixels}-pixel limit (maxPixels)`);
  }
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) throw new ImageDecodeError(name, 'no 2D canvas context is available');
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  const { data } = context.getImageData(0, 0, width, height, { colorSpace: 'srgb' });
  return { data, width, height, channels: 4 };
}

export function webPlatform(options: WebPlatformOptions = {}): Platform<WebImageInput> {
  checkProviders(options.executionProviders, WEB_PROVIDERS);
  const maxBytes = options.maxBytes ?? 64 * 2 ** 20;
  const maxPixels = options.maxPixels ?? 100_000_000;
  for (const [key, value] of Object.entries({ maxBytes, maxPixels, threads: options.threads ?? 1 })) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`"${key}" must be a positive integer; got ${String(value)}.`);
  }
  // Tensors come from the build whose session runs them.
  let ort: OrtModule | undefined;
  return {
    async loadModel(model) {
      if (model instanceof Uint8Array) return model;
      if (model instanceof ArrayBuffer) return new Uint8Array(model);
      if (typeof model !== 'string') throw new TypeError('"model" must be a URL, a Uint8Array or an ArrayBuffer.');
      const response = await fetch(model);
      if (!response.ok) throw new TypeError(`Cannot fetch the model ${model}: HTTP ${response.status}.`);
      return new Uint8Array(await response.arrayBuffer());
    },
    createSession: (bytes, probe) => createSession(bytes, options, probe, (build) => (ort = build)),
    decode: (input, name) => decodeInBrowser(input, name, maxBytes, maxPixels),
    tensor: (data, dims) => {
      if (!ort) throw new Error('No onnxruntime-web build is loaded yet: open a session first.');
      return new ort.Tensor('float32', data, dims);
    },
  };
}
