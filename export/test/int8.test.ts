// pets-export --dtype int8: the quantize/dequantize arithmetic, and a real one-epoch model3 run of the
// bundled sample exported as int8 (ONNX checker, QDQ structure, weights within half a step, verification,
// bias correction).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createClassifier } from '@pets/runtime';
import { train } from '@pets/train';
import { decodeModel, exportRun, INT8_MIN_TOP1_AGREEMENT, quantizeModel, verificationInputs, type TensorProto } from '../src/index.js';
import { openOrtModel } from '../src/verify/ort.js';
import { percentileRange } from '../src/quantize/calibrate.js';
import { activationParams, dequantizeValue, quantizeBias, quantizeValue, quantizeWeightsPerChannel, roundHalfEven, UINT8 } from '../src/quantize/qdq-math.js';
import { PETS_MINI, ready } from './fixtures.js';
import { checkModel, opCounts } from './onnx-checker.js';

describe('int8 arithmetic', () => {
  test('roundHalfEven() rounds ties to the even neighbour, as QuantizeLinear does', () => {
    assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, -2.6].map(roundHalfEven), [0, 2, 2, -0, -2, -2, 2, -3]);
  });

  test('activationParams(): zero is exact, the range ends map to 0 and 255, a round trip is within half a step', () => {
    const p = activationParams(-1.3, 4.2);
    assert.ok(Math.abs(p.scale - 5.5 / 255) < 1e-12);
    assert.equal(dequantizeValue(quantizeValue(0, p, UINT8), p), 0);
    assert.equal(quantizeValue(-1.3, p, UINT8), 0);
    assert.equal(quantizeValue(4.2, p, UINT8), 255);
    assert.equal(quantizeValue(100, p, UINT8), 255, 'saturates');
    for (let x = -1.3; x <= 4.2; x += 0.0137) assert.ok(Math.abs(dequantizeValue(quantizeValue(x, p, UINT8), p) - x) <= p.scale / 2 + 1e-12, `x = ${x}`);
    assert.equal(activationParams(0.5, 3).zeroPoint, 0, 'a positive range still includes 0');
    assert.equal(activationParams(0, 0).scale, 1, 'an all-zero tensor keeps a positive scale');
  });

  test('quantizeWeightsPerChannel(): per axis-0 channel, max |w| maps to ±127, values within half a step', () => {
    const w = Float32Array.from([0.5, -1, 0.25, 0.75, 0, 0, 0, 0, 2, 1, -0.5, 0]); // 3 channels of 4
    const { q, scales } = quantizeWeightsPerChannel(w, [3, 2, 2, 1], 0);
    assert.deepEqual(Array.from(scales), [1 / 127, 1, 2 / 127].map(Math.fround));
    assert.deepEqual(Array.from(q.subarray(0, 4)), [64, -127, 32, 95]);
    assert.deepEqual(Array.from(q.subarray(4, 8)), [0, 0, 0, 0]);
    w.forEach((v, i) => assert.ok(Math.abs(q[i] * scales[Math.floor(i / 4)] - v) <= scales[Math.floor(i / 4)] / 2 + 1e-7));
    const columns = quantizeWeightsPerChannel(Float32Array.from([1, 4, -2, 8]), [2, 2], 1);
    assert.deepEqual(Array.from(columns.scales), [2 / 127, 8 / 127].map(Math.fround), 'axis 1: one scale per column');
  });

  test('quantizeBias(): int32 at input scale × weight scale; null when it would overflow', () => {
    const bias = quantizeBias(Float32Array.of(0.3, -0.02), 0.01, Float32Array.of(0.5, 0.001));
    assert.ok(bias);
    assert.deepEqual(Array.from(bias.q), [60, -2000]);
    assert.equal(quantizeBias(Float32Array.of(1e6), 1e-4, Float32Array.of(1e-4)), null);
  });

  test('percentileRange() drops the given share at each tail', () => {
    const h = new Float64Array(100).fill(1);
    h[0] = 0;
    h[99] = 0;
    const r = percentileRange(h, { lo: 0, hi: 100 }, 0.95);
    assert.equal(r.lo, 5);
    assert.equal(r.hi, 95);
  });
});

