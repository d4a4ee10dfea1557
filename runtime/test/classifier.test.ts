// The shared classifier on a fake platform: API semantics, batching, per-item errors, contract checks.
// Real onnxruntime sessions are exercised in the top-level test/ suite on exported models.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import protobuf from 'protobufjs/minimal.js';
import { Classifier, topPredictions, type Platform, type SessionLike } from '../src/classifier.js';
import { createContract, ONNX_METADATA_KEYS, ONNX_NAMES, serializeContract } from '../src/contract.js';
import { ImageDecodeError } from '../src/errors.js';
import { readOnnxMetadata } from '../src/onnx-metadata.js';
import type { DecodedPixels } from '../src/preprocess.js';

const LABELS = ['cat', 'dog', 'fox'];
const SIZE = 4;

/** ModelProto bytes with producer_name (2), a graph placeholder (7) and metadata_props (14). */
function fakeModel(props: Record<string, string>): Uint8Array {
  const writer = protobuf.Writer.create();
  writer.uint32((1 << 3) | 0).int64(8);
  writer.uint32((2 << 3) | 2).string('test-producer');
  writer.uint32((7 << 3) | 2).bytes(new Uint8Array([1, 2, 3, 4, 5]));
  for (const [key, value] of Object.entries(props)) {
    writer.uint32((14 << 3) | 2).fork().uint32((1 << 3) | 2).string(key).uint32((2 << 3) | 2).string(value).ldelim();
  }
  return writer.finish();
}

const contract = createContract({ labels: LABELS, imageSize: SIZE });
const model = fakeModel({ [ONNX_METADATA_KEYS.contract]: serializeContract(contract), [ONNX_METADATA_KEYS.provenance]: '{"epoch":3}' });

/** A session whose "model" scores class c by the mean of channel c: easy to predict, and counts runs. */
function fakePlatform(options: { classes?: number } = {}) {
  const runs: number[] = [];
  const classes = options.classes ?? LABELS.length;
  const session: SessionLike = {
    outputNames: [ONNX_NAMES.probabilities, ONNX_NAMES.logits],
    async run(feeds) {
      const x = feeds[ONNX_NAMES.input] as { data: Float32Array; dims: number[] };
      const n = x.dims[0];
      runs.push(n);
      await new Promise((resolve) => setTimeout(resolve, 1));
      const logits = new Float32Array(n * classes);
      const per = SIZE * SIZE * 3;
      for (let i = 0; i < n; i++) for (let p = 0; p < SIZE * SIZE; p++) for (let c = 0; c < Math.min(3, classes); c++) logits[i * classes + c] += x.data[i * per + p * 3 + c] / (SIZE * SIZE);
      const probabilities = new Float32Array(n * classes);
      for (let i = 0; i < n; i++) {
        const row = logits.subarray(i * classes, (i + 1) * classes);
        const max = Math.max(...row);
        const exps = Array.from(row, (v) => Math.exp(v - max));
        const sum = exps.reduce((a, b) => a + b, 0);
        exps.forEach((e, c) => (probabilities[i * classes + c] = e / sum));
      }
      return { [ONNX_NAMES.probabilities]: { data: probabilities, dims: [n, classes] }, [ONNX_NAMES.logits]: { data: logits, dims: [n, classes] } };
    },
    async release() {},
  };
  const platform: Platform<string> = {
    loadModel: async (m) => (typeof m === 'string' ? model : m instanceof Uint8Array ? m : new Uint8Array(m)),
    createSession: async (_bytes, probe) => {
      await probe(session);
      return { session, executionProvider: 'fake', reason: null };
    },
    decode: async (input, name) => {
      const colour = { red: [255, 0, 0], green: [0, 255, 0], blue: [0, 0, 255] }[input];
      if (!colour) throw new ImageDecodeError(name, 'not a colour');
      return solid(colour);
    },
    tensor: (data, dims) => ({ data, dims }),
  };
  return { platform, runs };
}

