// --fp16: float16 weights and compute with float32 input and outputs (Cast nodes); a smaller file whose
// probabilities stay within 1e-2 of tfjs. Plus the float32 -> float16 conversion itself.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { DataType, decodeModel, exportModel, fromFloat16Bits, toFloat16Bits, verificationInputs } from '../src/index.js';
import { checkModel, opCounts } from './onnx-checker.js';
import { briefTraining, contractFor, parity, PETS_MINI, presetModel, ready, sampleLabels } from './fixtures.js';

let labels: string[];
before(async () => {
  await ready();
  labels = await sampleLabels();
});

describe('float16 conversion', () => {
  test('toFloat16Bits rounds to nearest even and keeps specials', () => {
    assert.equal(toFloat16Bits(1), 0x3c00);
    assert.equal(toFloat16Bits(-2), 0xc000);
    assert.equal(toFloat16Bits(65504), 0x7bff);
    assert.equal(toFloat16Bits(65520), 0x7c00, 'rounds up to infinity');
    assert.equal(toFloat16Bits(Infinity), 0x7c00);
    assert.equal(toFloat16Bits(-0), 0x8000);
    assert.ok((toFloat16Bits(NaN) & 0x7c00) === 0x7c00 && (toFloat16Bits(NaN) & 0x3ff) !== 0, 'NaN stays NaN');
    assert.equal(toFloat16Bits(2 ** -24), 0x0001, 'smallest subnormal');
    assert.equal(toFloat16Bits(2 ** -25), 0x0000, 'half of it ties to even (zero)');
    assert.equal(toFloat16Bits(1 + 2 ** -11), 0x3c00, 'tie between 1 and its successor goes to even');
    assert.equal(toFloat16Bits(1 + 3 * 2 ** -11), 0x3c02, 'tie goes to even (up)');
    assert.equal(toFloat16Bits(2 ** -14 - 2 ** -26), 0x0400, 'rounding carries from subnormal into the exponent');
    for (const v of [0.1, -3.14159, 1e-3, 1234.5, 5.96e-8]) {
      const back = fromFloat16Bits(toFloat16Bits(v));
      assert.ok(Math.abs(back - v) <= Math.abs(v) * 2 ** -11 + 2 ** -25, `${v} -> ${back}`);
    }
  });
});

describe('--fp16 export', () => {
  for (const preset of ['model1', 'model3'] as const) {
    test(`${preset}: float16 weights, float32 input/outputs, half the size, within 1e-2 of tfjs`, async () => {
      const model = presetModel(preset, 32, labels.length, 7);
      briefTraining(model);
      const contract = contractFor(labels, 32);
      const full = exportModel(model, contract);
      const half = exportModel(model, contract, { fp16: true });
      assert.ok(half.bytes.length < full.bytes.length * 0.55, `${half.bytes.length} vs ${full.bytes.length} bytes`);
      const onnx = decodeModel(half.bytes);
      checkModel(onnx);
      assert.equal(opCounts(onnx).Cast, 2, 'one Cast after the input, one before the outputs');
      assert.ok(onnx.graph.initializer.every((t) => t.data_type === DataType.FLOAT16), 'every weight is float16');
      const photos = await verificationInputs({ contract, count: 6, data: PETS_MINI, dataExplicit: true, testFraction: 0.2, seed: 42 });
      const m = await parity(model, half.bytes, photos);
      assert.ok(m.maxAbsDiff <= 1e-2, `max |Δp| ${m.maxAbsDiff}`);
      assert.ok(m.maxLogitRelErr <= 1e-2, `logits rel err ${m.maxLogitRelErr}`);
      model.dispose();
    });
  }
});