describe('exportRun({ dtype: "int8" })', () => {
  let root: string;
  before(async () => {
    await ready();
    root = await mkdtemp(join(tmpdir(), 'pets-int8-test-'));
    await train({ data: PETS_MINI, out: join(root, 'run'), backend: 'wasm', preset: 'model3', imageSize: 32, batchSize: 32, epochs: 1, seed: 7 });
  });
  after(() => rm(root, { recursive: true, force: true }));

  test('writes a QDQ model that passes the ONNX checker and its tolerance, a quarter of the float32 size', async () => {
    const fp32 = await exportRun({ run: join(root, 'run'), out: join(root, 'fp32.onnx') });
    const int8 = await exportRun({ run: join(root, 'run'), out: join(root, 'int8.onnx'), dtype: 'int8', calibrationImages: 16 });
    assert.equal(int8.dtype, 'int8');
    assert.equal(int8.verification.passed, true);
    assert.ok(int8.verification.top1Agree >= INT8_MIN_TOP1_AGREEMENT * int8.verification.images);
    assert.ok(int8.bytes < 0.3 * fp32.bytes, `${int8.bytes} vs ${fp32.bytes} bytes`);
    const model = decodeModel(await readFile(int8.file));
    checkModel(model);
    const ops = opCounts(model);
    // model3: 5 Conv and one Gemm, each with int8 weights; the ReLUs fold into the QuantizeLinear after them.
    assert.equal(ops.Conv, 5);
    assert.equal(ops.Gemm, 1);
    assert.equal(ops.Relu, undefined);
    assert.ok(ops.QuantizeLinear >= 6 && ops.DequantizeLinear >= ops.QuantizeLinear + 6);
    assert.match(JSON.stringify(int8.provenance), /"dtype":"int8"/);

    // Every int8 weight, dequantized, is within half a step of the float32 export's weight.
    const reference = new Map(decodeModel(await readFile(fp32.file)).graph.initializer.map((t) => [t.name, t]));
    const inits = new Map(model.graph.initializer.map((t) => [t.name, t]));
    const floats = (t: TensorProto) => new Float32Array(new Uint8Array(t.raw_data as Uint8Array).buffer);
    let checked = 0;
    for (const node of model.graph.node.filter((n) => n.op_type === 'Conv')) {
      const dq = model.graph.node.find((n) => n.output[0] === node.input[1]);
      assert.equal(dq?.op_type, 'DequantizeLinear');
      const q = inits.get(dq.input[0]) as TensorProto;
      assert.equal(q.data_type, 3, 'int8 weights');
      const scales = floats(inits.get(dq.input[1]) as TensorProto);
      const original = [...reference.values()].find((t) => t.raw_data?.length === 4 * (q.raw_data as Uint8Array).length && t.dims.join() === q.dims.join());
      assert.ok(original, `the float32 weights of ${node.name}`);
      const w = floats(original);
      const values = new Int8Array(new Uint8Array(q.raw_data as Uint8Array).buffer);
      const perChannel = w.length / scales.length;
      for (let i = 0; i < w.length; i++) assert.ok(Math.abs(values[i] * scales[Math.floor(i / perChannel)] - w[i]) <= scales[Math.floor(i / perChannel)] / 2 + 1e-6);
      checked++;
    }
    assert.equal(checked, 5);
  });

  test('bias correction shrinks the mean shift of the int8 logits from the float32 ones on the calibration images', async () => {
    const fp32 = new Uint8Array(await readFile(join(root, 'fp32.onnx')));
    const reader = await createClassifier({ model: fp32, executionProviders: ['cpu'] });
    const { contract } = reader.info;
    await reader.dispose();
    const cal = await verificationInputs({ contract, count: 16, data: PETS_MINI, testFraction: 0.2, seed: 7, split: 'trainval' });
    const logits = async (bytes: Uint8Array) => {
      const ort = await openOrtModel(bytes);
      const out = await ort.run(cal.x, cal.shape);
      await ort.release();
      return out.logits;
    };
    const reference = await logits(fp32);
    const meanShift = async (biasCorrection: boolean) => {
      const q = await logits((await quantizeModel(fp32, { x: cal.x, shape: cal.shape, biasCorrection })).bytes);
      const n = cal.shape[0];
      const classes = reference.length / n;
      let total = 0;
      for (let c = 0; c < classes; c++) {
        let shift = 0;
        for (let i = 0; i < n; i++) shift += q[i * classes + c] - reference[i * classes + c];
        total += Math.abs(shift / n);
      }
      return total / classes;
    };
    const without = await meanShift(false);
    const withCorrection = await meanShift(true);
    assert.ok(withCorrection < 0.5 * without, `mean |shift| ${withCorrection} with correction, ${without} without`);
  });

  test('BAD CALL - an unknown dtype, fp16 with dtype int8, zero calibration images', async () => {
    const run = join(root, 'run');
    const out = join(root, 'bad.onnx');
    await assert.rejects(exportRun({ run, out, dtype: 'int4' as 'int8' }), { name: 'RangeError', message: /Unsupported dtype "int4"\. Expected one of: fp32, fp16, int8/ });
    await assert.rejects(exportRun({ run, out, dtype: 'int8', fp16: true }), { name: 'RangeError', message: /"fp16" must be false when "dtype" is int8/ });
    await assert.rejects(exportRun({ run, out, dtype: 'int8', calibrationImages: 0 }), { name: 'RangeError', message: /"calibrationImages" must be a positive integer/ });
  });
});
