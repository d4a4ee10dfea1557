// Parity metrics between tfjs and an exported model on the same inputs.

export interface ParityMetrics {
  images: number;
  /** max |p_onnx - p_tfjs| over all images and classes. */
  maxAbsDiff: number;
  /** mean |p_onnx - p_tfjs| over all images and classes. */
  meanAbsDiff: number;
  /** Max over images of max_j |logit_onnx - logit_tfjs| / max_j |logit_tfjs| (relative to the image's largest logit). */
  maxLogitRelErr: number;
  /** Images whose top-1 class is the same in both. */
  top1Agree: number;
}

function argmax(values: ArrayLike<number>, from: number, length: number): number {
  let best = 0;
  for (let j = 1; j < length; j++) if (values[from + j] > values[from + best]) best = j;
  return best;
}

export function compareOutputs(
  reference: { probabilities: ArrayLike<number>; logits: ArrayLike<number> },
  actual: { probabilities: ArrayLike<number>; logits: ArrayLike<number> },
  images: number,
): ParityMetrics {
  const classes = reference.probabilities.length / images;
  if (actual.probabilities.length !== reference.probabilities.length || actual.logits.length !== reference.logits.length) {
    throw new Error(`Output sizes differ: ${actual.probabilities.length} vs ${reference.probabilities.length} probabilities`);
  }
  let maxAbsDiff = 0;
  let sumAbsDiff = 0;
  let maxLogitRelErr = 0;
  let top1Agree = 0;
  for (let i = 0; i < images; i++) {
    const from = i * classes;
    let maxLogit = 0;
    let maxLogitDiff = 0;
    for (let j = from; j < from + classes; j++) {
      const d = Math.abs(actual.probabilities[j] - reference.probabilities[j]);
      // NaN must fail the check, so compare with !(d <= max) rather than d > max.
      if (!(d <= maxAbsDiff)) maxAbsDiff = d;
      sumAbsDiff += d;
      maxLogit = Math.max(maxLogit, Math.abs(reference.logits[j]));
      const dl = Math.abs(actual.logits[j] - reference.logits[j]);
      if (!(dl <= maxLogitDiff)) maxLogitDiff = dl;
    }
    const rel = maxLogit > 0 ? maxLogitDiff / maxLogit : maxLogitDiff;
    if (!(rel <= maxLogitRelErr)) maxLogitRelErr = rel;
    if (argmax(actual.probabilities, from, classes) === argmax(reference.probabilities, from, classes)) top1Agree++;
  }
  return { images, maxAbsDiff, meanAbsDiff: sumAbsDiff / (images * classes), maxLogitRelErr, top1Agree };
}
