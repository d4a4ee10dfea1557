// The Triton model repository: config.pbtxt read back against Triton's own model_config.proto (vendored in
// proto/triton/), labels.txt and the model file, the text-format reader on Triton's documented syntax, and
// bad input (named errors, nothing left in the repository).
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createContract, ONNX_METADATA_KEYS, parseContract } from '@pets/runtime/contract';
import { decodeModel, encodeModel, exportModel, modelConfigType, parseTextProto, writeTritonRepository } from '../src/index.js';
import { quoteString } from '../src/triton/text-format-write.js';
import { contractFor, presetModel, ready, sampleLabels } from './fixtures.js';

let root: string;
let labels: string[];
let onnxFile: string;
let onnxBytes: Uint8Array;

before(async () => {
  await ready();
  labels = await sampleLabels();
  root = await mkdtemp(join(tmpdir(), 'pets-triton-'));
  const model = presetModel('model3', 24, labels.length, 2);
  onnxBytes = exportModel(model, contractFor(labels, 24)).bytes;
  model.dispose();
  onnxFile = join(root, 'm3.onnx');
  await writeFile(onnxFile, onnxBytes);
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** config.pbtxt as Triton reads it: text format -> ModelConfig, checked by protobufjs against the schema. */
function readConfig(text: string): Record<string, unknown> {
  const type = modelConfigType();
  const message = type.fromObject(parseTextProto(type, text));
  assert.equal(type.verify(message), null);
  // Through the binary wire format and back, as Triton's C++ parser would hold it.
  const decoded = type.decode(type.encode(message).finish());
  return type.toObject(decoded, { enums: String, longs: Number });
}

const BAD_NAME = (pattern: RegExp) => (error: Error) => error.name === 'TextFormatError' && pattern.test(error.message);

describe('Triton model repository', () => {
  test('writes config.pbtxt, labels.txt and 1/model.onnx; the config reads back under model_config.proto with the model\'s dims', async () => {
    const repository = join(root, 'repo');
    const written = await writeTritonRepository({ model: onnxFile, repository });
    assert.equal(written.name, 'm3');
    assert.deepEqual((await readdir(repository)).sort(), ['m3'], 'no temporary folder is left');
    assert.deepEqual((await readdir(written.dir)).sort(), ['1', 'config.pbtxt', 'labels.txt']);
    assert.ok(Buffer.from(onnxBytes).equals(await readFile(join(written.dir, '1', 'model.onnx'))), 'model.onnx is the exported file');
    assert.deepEqual((await readFile(written.labelsFile, 'utf8')).split('\n'), [...labels, '']);

    const config = readConfig(await readFile(written.configFile, 'utf8'));
    assert.equal(config.name, 'm3');
    assert.equal(config.platform, 'onnxruntime_onnx');
    assert.equal(config.max_batch_size, 16);
    assert.deepEqual(config.input, [{ name: 'image', data_type: 'TYPE_FP32', dims: [24, 24, 3] }]);
    assert.deepEqual(config.output, [
      { name: 'probabilities', data_type: 'TYPE_FP32', dims: [labels.length], label_filename: 'labels.txt' },
      { name: 'logits', data_type: 'TYPE_FP32', dims: [labels.length], label_filename: 'labels.txt' },
    ]);
    assert.deepEqual(config.dynamic_batching, { max_queue_delay_microseconds: 1000 });
    assert.deepEqual(config.instance_group, [{ count: 1, kind: 'KIND_GPU' }]);
    const parameters = config.parameters as Record<string, { string_value: string }>;
    assert.deepEqual(parseContract(parameters['pets.contract'].string_value), contractFor(labels, 24));
  });

  test('cpu instances and no batching: the dims keep the batch dimension as -1', async () => {
    const repository = join(root, 'repo-cpu');
    const written = await writeTritonRepository({ model: onnxFile, repository, name: 'cats', instanceKind: 'cpu', maxBatchSize: 0 });
    const config = readConfig(written.config);
    assert.equal(config.name, 'cats');
    assert.equal(config.max_batch_size, 0);
    assert.deepEqual((config.input as { dims: number[] }[])[0].dims, [-1, 24, 24, 3]);
    assert.equal(config.dynamic_batching, undefined);
    assert.deepEqual(config.instance_group, [{ count: 1, kind: 'KIND_CPU' }]);
  });

  test('a second write replaces the model folder whole', async () => {
    const repository = join(root, 'repo-replace');
    await writeTritonRepository({ model: onnxFile, repository });
    await writeFile(join(repository, 'm3', 'stale.txt'), 'from before');
    const written = await writeTritonRepository({ model: onnxFile, repository, instanceKind: 'auto' });
    assert.deepEqual((await readdir(repository)).sort(), ['m3']);
    assert.deepEqual((await readdir(written.dir)).sort(), ['1', 'config.pbtxt', 'labels.txt']);
    assert.deepEqual(readConfig(written.config).instance_group, [{ count: 1, kind: 'KIND_AUTO' }]);
  });

  test('BAD CALL - a file that is not a pets ONNX model, a bad name or setting: named errors, nothing in the repository', async () => {
    const repository = join(root, 'repo-bad');
    const notOnnx = join(root, 'not.onnx');
    await writeFile(notOnnx, 'this is text, not a model');
    await assert.rejects(writeTritonRepository({ model: notOnnx, repository }), { name: 'ExportError', message: /not an ONNX model/ });
    await assert.rejects(writeTritonRepository({ model: join(root, 'missing.onnx'), repository }), { name: 'ExportError', message: /ENOENT/ });
    const bare = decodeModel(onnxBytes);
    bare.metadata_props = bare.metadata_props.filter((p) => p.key !== ONNX_METADATA_KEYS.contract);
    const bareFile = join(root, 'bare.onnx');
    await writeFile(bareFile, encodeModel(bare));
    await assert.rejects(writeTritonRepository({ model: bareFile, repository }), { name: 'ModelContractError', message: /pets\.contract/ });
    await assert.rejects(writeTritonRepository({ model: onnxFile, repository, name: '../escape' }), { name: 'RangeError', message: /"name" must be/ });
    await assert.rejects(writeTritonRepository({ model: onnxFile, repository, maxBatchSize: -1 }), { name: 'RangeError', message: /"maxBatchSize" must be/ });
    await assert.rejects(writeTritonRepository({ model: onnxFile, repository, instanceKind: 'tpu' as 'gpu' }), { name: 'RangeError', message: /Expected one of: gpu, cpu, auto/ });
    const aFile = join(root, 'a-file');
    await writeFile(aFile, '');
    await assert.rejects(writeTritonRepository({ model: onnxFile, repository: aFile }), { name: 'ExportError', message: /Triton repository/ });
    assert.deepEqual(await readdir(repository).catch(() => []), []);
  });

  test('BAD CALL - a label with a line break cannot go in labels.txt', async () => {
    const model = presetModel('model3', 24, 2, 2);
    const file = join(root, 'two.onnx');
    await writeFile(file, exportModel(model, createContract({ labels: ['cat', 'dog\nhound'], imageSize: 24 })).bytes);
    model.dispose();
    const repository = join(root, 'repo-labels');
    await assert.rejects(writeTritonRepository({ model: file, repository }), { name: 'ExportError', message: /line break/ });
    assert.deepEqual(await readdir(repository).catch(() => []), []);
  });
});

describe('protobuf text format against model_config.proto', () => {
  test("reads Triton's documented config syntax: comments, lists of messages, scalar lists, maps, oneofs", () => {
    const text = `
      # from the model configuration guide's layout
      name: "densenet_onnx"
      platform: "onnxruntime_onnx"
      max_batch_size : 8
      version_policy: { latest: { num_versions: 2 } }
      input [
        {
          name: "data_0"
          data_type: TYPE_FP32
          format: FORMAT_NCHW
          dims: [ 3, 224, 224 ]
          reshape: { shape: [ 1, 3, 224, 224 ] }
        }
      ]
      output [
        {
          name: "fc6_1"
          data_type: TYPE_FP32
          dims: [ 1000 ]
          label_filename: "densenet_labels.txt"
        }
      ]
      dynamic_batching { preferred_batch_size: [ 4, 8 ], max_queue_delay_microseconds: 100 }
      instance_group [ { count: 2, kind: KIND_CPU }, { kind: KIND_GPU gpus: [ 0, 1 ] } ];
      parameters { key: "a" value: { string_value: "it" "s \\"quoted\\"\\n" } }
      parameters: { key: "b", value { string_value: 'x' } }
      optimization { execution_accelerators { gpu_execution_accelerator : [ { name : "tensorrt" parameters { key: "precision_mode" value: "FP16" } } ] } }
    `;
    const config = readConfig(text);
    assert.equal(config.max_batch_size, 8);
    assert.deepEqual(config.version_policy, { latest: { num_versions: 2 } });
    assert.deepEqual(config.input, [{ name: 'data_0', data_type: 'TYPE_FP32', format: 'FORMAT_NCHW', dims: [3, 224, 224], reshape: { shape: [1, 3, 224, 224] } }]);
    assert.deepEqual(config.dynamic_batching, { preferred_batch_size: [4, 8], max_queue_delay_microseconds: 100 });
    assert.deepEqual(config.instance_group, [{ count: 2, kind: 'KIND_CPU' }, { kind: 'KIND_GPU', gpus: [0, 1] }]);
    assert.deepEqual(config.parameters, { a: { string_value: 'its "quoted"\n' }, b: { string_value: 'x' } });
    const accelerators = (config.optimization as { execution_accelerators: { gpu_execution_accelerator: unknown[] } }).execution_accelerators;
    assert.deepEqual(accelerators.gpu_execution_accelerator, [{ name: 'tensorrt', parameters: { precision_mode: 'FP16' } }]);
  });

  test('strings with quotes, backslashes, control characters and UTF-8 read back as written', () => {
    const type = modelConfigType();
    const value = 'a "b" \\ c\nd\te\u0001 Abyssinian – Bengal 猫';
    assert.equal(parseTextProto(type, `name: ${quoteString(value)}`).name, value);
  });

  test('BAD CALL - the reader refuses text that does not fit model_config.proto', () => {
    const type = modelConfigType();
    assert.throws(() => parseTextProto(type, 'max_batch: 8'), BAD_NAME(/line 1: .*ModelConfig has no field "max_batch"/));
    assert.throws(() => parseTextProto(type, 'name: "a"\ninstance_group [ { kind: KIND_TPU } ]'), BAD_NAME(/line 2: "kind" must be one of KIND_AUTO, KIND_GPU, KIND_CPU, KIND_MODEL/));
    assert.throws(() => parseTextProto(type, 'max_batch_size: "8"'), BAD_NAME(/must be an integer/));
    assert.throws(() => parseTextProto(type, 'max_batch_size: 4294967296'), BAD_NAME(/out of range/));
    assert.throws(() => parseTextProto(type, 'name: "a" name: "b"'), BAD_NAME(/given twice but is not repeated/));
    assert.throws(() => parseTextProto(type, 'dynamic_batching { } sequence_batching { }'), BAD_NAME(/oneof scheduling_choice allows one/));
    assert.throws(() => parseTextProto(type, 'name "a"'), BAD_NAME(/expected ":" after scalar field "name"/));
    assert.throws(() => parseTextProto(type, 'input [ { name: "x" '), BAD_NAME(/unexpected end of text/));
    assert.throws(() => parseTextProto(type, 'name: "open'), BAD_NAME(/unterminated string/));
    assert.throws(() => parseTextProto(type, 'platform: [ "a" ]'), BAD_NAME(/not repeated/));
  });
});
