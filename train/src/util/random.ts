// Seeded pseudo-random numbers for shuffling, splits and augmentation. Written here rather than taken
// from a package because it is a dozen lines and must be bit-identical across platforms and versions:
// mulberry32 (Tommy Ettinger's 32-bit generator) seeded through a splitmix32 hash of the inputs.

/** A seeded random source. */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number;
  /** Shuffles `items` in place (Fisher-Yates) and returns it. */
  shuffle<T>(items: T[]): T[];
}

function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Mixes a seed with further integers (epoch, purpose) into one 32-bit seed. */
export function deriveSeed(seed: number, ...parts: number[]): number {
  let h = splitmix32(seed >>> 0);
  for (const part of parts) h = splitmix32(h ^ (part >>> 0));
  return h;
}

export function createRng(seed: number): Rng {
  let state = splitmix32(seed >>> 0);
  const next = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    uniform: (lo, hi) => lo + (hi - lo) * next(),
    shuffle<T>(items: T[]): T[] {
      for (let i = items.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [items[i], items[j]] = [items[j], items[i]];
      }
      return items;
    },
  };
}
