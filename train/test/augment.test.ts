// Augmentation (parameter sampling and the affine resample) and the seeded random source it draws from.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  DEFAULT_AUGMENT,
  IDENTITY_AUGMENT,
  applyAugment,
  checkAugmentConfig,
  sampleAugment,
  type AugmentConfig,
  type AugmentParams,
} from '../src/augment.js';
import { createRng, deriveSeed } from '../src/util/random.js';

/** Pixel values are 8-bit; resampled floats are compared within this. */
const TOLERANCE = 1e-4;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

/** A deterministic width x height RGB image with every value in 0..255 distinct-ish. */
function randomImage(width: number, height: number, seed: number): Uint8Array {
  const rng = createRng(seed);
  return Uint8Array.from({ length: width * height * 3 }, () => rng.int(256));
}

function mirrored(src: Uint8Array, width: number, height: number): Uint8Array {
  const out = new Uint8Array(src.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) out[(y * width + x) * 3 + c] = src[(y * width + (width - 1 - x)) * 3 + c];
    }
  }
  return out;
}

const params = (overrides: Partial<AugmentParams>): AugmentParams => ({ ...IDENTITY_AUGMENT, ...overrides });

describe('sampleAugment', () => {
  const DRAWS = 1000;

  test(`DEFAULT_AUGMENT: ${DRAWS} draws stay within the configured ranges`, () => {
    const rng = createRng(1);
    for (let i = 0; i < DRAWS; i++) {
      const p = sampleAugment(DEFAULT_AUGMENT, rng);
      assert.ok(p.rotationDegrees >= -10 && p.rotationDegrees <= 10, `rotation ${p.rotationDegrees}`);
      assert.ok(p.zoomX >= 0.9 && p.zoomX <= 1.1, `zoomX ${p.zoomX}`);
      assert.ok(p.zoomY >= 0.9 && p.zoomY <= 1.1, `zoomY ${p.zoomY}`);
      assert.ok(p.brightness >= 0.7 && p.brightness <= 1.3, `brightness ${p.brightness}`);
      assert.equal(typeof p.flip, 'boolean');
    }
  });

  test('draws cover the ranges, both signs of rotation, and zoomX independent of zoomY', () => {
    const rng = createRng(2);
    const draws = Array.from({ length: DRAWS }, () => sampleAugment(DEFAULT_AUGMENT, rng));
    const rotations = draws.map((p) => p.rotationDegrees);
    assert.ok(Math.min(...rotations) < -9 && Math.max(...rotations) > 9);
    const brightness = draws.map((p) => p.brightness);
    assert.ok(Math.min(...brightness) < 0.72 && Math.max(...brightness) > 1.28);
    assert.ok(draws.filter((p) => p.zoomX !== p.zoomY).length === DRAWS);
    // Means of uniform draws: 0 for rotation, 1 for brightness, within a few standard errors.
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.ok(Math.abs(mean(rotations)) < 1, `rotation mean ${mean(rotations)}`);
    assert.ok(Math.abs(mean(brightness) - 1) < 0.03, `brightness mean ${mean(brightness)}`);
  });

  test(`flips about half of the time (between 40% and 60% of ${DRAWS})`, () => {
    const rng = createRng(3);
    let flips = 0;
    for (let i = 0; i < DRAWS; i++) if (sampleAugment(DEFAULT_AUGMENT, rng).flip) flips++;
    assert.ok(flips > 0.4 * DRAWS && flips < 0.6 * DRAWS, `${flips} flips`);
  });

  test('never flips when horizontalFlip is false', () => {
    const rng = createRng(4);
    const config: AugmentConfig = { ...DEFAULT_AUGMENT, horizontalFlip: false };
    for (let i = 0; i < DRAWS; i++) assert.equal(sampleAugment(config, rng).flip, false);
  });

  test('a zero-width config always gives the identity', () => {
    const rng = createRng(5);
    const config: AugmentConfig = { rotationDegrees: 0, zoom: 0, brightness: [1, 1], horizontalFlip: false };
    for (let i = 0; i < 20; i++) {
      const p = sampleAugment(config, rng);
      assert.equal(Math.abs(p.rotationDegrees), 0);
      assert.deepEqual({ ...p, rotationDegrees: 0 }, IDENTITY_AUGMENT);
    }
  });

  test('the same seed gives the same draws; another seed different ones', () => {
    const draw = (seed: number) => {
      const rng = createRng(seed);
      return Array.from({ length: 50 }, () => sampleAugment(DEFAULT_AUGMENT, rng));
    };
    assert.deepEqual(draw(9), draw(9));
    assert.notDeepEqual(draw(9), draw(10));
  });
});

