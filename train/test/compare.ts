// Helpers the kernel and gradient tests share: run on both backends, and relative error.
import assert from 'node:assert/strict';
import { tf } from '../src/backend/tf.js';

/** Runs `compute` on the cpu backend, then on wasm, with fresh tensors each time. */
export async function onBoth<T>(compute: () => T): Promise<{ cpu: T; wasm: T }> {
  await tf.setBackend('cpu');
  const cpu = compute();
  await tf.setBackend('wasm');
  const wasm = compute();
  return { cpu, wasm };
}

/** max |actual − expected| / max(max |expected|, 1e-6). */
export function relErr(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  assert.equal(actual.length, expected.length, 'compared tensors differ in size');
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / Math.max(scale, 1e-6);
}

/** Relative error the wasm training kernels are held to against the cpu backend. */
export const KERNEL_TOLERANCE = 1e-5;

/** Asserts relErr(actual, expected) <= KERNEL_TOLERANCE, naming what was compared. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  const err = relErr(actual, expected);
  assert.ok(err <= KERNEL_TOLERANCE, `${what}: relative error ${err.toExponential(2)} > ${KERNEL_TOLERANCE}`);
}

/** Number of elements of a tensor shape. */
export const sizeOf = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);