function solid(rgb: number[], size = 8): DecodedPixels {
  const data = new Uint8Array(size * size * 3);
  for (let i = 0; i < size * size; i++) data.set(rgb, i * 3);
  return { data, width: size, height: size, channels: 3 };
}

describe('Classifier (fake platform)', () => {
  test('reads labels, size and provenance from the model metadata', async () => {
    const c = await Classifier.create(fakePlatform().platform, 'model.onnx');
    assert.deepEqual(c.info.labels, LABELS);
    assert.deepEqual(c.info.inputSize, { height: SIZE, width: SIZE });
    assert.deepEqual(c.info.provenance, { epoch: 3 });
    assert.equal(c.info.executionProvider, 'fake');
  });

  test('one input gives sorted predictions; topK and all', async () => {
    const c = await Classifier.create(fakePlatform().platform, 'model.onnx');
    const top = await c.classify('green');
    assert.equal(top.length, 3);
    assert.deepEqual(top[0], { label: 'dog', index: 1, probability: top[0].probability });
    assert.ok(top[0].probability > top[1].probability);
    assert.ok(Math.abs(top.reduce((s, p) => s + p.probability, 0) - 1) < 1e-6, 'probabilities sum to 1 within 1e-6');
    assert.equal((await c.classify('blue', { topK: 1 }))[0].label, 'fox');
    assert.equal((await c.classify(solid([255, 0, 0]), { all: true })).length, 3);
  });

  test('a batch reports a bad item and still classifies the others', async () => {
    const c = await Classifier.create(fakePlatform().platform, 'model.onnx');
    const outcomes = await c.classify(['red', 'purple', 'blue', solid([0, 0, 0]).data as unknown as string]);
    assert.equal(outcomes.length, 4);
    assert.ok(outcomes[0].ok && outcomes[0].predictions[0].label === 'cat');
    assert.ok(!outcomes[1].ok && outcomes[1].error.name === 'ImageDecodeError' && /purple/.test(outcomes[1].error.message));
    assert.ok(outcomes[2].ok && outcomes[2].predictions[0].label === 'fox');
    assert.ok(!outcomes[3].ok);
  });

  test('100 parallel calls are all answered, correctly, in few batched runs', async () => {
    const { platform, runs } = fakePlatform();
    const c = await Classifier.create(platform, 'model.onnx', 16);
    runs.length = 0;
    const colours = ['red', 'green', 'blue'];
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => c.classify(colours[i % 3], { topK: 1 })));
    results.forEach((r, i) => assert.equal(r[0].index, i % 3));
    assert.equal(runs.reduce((a, b) => a + b, 0), 100);
    assert.ok(Math.max(...runs) <= 16, 'no run exceeds maxBatch');
    assert.ok(runs.length <= 10, `batched into ${runs.length} runs`);
  });

  test('onBatch is told the size of every inference run, the blank probe excluded', async () => {
    const { platform, runs } = fakePlatform();
    const sizes: number[] = [];
    const c = await Classifier.create(platform, 'model.onnx', 16, (size) => sizes.push(size));
    assert.deepEqual(sizes, [], 'the probe run at creation is not reported');
    runs.length = 0;
    await Promise.all(Array.from({ length: 20 }, () => c.classify('red')));
    await c.infer(new Float32Array(3 * SIZE * SIZE * 3));
    assert.deepEqual(sizes, runs);
    assert.equal(sizes.reduce((a, b) => a + b, 0), 23);
  });

  test('images queued together go in one run: infer() of 16 is one run of 16, of 20 is 16 + 4', async () => {
    const { platform, runs } = fakePlatform();
    const c = await Classifier.create(platform, 'model.onnx', 16);
    const images = [await c.preprocess(solid([255, 0, 0])), await c.preprocess(solid([0, 255, 0])), await c.preprocess(solid([0, 0, 255]))];
    const per = images[0].length;
    const many = (n: number) => {
      const x = new Float32Array(n * per);
      for (let i = 0; i < n; i++) x.set(images[i % 3], i * per);
      return x;
    };
    const argmax = (p: Float32Array) => p.indexOf(Math.max(...p));
    runs.length = 0;
    const sixteen = await c.infer(many(16));
    assert.deepEqual(runs, [16]);
    assert.deepEqual(sixteen.map((o) => argmax(o.probabilities)), Array.from({ length: 16 }, (_, i) => i % 3));
    runs.length = 0;
    const twenty = await c.infer(many(20));
    assert.deepEqual(runs, [16, 4]);
    assert.deepEqual(twenty.map((o) => argmax(o.probabilities)), Array.from({ length: 20 }, (_, i) => i % 3));
  });

  test('an array is classified in groups of maxBatch: 35 inputs run as 16 + 16 + 3, outcomes in order', async () => {
    const { platform, runs } = fakePlatform();
    const c = await Classifier.create(platform, 'model.onnx', 16);
    const colours: number[][] = [[255, 0, 0], [0, 255, 0], [0, 0, 255]];
    runs.length = 0;
    // Decoded pixels (preprocessed synchronously) and encoded inputs (decoded asynchronously), mixed.
    const inputs = Array.from({ length: 35 }, (_, i) => (i % 2 ? solid(colours[i % 3]) : ['red', 'green', 'blue'][i % 3]));
    const outcomes = await c.classify(inputs, { topK: 1 });
    assert.deepEqual(runs, [16, 16, 3]);
    outcomes.forEach((o, i) => assert.ok(o.ok && o.predictions[0].index === i % 3, `item ${i}`));
  });

  test('infer() returns probabilities and logits for preprocessed tensors', async () => {
    const c = await Classifier.create(fakePlatform().platform, 'model.onnx');
    const x = await c.preprocess(solid([0, 255, 0]));
    const [out] = await c.infer(x);
    assert.equal(out.probabilities.length, 3);
    assert.ok(out.logits && Math.abs(out.logits[1] - 1) < 1e-6, 'green channel mean is 1 after 1/255 scaling');
  });

  test('BAD CALL - a model whose output width differs from its label count', async () => {
    await assert.rejects(Classifier.create(fakePlatform({ classes: 5 }).platform, 'model.onnx'), {
      name: 'ModelContractError',
      message: /outputs 5 classes but its contract lists 3 labels/,
    });
  });

  test('BAD CALL - a model without the pets contract', async () => {
    const bare = fakeModel({ other: 'x' });
    await assert.rejects(Classifier.create(fakePlatform().platform, bare), { name: 'ModelContractError', message: /test-producer.*has no "pets\.contract" metadata/ });
  });

  test('BAD CALL - an empty model file (0 bytes) is not an ONNX file', async () => {
    await assert.rejects(Classifier.create(fakePlatform().platform, new Uint8Array(0)), { name: 'ModelContractError', message: /empty \(0 bytes\): not an ONNX file/ });
  });

  test('BAD CALL - bytes that are not ONNX', async () => {
    await assert.rejects(Classifier.create(fakePlatform().platform, new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff])), { name: 'ModelContractError', message: /not a readable ONNX file/ });
  });

  test('BAD CALL - topK out of range, bad pixels', async () => {
    const c = await Classifier.create(fakePlatform().platform, 'model.onnx');
    await assert.rejects(c.classify('red', { topK: 0 }), { name: 'RangeError', message: /"topK" must be a positive integer/ });
    await assert.rejects(c.classify({ data: new Uint8Array(5), width: 2, height: 2, channels: 3 }), { name: 'RangeError', message: /has 5 bytes/ });
  });
});

describe('readOnnxMetadata and topPredictions', () => {
  test('metadata_props and producer_name are read, the graph skipped', () => {
    const meta = readOnnxMetadata(fakeModel({ a: '1', b: 'two' }));
    assert.deepEqual(meta.props, { a: '1', b: 'two' });
    assert.equal(meta.producerName, 'test-producer');
  });

  test('ties keep index order', () => {
    const p = topPredictions(new Float32Array([0.25, 0.5, 0.25]), LABELS, 3);
    assert.deepEqual(p.map((x) => x.index), [1, 0, 2]);
  });
});
