import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Dataset } from '../src/data/dataset.js';
import { carveTest, countPerSplit, formatSplitCounts, stratifiedSplit } from '../src/data/split.js';

interface Item {
  id: number;
  label: number;
}

/** counts[c] items of class c, interleaved across classes as a real list would not be. */
function makeItems(counts: number[]): Item[] {
  const items: Item[] = [];
  counts.forEach((n, label) => {
    for (let i = 0; i < n; i++) items.push({ id: items.length, label });
  });
  return items.sort((a, b) => ((a.id * 7919) % 101) - ((b.id * 7919) % 101));
}

function perClass(items: Item[], classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const item of items) counts[item.label]++;
  return counts;
}

describe('stratifiedSplit', () => {
  const counts = [100, 40, 10, 5, 3, 2];
  const items = makeItems(counts);

  test('holds out round(n * fraction) of every class, at least 1 held out and 1 kept', () => {
    const { kept, heldOut } = stratifiedSplit(items, 0.2, 1);
    assert.deepEqual(perClass(heldOut, counts.length), [20, 8, 2, 1, 1, 1]);
    assert.deepEqual(perClass(kept, counts.length), [80, 32, 8, 4, 2, 1]);
    const big = stratifiedSplit(makeItems([2, 3]), 0.9, 1);
    assert.deepEqual(perClass(big.kept, 2), [1, 1], 'a class of >= 2 always keeps one');
  });

  test('a class with a single item is kept whole', () => {
    const { kept, heldOut } = stratifiedSplit(makeItems([1, 4]), 0.5, 3);
    assert.deepEqual(perClass(kept, 2), [1, 2]);
    assert.deepEqual(perClass(heldOut, 2), [0, 2]);
  });

  test('no overlap, union is the input, both parts keep input order', () => {
    const { kept, heldOut } = stratifiedSplit(items, 0.3, 7);
    const ids = new Set(kept.map((item) => item.id));
    assert.ok(heldOut.every((item) => !ids.has(item.id)));
    assert.equal(kept.length + heldOut.length, items.length);
    const position = new Map(items.map((item, i) => [item, i]));
    for (const part of [kept, heldOut]) {
      const positions = part.map((item) => position.get(item)!);
      assert.deepEqual(positions, [...positions].sort((a, b) => a - b));
    }
    assert.deepEqual(
      [...kept, ...heldOut].map((item) => item.id).sort((a, b) => a - b),
      items.map((item) => item.id).sort((a, b) => a - b),
    );
  });

  test('same seed gives the same split; a different seed a different one', () => {
    const a = stratifiedSplit(items, 0.2, 42);
    const b = stratifiedSplit([...items], 0.2, 42);
    assert.deepEqual(a.heldOut, b.heldOut);
    const c = stratifiedSplit(items, 0.2, 43);
    assert.notDeepEqual(a.heldOut, c.heldOut);
    assert.deepEqual(perClass(a.heldOut, counts.length), perClass(c.heldOut, counts.length));
  });

  test('a class splits the same whatever other classes are present', () => {
    const withOthers = stratifiedSplit(items, 0.2, 9).heldOut.filter((item) => item.label === 1);
    const alone = stratifiedSplit(items.filter((item) => item.label === 1), 0.2, 9).heldOut;
    assert.deepEqual(withOthers, alone);
  });

  test('BAD CALL - fraction outside (0, 1), non-integer seed, bad labels', () => {
    for (const fraction of [0, 1, -0.1, Number.NaN]) {
      assert.throws(() => stratifiedSplit(items, fraction, 1), { name: 'RangeError', message: /"fraction" must be a number in \(0, 1\)/ });
    }
    assert.throws(() => stratifiedSplit(items, 0.2, 1.5), { name: 'RangeError', message: /"seed" must be an integer; got 1.5/ });
    assert.throws(() => stratifiedSplit([{ label: -1 }], 0.2, 1), { name: 'RangeError', message: /"items\[0\]\.label" must be/ });
    assert.throws(() => stratifiedSplit('x' as unknown as Item[], 0.2, 1), { name: 'TypeError', message: /"items" must be an array/ });
  });
});

describe('carveTest', () => {
  const dataset = (test: Item[]): Dataset => ({
    root: '/data',
    layout: 'folders',
    labels: ['a', 'b'],
    trainval: makeItems([10, 10]).map((item) => ({ id: String(item.id), path: `/data/${item.id}.jpg`, label: item.label })),
    test: test.map((item) => ({ id: String(item.id), path: '', label: item.label })),
    missing: [],
  });

  test('carves a stratified test split from trainval when there is none', () => {
    const carved = carveTest(dataset([]), 0.2, 5);
    assert.equal(carved.trainval.length, 16);
    assert.equal(carved.test.length, 4);
    assert.deepEqual(carved.labels, ['a', 'b']);
  });

  test('BAD CALL - carving when a test split exists', () => {
    assert.throws(() => carveTest(dataset([{ id: 1, label: 0 }]), 0.2, 5), {
      name: 'RangeError',
      message: /"dataset\.test" must be empty .* already has 1 images/,
    });
  });
});

describe('countPerSplit / formatSplitCounts', () => {
  const labels = ['Abyssinian', 'beagle', 'boxer'];
  const train = [0, 0, 0, 1, 1, 2, 2, 2, 2].map((label) => ({ label }));
  const val = [0, 1].map((label) => ({ label }));

  test('counts images per class and split', () => {
    const counts = countPerSplit({ train, val }, labels);
    assert.deepEqual(counts.splits, ['train', 'val']);
    assert.deepEqual(counts.perClass, [
      [3, 2, 4],
      [1, 1, 0],
    ]);
  });

  test('formats a summary with min/max per class, and optionally every class', () => {
    const text = formatSplitCounts(countPerSplit({ train, val }, labels), { perClass: true });
    const lines = text.split('\n');
    assert.deepEqual(lines.slice(0, 4), [
      'split  images  classes  min/class  max/class',
      'train       9        3          2          4',
      'val         2        2          0          1',
      'total      11        3          3          4',
    ]);
    assert.match(text, /\n\nclass       train  val  total\nAbyssinian      3    1      4\n/);
    assert.equal(formatSplitCounts(countPerSplit({ train, val }, labels)).split('\n').length, 4);
  });

  test('BAD CALL - a label outside the label list', () => {
    assert.throws(() => countPerSplit({ train: [{ label: 3 }] }, labels), {
      name: 'RangeError',
      message: /Split "train" has label 3; expected an integer in \[0, 2\]/,
    });
  });
});
