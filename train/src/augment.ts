// Training-time augmentation of model-sized 8-bit RGB images, as the reference study's Keras
// ImageDataGenerator did it: random rotation, zoom, brightness and horizontal flip, one affine resample
// with bilinear interpolation and 'nearest' fill. Pure and seeded, so runs are reproducible.
import type { Rng } from './util/random.js';

/** Ranges augmentation samples from, uniformly. */
export interface AugmentConfig {
  /** Maximum rotation in degrees, either way. */
  rotationDegrees: number;
  /** Zoom factor range is [1 - zoom, 1 + zoom], drawn independently for x and y. */
  zoom: number;
  /** Brightness multiplier range [min, max], applied to 8-bit values and clipped to [0, 255]. */
  brightness: [number, number];
  /** Flip left-right with probability 1/2. */
  horizontalFlip: boolean;
}

/** The reference study's model4/model5 augmentation. */
export const DEFAULT_AUGMENT: AugmentConfig = { rotationDegrees: 10, zoom: 0.1, brightness: [0.7, 1.3], horizontalFlip: true };

/** One draw of the augmentation parameters. */
export interface AugmentParams {
  rotationDegrees: number;
  zoomX: number;
  zoomY: number;
  brightness: number;
  flip: boolean;
}

export const IDENTITY_AUGMENT: AugmentParams = { rotationDegrees: 0, zoomX: 1, zoomY: 1, brightness: 1, flip: false };

export function checkAugmentConfig(config: AugmentConfig): void {
  const { rotationDegrees, zoom, brightness } = config;
  if (!(rotationDegrees >= 0 && rotationDegrees <= 180)) {
    throw new RangeError(`Augmentation "rotationDegrees" must be in [0, 180]; got ${rotationDegrees}.`);
  }
  if (!(zoom >= 0 && zoom < 1)) throw new RangeError(`Augmentation "zoom" must be in [0, 1); got ${zoom}.`);
  if (!(brightness[0] > 0 && brightness[0] <= brightness[1])) {
    throw new RangeError(`Augmentation "brightness" must be [min, max] with 0 < min <= max; got [${brightness.join(', ')}].`);
  }
}

export function sampleAugment(config: AugmentConfig, rng: Rng): AugmentParams {
  return {
    rotationDegrees: rng.uniform(-config.rotationDegrees, config.rotationDegrees),
    zoomX: rng.uniform(1 - config.zoom, 1 + config.zoom),
    zoomY: rng.uniform(1 - config.zoom, 1 + config.zoom),
    brightness: rng.uniform(config.brightness[0], config.brightness[1]),
    flip: config.horizontalFlip && rng.next() < 0.5,
  };
}

/**
 * Applies one augmentation to an 8-bit RGB image of width x height, writing float samples in [0, 255]
 * to `out` (length width * height * 3). Output pixel (x, y) samples the source at
 * center + R(angle) * diag(zoomX, zoomY) * (x' - center), where x' is x mirrored when flipping;
 * a zoom above 1 shows more of the image (zooms out), as in Keras.
 */
export function applyAugment(
  src: Uint8Array,
  width: number,
  height: number,
  params: AugmentParams,
  out: Float32Array = new Float32Array(width * height * 3),
): Float32Array {
  if (src.length !== width * height * 3 || out.length < src.length) {
    throw new RangeError(`applyAugment needs ${width}x${height}x3 samples; got ${src.length} in, ${out.length} out.`);
  }
  const angle = (params.rotationDegrees * Math.PI) / 180;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const { zoomX, zoomY, brightness } = params;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const dx = ((params.flip ? width - 1 - x : x) - cx) * zoomX;
      const dy = (y - cy) * zoomY;
      // Clamping the sample position is Keras' fill_mode='nearest'.
      const sx = Math.min(width - 1, Math.max(0, cx + cos * dx - sin * dy));
      const sy = Math.min(height - 1, Math.max(0, cy + sin * dx + cos * dy));
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const x1 = Math.min(x0 + 1, width - 1);
      const y1 = Math.min(y0 + 1, height - 1);
      const fx = sx - x0;
      const fy = sy - y0;
      const o = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) {
        const top = src[(y0 * width + x0) * 3 + c] * (1 - fx) + src[(y0 * width + x1) * 3 + c] * fx;
        const bottom = src[(y1 * width + x0) * 3 + c] * (1 - fx) + src[(y1 * width + x1) * 3 + c] * fx;
        const value = (top * (1 - fy) + bottom * fy) * brightness;
        out[o + c] = value > 255 ? 255 : value;
      }
    }
  }
  return out;
}
