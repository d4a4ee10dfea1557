// Tests for the browsers' CMYK to RGB rule (src/cmyk.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cmykToRgb } from '../src/cmyk.js';

describe('cmykToRgb', () => {
  it('no ink is white, full K is black, and channels truncate like Blink\'s integer division', () => {
    const data = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 255, 0, 155, 205, 55, 12, 18, 1, 75]);
    const out = cmykToRgb({ data, width: 4, height: 1, channels: 4 });
    assert.equal(out.channels, 3);
    assert.deepEqual(Array.from(out.data), [255, 255, 255, 0, 0, 0, 200, 78, 39, 171, 167, 179]);
  });

  it('alpha is kept (5 channels), or added opaque with ensureAlpha', () => {
    const withAlpha = cmykToRgb({ data: Uint8Array.from([0, 0, 0, 0, 7]), width: 1, height: 1, channels: 5 });
    assert.deepEqual([withAlpha.channels, ...withAlpha.data], [4, 255, 255, 255, 7]);
    const ensured = cmykToRgb({ data: Uint8Array.from([0, 0, 0, 0]), width: 1, height: 1, channels: 4 }, { ensureAlpha: true });
    assert.deepEqual([ensured.channels, ...ensured.data], [4, 255, 255, 255, 255]);
  });

  it('BAD CALL - a buffer that does not match the size', () => {
    assert.throws(() => cmykToRgb({ data: new Uint8Array(3), width: 1, height: 1, channels: 4 }), { name: 'RangeError', message: /need 4 bytes; got 3/ });
  });
});
