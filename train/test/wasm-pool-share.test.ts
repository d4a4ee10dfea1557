// The wasm MaxPoolGrad (2x2, stride 2) and the sharing Identity and Cast kernels
// (train/src/backend/wasm-max-pool-grad.ts, wasm-share.ts) against the cpu backend, and the built-in
// fallbacks they leave the other cases to.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { tf } from '../src/backend/tf.js';
import { registerWasmTrainingKernels } from '../src/backend/wasm-kernels.js';
import { onBoth } from './compare.js';

/** Seeded values in [-1, 1) (a sine hash: fixed on every run and backend). */
const seeded = (size: number, seed: number): Float32Array =>
  Float32Array.from({ length: size }, (_, i) => {
    const v = Math.sin((i + 1) * 12.9898 + seed * 78.233) * 43758.5453;
    return 2 * (v - Math.floor(v)) - 1;
  });


interface PoolCase {
  x: [number, number, number, number];
  size: number;
  strides: number;
  pad: 'valid' | 'same';
  /** ReLU'd inputs: many windows of equal zeros, where the first maximum takes the gradient. */
  relu?: boolean;
  /**
   * Positive, distinct inputs. For the built-in: it starts each window's maximum at FLT_MIN and keeps
   * the last of equal values, so windows of negatives or ties get their gradient elsewhere than on cpu.
   */
  positive?: boolean;
}

const POOL_CASES: PoolCase[] = [
  { x: [2, 8, 8, 3], size: 2, strides: 2, pad: 'valid' },
  // Odd sides: the last row and column are in no window.
  { x: [2, 9, 7, 5], size: 2, strides: 2, pad: 'valid' },
  { x: [1, 6, 6, 64], size: 2, strides: 2, pad: 'valid', relu: true },
  { x: [3, 10, 10, 4], size: 2, strides: 2, pad: 'valid', relu: true },
  // Other windows: the built-in's turn.
  { x: [2, 9, 9, 3], size: 3, strides: 2, pad: 'same', positive: true },
  { x: [2, 9, 7, 3], size: 2, strides: 2, pad: 'same', positive: true },
  { x: [2, 8, 8, 3], size: 2, strides: 1, pad: 'valid', positive: true },
];

describe('wasm MaxPoolGrad, Identity and Cast', () => {
  before(async () => {
    await import('@tensorflow/tfjs-backend-wasm');
    registerWasmTrainingKernels();
    assert.ok(await tf.setBackend('wasm'), 'the wasm backend initializes');
  });

  for (const c of POOL_CASES) {
    // Disjoint windows give each dx element one term: exact. Overlapping ones sum in another order.
    const exact = c.size === c.strides && c.pad === 'valid';
    it(`max pool ${c.size}x${c.size}/${c.strides} ${c.pad} over [${c.x}]${c.relu ? ' (ReLU ties)' : ''}: dx matches cpu ${exact ? 'exactly' : 'to 1e-6'}`, async () => {
      const { cpu, wasm } = await onBoth(() => {
        const before = tf.engine().backend.numDataIds();
        const values = seeded(c.x.reduce((a, b) => a * b), 1).map((v) => (c.relu ? Math.max(0, v) : c.positive ? 2 + v : v));
        const x = tf.tensor4d(values, c.x);
        const yShape = tf.backend_util.computePool2DInfo(c.x, c.size, c.strides, 1, c.pad).outShape;
        const r = tf.tensor(seeded(yShape.reduce((a, b) => a * b), 2), yShape);
        const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, c.size, c.strides, c.pad), r)))(x);
        const out = Array.from(dx.dataSync());
        tf.dispose([x, r, dx]);
        return { out, leaked: tf.engine().backend.numDataIds() - before };
      });
      if (exact) assert.deepEqual(wasm.out, cpu.out);
      else for (const [i, v] of cpu.out.entries()) assert.ok(Math.abs(wasm.out[i] - v) <= 1e-6 * Math.max(1, Math.abs(v)), `dx[${i}]`);
      assert.equal(wasm.leaked, 0, 'wasm data buffers left');
    });
  }

  it('Identity shares the data: no copy, and the clone outlives its source', () => {
    const x = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const data = tf.engine().backend.numDataIds();
    const y = tf.clone(x);
    assert.equal(tf.engine().backend.numDataIds(), data, 'no new buffer');
    x.dispose();
    assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3, 4]);
    y.dispose();
    assert.equal(tf.engine().backend.numDataIds(), data - 1, 'the buffer goes with its last tensor');
  });

  const CASTS: { values: number[]; from: 'float32' | 'int32' | 'bool'; to: 'float32' | 'int32' | 'bool' }[] = [
    { values: [1.5, -2.25, 0, 3], from: 'float32', to: 'float32' },
    { values: [1.7, -2.7, 0.2, 3.9], from: 'float32', to: 'int32' },
    { values: [1, -2, 0, 3], from: 'int32', to: 'float32' },
    { values: [1, 0, 1, 1], from: 'bool', to: 'float32' },
    { values: [7, -2, 0, 3], from: 'int32', to: 'int32' },
  ];
  for (const c of CASTS) {
    it(`cast ${c.from} to ${c.to} matches cpu`, async () => {
      const { cpu, wasm } = await onBoth(() => {
        const x = tf.tensor1d(c.values, c.from);
        const y = tf.cast(x, c.to);
        const out = { dtype: y.dtype, values: Array.from(y.dataSync()) };
        tf.dispose([x, y]);
        return out;
      });
      assert.deepEqual(wasm, cpu);
    });
  }

  it('string tensors still clone (the built-in handles them)', () => {
    const x = tf.tensor1d(['a', 'bc']);
    const y = tf.clone(x);
    x.dispose();
    assert.deepEqual(y.dataSync(), ['a', 'bc']);
    y.dispose();
  });
});
