// Tests for the browsers' CMYK to RGB rule (src/cmyk.ts) and the Adobe marker scan.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cmykToRgb, jpegHasAdobeMarker } from '../src/cmyk.js';

describe('cmykToRgb', () => {
  it('no ink is white, full K is black, and channels truncate like Blink\'s integer division', () => {
    const data = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 255, 0, 155, 205, 55, 12, 18, 1, 75]);
    const out = cmykToRgb({ data, width: 4, height: 1, channels: 4 });
    assert.equal(out.channels, 3);
    assert.deepEqual(Array.from(out.data), [255, 255, 255, 0, 0, 0, 200, 78, 39, 171, 167, 179]);
  });

  it('inverted samples (255 = no ink) give the same colours as their un-inverted reading', () => {
    const data = Uint8Array.from([0, 155, 205, 55, 12, 18, 1, 75]);
    const plain = cmykToRgb({ data, width: 2, height: 1, channels: 4 });
    const inverted = cmykToRgb({ data: data.map((v) => 255 - v), width: 2, height: 1, channels: 4 }, { inverted: true });
    assert.deepEqual(Array.from(inverted.data), Array.from(plain.data));
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

describe('jpegHasAdobeMarker', () => {
  const app = (marker: number, payload: number[]) => [0xff, marker, 0, payload.length + 2, ...payload];
  const adobe = [...'Adobe'].map((c) => c.charCodeAt(0)).concat([0, 100, 0, 0, 0, 0, 0]);
  it('finds APP14 "Adobe" before the first scan, after other markers', () => {
    assert.equal(jpegHasAdobeMarker(Uint8Array.from([0xff, 0xd8, ...app(0xe0, [1, 2, 3]), ...app(0xee, adobe), 0xff, 0xda])), true);
  });
  it('is false without it, after the scan starts, and for non-JPEG bytes', () => {
    assert.equal(jpegHasAdobeMarker(Uint8Array.from([0xff, 0xd8, ...app(0xe0, [1, 2, 3]), 0xff, 0xda])), false);
    assert.equal(jpegHasAdobeMarker(Uint8Array.from([0xff, 0xd8, 0xff, 0xda, 0, 2, ...app(0xee, adobe)])), false);
    assert.equal(jpegHasAdobeMarker(Uint8Array.from([0x89, 0x50, 0x4e, 0x47])), false);
    assert.equal(jpegHasAdobeMarker(new Uint8Array(0)), false);
  });
});
