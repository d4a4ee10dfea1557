// Parity metrics: one provider's outputs against the tfjs original's, image by image, and the verdict
// against tolerances. Pure.

/** Outputs of a model for n images: row-major [n, classes]. */
export interface Outputs {
  probabilities: Float32Array;
  /** Pre-softmax scores; null when a provider cannot give them. */
  logits: Float32Array | null;
}

export interface Tolerance {
  /** Largest allowed |Δp| over all images and classes. */
  maxAbsProbability: number;
  /** Smallest allowed top-1 agreement, over images that are not near-ties. */
  minTop1Agreement: number;
  /** Images whose reference top-2 probabilities differ by less than this are near-ties: listed, not counted. */
  nearTie: number;
}

export interface ImageDiff {
  image: string;
  maxAbsProbability: number;
  logitsRelativeError: number | null;
  referenceTop1: number;
  top1: number;
}

export interface ProviderReport {
  provider: string;
  status: 'pass' | 'fail' | 'skipped';
  /** Why it was skipped, or what failed. */
  reason?: string;
  images: number;
  maxAbsProbability: number;
  meanAbsProbability: number;
  /** max over images of max|Δlogit| / max|logit_reference|. */
  maxLogitsRelativeError: number | null;
  top1Agreement: number;
  top5Agreement: number;
  nearTies: string[];
  worst: ImageDiff[];
  tolerance: Tolerance;
}

function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

function topSet(row: Float32Array, k: number): Set<number> {
  return new Set(Array.from(row.keys()).sort((a, b) => row[b] - row[a] || a - b).slice(0, k));
}

function secondGap(row: Float32Array): number {
  const sorted = Array.from(row).sort((a, b) => b - a);
  return sorted[0] - (sorted[1] ?? 0);
}

/** Compares a provider's outputs with the reference (tfjs) on the same images. */
export function compareOutputs(provider: string, names: string[], reference: Outputs, candidate: Outputs, tolerance: Tolerance): ProviderReport {
  const n = names.length;
  const classes = reference.probabilities.length / n;
  if (candidate.probabilities.length !== reference.probabilities.length) {
    throw new RangeError(`${provider} gave ${candidate.probabilities.length} probabilities; the reference has ${reference.probabilities.length}.`);
  }
  const diffs: ImageDiff[] = [];
  const nearTies: string[] = [];
  let sum = 0;
  let top1Same = 0;
  let top1Counted = 0;
  let top5Same = 0;
  for (let i = 0; i < n; i++) {
    const ref = reference.probabilities.subarray(i * classes, (i + 1) * classes);
    const got = candidate.probabilities.subarray(i * classes, (i + 1) * classes);
    let maxAbs = 0;
    for (let c = 0; c < classes; c++) {
      const d = Math.abs(ref[c] - got[c]);
      sum += d;
      if (!(d <= maxAbs)) maxAbs = d; // NaN propagates as the worst value
    }
    let logitsRelativeError: number | null = null;
    if (reference.logits && candidate.logits) {
      const rl = reference.logits.subarray(i * classes, (i + 1) * classes);
      const cl = candidate.logits.subarray(i * classes, (i + 1) * classes);
      let maxDiff = 0;
      let scale = 0;
      for (let c = 0; c < classes; c++) {
        maxDiff = Math.max(maxDiff, Math.abs(rl[c] - cl[c]));
        scale = Math.max(scale, Math.abs(rl[c]));
      }
      logitsRelativeError = maxDiff / Math.max(scale, 1e-12);
    }
    const referenceTop1 = argmax(ref);
    const top1 = argmax(got);
    if (secondGap(ref) < tolerance.nearTie) nearTies.push(names[i]);
    else {
      top1Counted++;
      if (referenceTop1 === top1) top1Same++;
    }
    const k = Math.min(5, classes);
    const a = topSet(ref, k);
    if ([...topSet(got, k)].every((c) => a.has(c))) top5Same++;
    diffs.push({ image: names[i], maxAbsProbability: maxAbs, logitsRelativeError, referenceTop1, top1 });
  }
  const maxAbsProbability = diffs.reduce((m, d) => (d.maxAbsProbability > m || Number.isNaN(d.maxAbsProbability) ? d.maxAbsProbability : m), 0);
  const logitErrors = diffs.map((d) => d.logitsRelativeError).filter((e): e is number => e !== null);
  const top1Agreement = top1Counted ? top1Same / top1Counted : 1;
  const pass = maxAbsProbability <= tolerance.maxAbsProbability && top1Agreement >= tolerance.minTop1Agreement;
  return {
    provider,
    status: pass ? 'pass' : 'fail',
    reason: pass ? undefined : `max |Δp| ${maxAbsProbability.toExponential(2)} (limit ${tolerance.maxAbsProbability}), top-1 ${(top1Agreement * 100).toFixed(2)}% (limit ${(tolerance.minTop1Agreement * 100).toFixed(0)}%)`,
    images: n,
    maxAbsProbability,
    meanAbsProbability: sum / (n * classes),
    maxLogitsRelativeError: logitErrors.length ? Math.max(...logitErrors) : null,
    top1Agreement,
    top5Agreement: n ? top5Same / n : 1,
    nearTies,
    worst: [...diffs].sort((a, b) => b.maxAbsProbability - a.maxAbsProbability).slice(0, 5),
    tolerance,
  };
}

export function skipped(provider: string, reason: string, tolerance: Tolerance): ProviderReport {
  return { provider, status: 'skipped', reason, images: 0, maxAbsProbability: NaN, meanAbsProbability: NaN, maxLogitsRelativeError: null, top1Agreement: NaN, top5Agreement: NaN, nearTies: [], worst: [], tolerance };
}