describe('applyAugment', () => {
  const W = 9;
  const H = 7;
  const image = randomImage(W, H, 42);

  test(`identity parameters reproduce the image (within ${TOLERANCE})`, () => {
    const out = applyAugment(image, W, H, IDENTITY_AUGMENT);
    assert.equal(out.length, W * H * 3);
    assert.ok(maxAbsDiff(out, image) <= TOLERANCE);
  });

  test('rotation 0 with zoom 1 is the identity, also for a square even-sided image', () => {
    const square = randomImage(8, 8, 43);
    const out = applyAugment(square, 8, 8, params({ rotationDegrees: -0, zoomX: 1, zoomY: 1 }));
    assert.ok(maxAbsDiff(out, square) <= TOLERANCE);
  });

  test('flip only mirrors the image left-right', () => {
    for (const [w, h] of [
      [W, H],
      [8, 6],
    ]) {
      const src = randomImage(w, h, w * 100 + h);
      const out = applyAugment(src, w, h, params({ flip: true }));
      assert.ok(maxAbsDiff(out, mirrored(src, w, h)) <= TOLERANCE, `${w}x${h}`);
    }
  });

  test('brightness only scales every value and clips at 255', () => {
    const src = Uint8Array.from([0, 10, 100, 200, 212, 213, 250, 255, 128, 1, 2, 3]); // 2x2 pixels
    const out = applyAugment(src, 2, 2, params({ brightness: 1.2 }));
    const expected = Array.from(src, (v) => Math.min(255, v * 1.2));
    assert.ok(maxAbsDiff(out, expected) <= TOLERANCE);
    assert.ok(Math.abs(out[3] - 240) <= TOLERANCE);
    assert.ok(Math.abs(out[4] - 254.4) <= TOLERANCE, 'just under the clip');
    assert.equal(out[5], 255, '213 * 1.2 = 255.6 clips');
    assert.equal(out[7], 255);
    const darker = applyAugment(src, 2, 2, params({ brightness: 0.7 }));
    assert.ok(maxAbsDiff(darker, Array.from(src, (v) => v * 0.7)) <= TOLERANCE);
  });

  test('a constant image stays constant under a 10 degree rotation and zoom ("nearest" fill)', () => {
    const src = new Uint8Array(16 * 12 * 3);
    for (let i = 0; i < src.length; i += 3) src.set([37, 140, 251], i);
    for (const p of [
      params({ rotationDegrees: 10 }),
      params({ rotationDegrees: -10, zoomX: 1.1, zoomY: 0.9, flip: true }),
      params({ rotationDegrees: 7.5, zoomX: 1.1, zoomY: 1.1 }),
    ]) {
      const out = applyAugment(src, 16, 12, p);
      assert.ok(maxAbsDiff(out, src) <= TOLERANCE, JSON.stringify(p));
    }
  });

  test('the centre pixel of an odd-sided image is fixed by rotation and zoom', () => {
    const out = applyAugment(image, W, H, params({ rotationDegrees: 9, zoomX: 0.93, zoomY: 1.07 }));
    const centre = ((H - 1) / 2) * W + (W - 1) / 2;
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(out[centre * 3 + c] - image[centre * 3 + c]) <= TOLERANCE);
  });

  test('a rotation moves a non-constant image', () => {
    const out = applyAugment(image, W, H, params({ rotationDegrees: 10 }));
    assert.ok(maxAbsDiff(out, image) > 1);
  });

  test('zoom above 1 shows more of the image: a horizontal ramp gets steeper', () => {
    // Column x holds the value 20 * x in every channel; zooming out by 1.25 samples columns 1.25 apart
    // around the centre, so the ramp in the output is steeper (25 per pixel) away from the clamped edges.
    const w = 9;
    const h = 3;
    const ramp = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) ramp.fill(20 * x, (y * w + x) * 3, (y * w + x) * 3 + 3);
    const out = applyAugment(ramp, w, h, params({ zoomX: 1.25 }));
    const row = (x: number) => out[(1 * w + x) * 3];
    assert.ok(Math.abs(row(4) - 80) <= TOLERANCE, 'centre fixed');
    assert.ok(Math.abs(row(5) - 80 - 25) <= TOLERANCE);
    assert.ok(Math.abs(row(3) - 80 + 25) <= TOLERANCE);
    assert.ok(Math.abs(row(0)) <= TOLERANCE, 'sample left of the image clamps to its first column');
    assert.ok(Math.abs(row(8) - 160) <= TOLERANCE, 'and right of it to its last');
  });

  test('output is always within [0, 255] for random parameters and images', () => {
    const rng = createRng(77);
    const wide: AugmentConfig = { rotationDegrees: 180, zoom: 0.9, brightness: [0.1, 3], horizontalFlip: true };
    const out = new Float32Array(W * H * 3);
    for (let i = 0; i < 200; i++) {
      const src = randomImage(W, H, 1000 + i);
      applyAugment(src, W, H, sampleAugment(i % 2 ? wide : DEFAULT_AUGMENT, rng), out);
      for (const v of out) assert.ok(v >= 0 && v <= 255 && Number.isFinite(v), `value ${v}`);
    }
  });

  test('deterministic for the same rng seed', () => {
    const run = (seed: number) => {
      const rng = createRng(seed);
      return Array.from({ length: 5 }, () => applyAugment(image, W, H, sampleAugment(DEFAULT_AUGMENT, rng)));
    };
    assert.deepEqual(run(123), run(123));
    assert.notDeepEqual(run(123), run(124));
  });

  test('writes into a given output buffer and returns it', () => {
    const out = new Float32Array(W * H * 3).fill(-1);
    assert.equal(applyAugment(image, W, H, IDENTITY_AUGMENT, out), out);
    assert.ok(maxAbsDiff(out, image) <= TOLERANCE);
  });

  test('BAD CALL - applyAugment with a source of the wrong length', () => {
    assert.throws(
      () => applyAugment(new Uint8Array(10), W, H, IDENTITY_AUGMENT),
      (error: Error) => {
        assert.equal(error.name, 'RangeError');
        assert.match(error.message, /applyAugment needs 9x7x3 samples; got 10 in/);
        return true;
      },
    );
  });

  test('BAD CALL - applyAugment with an output buffer too short', () => {
    assert.throws(() => applyAugment(image, W, H, IDENTITY_AUGMENT, new Float32Array(5)), {
      name: 'RangeError',
      message: /applyAugment needs 9x7x3 samples; got 189 in, 5 out/,
    });
  });
});

