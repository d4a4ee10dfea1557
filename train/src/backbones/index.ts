// Public surface of the backbones module: pretrained models that pets-train trains on top of.
export { KNOWN_BACKBONES, NORMALIZATIONS, NORMALIZATION_NAMES, parseNormalization, normalizationName, findKnownBackbone } from './known.js';
export type { KnownBackbone, Normalization, NormalizationName } from './known.js';
export { defaultCacheDir, bundledBackbonesDir } from './paths.js';
export { resolveBackbone } from './resolve.js';
export type { ResolveOptions, ResolvedBackbone, DownloadProgress } from './resolve.js';
export { loadBackbone } from './load.js';
export type { LoadBackboneOptions } from './load.js';
export { bundleDigest, inspectBundle } from './manifest.js';
export type { InspectedBundle } from './manifest.js';
export { BackboneError } from './errors.js';
