// The arithmetic of ONNX QuantizeLinear/DequantizeLinear and the parameters pets-export --dtype int8 picks:
// activations uint8 asymmetric per tensor (zero exactly representable), weights int8 symmetric per output
// channel (zero point 0), biases int32 at the scale input × weight so the integer kernels add them exactly.
// QuantizeLinear's spec: y = saturate(round(x / scale) + zero_point), rounding half to even.

export interface QuantParams {
  scale: number;
  zeroPoint: number;
}

export const UINT8 = { min: 0, max: 255 } as const;
/** int8 weights use -127..127 so that the range is symmetric (−128 would have no positive partner). */
export const INT8_SYMMETRIC = { min: -127, max: 127 } as const;
export const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 } as const;

/** Round half to even, as QuantizeLinear specifies. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  // Math.round rounds .5 up; at an exact tie with an odd result step back to the even neighbour.
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function quantizeValue(x: number, p: QuantParams, range: { min: number; max: number }): number {
  const q = roundHalfEven(x / p.scale) + p.zeroPoint;
  return Math.min(range.max, Math.max(range.min, q));
}

export function dequantizeValue(q: number, p: QuantParams): number {
  return (q - p.zeroPoint) * p.scale;
}

/**
 * uint8 parameters for values observed in [lo, hi]: the range is widened to include 0 (so that zero
 * padding and ReLU's zeros are exact) and the zero point is the integer that maps to 0.
 */
export function activationParams(lo: number, hi: number): QuantParams {
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || lo > hi) throw new RangeError(`Activation range [${lo}, ${hi}] is not a finite interval.`);
  const min = Math.min(lo, 0);
  const max = Math.max(hi, 0);
  // A tensor that is all zeros still needs a positive scale.
  const scale = max > min ? (max - min) / (UINT8.max - UINT8.min) : 1;
  const zeroPoint = Math.min(UINT8.max, Math.max(UINT8.min, roundHalfEven(UINT8.min - min / scale)));
  return { scale, zeroPoint };
}

export interface PerChannelWeights {
  /** int8 values, same layout as the float weights. */
  q: Int8Array;
  /** One scale per channel along `axis`. */
  scales: Float32Array;
}

/**
 * Symmetric int8 per-channel quantization of `w` (dims `dims`) along `axis`: scale_c = max|w_c| / 127,
 * zero point 0. A channel of zeros gets scale 1 (any positive scale represents it exactly).
 */
export function quantizeWeightsPerChannel(w: Float32Array, dims: readonly number[], axis: number): PerChannelWeights {
  if (axis < 0 || axis >= dims.length) throw new RangeError(`"axis" must be in 0..${dims.length - 1}; got ${axis}.`);
  const channels = dims[axis];
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const channelOf = (i: number) => Math.floor(i / inner) % channels;
  const maxAbs = new Float32Array(channels);
  for (let i = 0; i < w.length; i++) maxAbs[channelOf(i)] = Math.max(maxAbs[channelOf(i)], Math.abs(w[i]));
  const scales = Float32Array.from(maxAbs, (m) => (m > 0 ? m / INT8_SYMMETRIC.max : 1));
  const q = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) q[i] = quantizeValue(w[i], { scale: scales[channelOf(i)], zeroPoint: 0 }, INT8_SYMMETRIC);
  return { q, scales };
}

/**
 * int32 bias at scale inputScale × weightScale_c (zero point 0), the scale the integer convolution's
 * accumulator has, so the bias is added exactly inside it. Null when a value would not fit in int32.
 */
export function quantizeBias(bias: Float32Array, inputScale: number, weightScales: Float32Array): { q: Int32Array; scales: Float32Array } | null {
  const scales = Float32Array.from(weightScales, (s) => s * inputScale);
  const q = new Int32Array(bias.length);
  for (let c = 0; c < bias.length; c++) {
    const v = roundHalfEven(bias[c] / scales[c]);
    if (v < INT32.min || v > INT32.max) return null;
    q[c] = v;
  }
  return { q, scales };
}