describe('checkAugmentConfig', () => {
  test('accepts DEFAULT_AUGMENT and the range edges', () => {
    checkAugmentConfig(DEFAULT_AUGMENT);
    checkAugmentConfig({ rotationDegrees: 0, zoom: 0, brightness: [1, 1], horizontalFlip: false });
    checkAugmentConfig({ rotationDegrees: 180, zoom: 0.99, brightness: [0.01, 5], horizontalFlip: true });
  });

  const bad: [string, Partial<AugmentConfig>, RegExp][] = [
    ['negative rotation', { rotationDegrees: -1 }, /"rotationDegrees" must be in \[0, 180\]; got -1\./],
    ['rotation over 180', { rotationDegrees: 181 }, /"rotationDegrees" must be in \[0, 180\]; got 181\./],
    ['NaN rotation', { rotationDegrees: Number.NaN }, /"rotationDegrees" must be in \[0, 180\]; got NaN\./],
    ['negative zoom', { zoom: -0.1 }, /"zoom" must be in \[0, 1\); got -0\.1\./],
    ['zoom of 1', { zoom: 1 }, /"zoom" must be in \[0, 1\); got 1\./],
    ['zero minimum brightness', { brightness: [0, 1.3] }, /"brightness" must be \[min, max\] with 0 < min <= max; got \[0, 1\.3\]\./],
    ['brightness min above max', { brightness: [1.3, 0.7] }, /"brightness" must be \[min, max\] with 0 < min <= max; got \[1\.3, 0\.7\]\./],
    ['NaN brightness', { brightness: [Number.NaN, 1] }, /"brightness" must be \[min, max\]/],
  ];
  for (const [what, override, message] of bad) {
    test(`BAD CALL - checkAugmentConfig with ${what}`, () => {
      assert.throws(
        () => checkAugmentConfig({ ...DEFAULT_AUGMENT, ...override }),
        (error: Error) => {
          assert.equal(error.name, 'RangeError');
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }
});

describe('createRng and deriveSeed', () => {
  const sequence = (seed: number, n = 20) => {
    const rng = createRng(seed);
    return Array.from({ length: n }, () => rng.next());
  };

  test('the same seed gives the same sequence; different seeds different ones', () => {
    assert.deepEqual(sequence(1), sequence(1));
    assert.notDeepEqual(sequence(1), sequence(2));
    assert.notDeepEqual(sequence(0), sequence(1));
  });

  test('seeds are taken as 32-bit unsigned integers', () => {
    assert.deepEqual(sequence(-1), sequence(0xffffffff));
    assert.deepEqual(sequence(2 ** 32 + 5), sequence(5));
  });

  test('next() is in [0, 1) with a mean near 1/2', () => {
    const xs = sequence(7, 10_000);
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.ok(Math.abs(mean - 0.5) < 0.01, `mean ${mean}`); // standard error ~0.003
  });

  test('uniform(lo, hi) is in [lo, hi) and spans it', () => {
    const rng = createRng(8);
    const xs = Array.from({ length: 5_000 }, () => rng.uniform(-3, 5));
    assert.ok(xs.every((x) => x >= -3 && x < 5));
    assert.ok(Math.min(...xs) < -2.9 && Math.max(...xs) > 4.9);
  });

  test('int(n) gives every integer in [0, n) and nothing else', () => {
    const rng = createRng(9);
    const counts = new Array<number>(6).fill(0);
    for (let i = 0; i < 6_000; i++) {
      const k = rng.int(6);
      assert.ok(Number.isInteger(k) && k >= 0 && k < 6, `int ${k}`);
      counts[k]++;
    }
    for (const count of counts) assert.ok(count > 800 && count < 1200, `counts ${counts.join(',')}`);
  });

  test('shuffle is an in-place permutation, deterministic per seed', () => {
    const items = Array.from({ length: 100 }, (_, i) => i);
    const shuffled = createRng(10).shuffle([...items]);
    assert.deepEqual([...shuffled].sort((a, b) => a - b), items);
    assert.notDeepEqual(shuffled, items);
    assert.deepEqual(createRng(10).shuffle([...items]), shuffled);
    assert.notDeepEqual(createRng(11).shuffle([...items]), shuffled);
    const inPlace = [...items];
    assert.equal(createRng(10).shuffle(inPlace), inPlace);
    assert.deepEqual(createRng(1).shuffle([]), []);
    assert.deepEqual(createRng(1).shuffle(['only']), ['only']);
  });

  test('shuffle puts each item first about equally often', () => {
    const rng = createRng(12);
    const firsts = new Array<number>(4).fill(0);
    for (let i = 0; i < 4_000; i++) firsts[rng.shuffle([0, 1, 2, 3])[0]]++;
    for (const count of firsts) assert.ok(count > 850 && count < 1150, `firsts ${firsts.join(',')}`);
  });

  test('deriveSeed: deterministic 32-bit values that differ per part, per order and per seed', () => {
    assert.equal(deriveSeed(5, 1, 2), deriveSeed(5, 1, 2));
    const seeds = [deriveSeed(5), deriveSeed(5, 0), deriveSeed(5, 1), deriveSeed(5, 2), deriveSeed(5, 1, 2), deriveSeed(5, 2, 1), deriveSeed(6, 1, 2)];
    assert.equal(new Set(seeds).size, seeds.length, seeds.join(','));
    for (const s of seeds) assert.ok(Number.isInteger(s) && s >= 0 && s < 2 ** 32);
    // Per-epoch, per-stream seeds, as fit.ts derives them, are all distinct.
    const streams = new Set<number>();
    for (let epoch = 0; epoch < 50; epoch++) for (let stream = 1; stream <= 3; stream++) streams.add(deriveSeed(42, epoch, stream));
    assert.equal(streams.size, 150);
  });

  test('rngs from derived seeds give different sequences', () => {
    assert.notDeepEqual(sequence(deriveSeed(1, 0, 1)), sequence(deriveSeed(1, 0, 2)));
    assert.notDeepEqual(sequence(deriveSeed(1, 0, 1)), sequence(deriveSeed(1, 1, 1)));
  });
});
