// Folding an inference-mode BatchNormalization into the convolution before it:
//   bn(conv(x)) = gamma * (W*x + b - mean) / sqrt(var + eps) + beta = (s*W)*x + (s*(b - mean) + beta),
// with s = gamma / sqrt(var + eps) per output channel. One Conv instead of Conv + BatchNormalization,
// computed in float64 and rounded once to float32.

/** What tfjs' BatchNormalization holds (gamma/beta default to 1/0 when scale/center is off). */
export interface BatchNormParams {
  gamma: Float32Array;
  beta: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  epsilon: number;
}

/**
 * Folds `bn` into an ONNX Conv weight [outC, inC, kh, kw] and bias [outC]; returns new arrays.
 * `bias` may be absent (a Conv2D with useBias false).
 */
export function foldBatchNorm(weight: Float32Array, bias: Float32Array | undefined, bn: BatchNormParams): { weight: Float32Array; bias: Float32Array } {
  const channels = bn.mean.length;
  if (weight.length % channels !== 0) throw new Error(`Internal error: a ${weight.length}-weight conv cannot fold ${channels} channels`);
  const perChannel = weight.length / channels;
  const folded = new Float32Array(weight.length);
  const foldedBias = new Float32Array(channels);
  for (let o = 0; o < channels; o++) {
    const scale = bn.gamma[o] / Math.sqrt(bn.variance[o] + bn.epsilon);
    for (let k = o * perChannel; k < (o + 1) * perChannel; k++) folded[k] = weight[k] * scale;
    foldedBias[o] = ((bias ? bias[o] : 0) - bn.mean[o]) * scale + bn.beta[o];
  }
  return { weight: folded, bias: foldedBias };
}
