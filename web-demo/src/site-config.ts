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
  /** onnxruntime-web's files, relative to the page, as its env.wasm.wasmPaths per-file map ({ wasm }). */
  ortFiles: Record<string, string>;
  /** Sample photos: their URL and the breed they show. */
  samples: { url: string; label: string }[];
}
