// What the build tells the page (config.json beside index.html): the model, onnxruntime-web's files and
// the sample photos, as URLs relative to the page. Shared by the build script and the page.

export const SITE_CONFIG_FILE = 'config.json';

export interface SiteConfig {
  model: {
    /** The .onnx file, relative to the page. */
    url: string;
    /** Its size, for the progress bar when the server sends no Content-Length (e.g. compressed). */
    bytes: number;
    /** Weight precision: 'fp16' for a model exported with --fp16. */
    precision: 'fp16' | 'fp32';
  };
  /** The .wasm file of the onnxruntime-web build each provider loads, relative to the page (beside the build's module). */
  ortFiles: { wasm: string; webgpu: string };
  /** Fetch the runtime's .wasm in parallel with the model (else onnxruntime-web fetches it after). */
  prefetch: boolean;
  /** The service worker to register (relative to the page), or null for none. */
  serviceWorker: string | null;
  /** Sample photos: their URL and the breed they show. */
  samples: { url: string; label: string }[];
}
