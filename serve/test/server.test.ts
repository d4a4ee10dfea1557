// pets-serve in process on a real model: every Open Inference Protocol endpoint in the protocol's
// request/response shapes (JSON and binary), the classification extension, the image endpoint against
// classify(), metrics, overload, and each bad request followed by a good one.
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { createClassifier, type NodeClassifier } from '@pets/runtime';
import { parseContract } from '@pets/runtime/contract';
import { createServer, type PetsServer } from '../src/index.js';
import { FIXTURE_SIZE, SAMPLE_IMAGES, writeFixtureModel } from './fixture-model.js';
import { assertClose, assertError, get, inferBody, parseRaw, partialRequest, post, type Reply } from './http.js';

const SIZE = FIXTURE_SIZE;
const CLASSES = 37;
const MAX_QUEUE = 8;
const BODY_LIMIT = 2 ** 20;
const photos = ['Abyssinian_12.jpg', 'Bengal_109.jpg'].map((f) => join(SAMPLE_IMAGES, f));

let model: string;
let server: PetsServer;
let url: string;
let port: number;
let reference: NodeClassifier;
/** The two photos preprocessed by the runtime: [2, SIZE, SIZE, 3]. */
let x: Float32Array;
let expected: { probabilities: Float32Array[]; logits: Float32Array[] };

before(async () => {
  model = await writeFixtureModel();
  server = await createServer({
    models: [
      { name: 'pets48', version: '1', path: model },
      { name: 'pets48', version: '2', path: model },
    ],
    maxQueue: MAX_QUEUE,
    bodyLimit: BODY_LIMIT,
    maxPixels: 1_000_000,
    logLevel: 'silent',
  });
  url = await server.listen(0, '127.0.0.1');
  port = Number(new URL(url).port);
  reference = await createClassifier({ model });
  const images = await Promise.all(photos.map((p) => reference.preprocess(p)));
  x = new Float32Array(images.length * images[0].length);
  images.forEach((image, i) => x.set(image, i * image.length));
  const outputs = await reference.infer(x.slice());
  expected = { probabilities: outputs.map((o) => o.probabilities), logits: outputs.map((o) => o.logits as Float32Array) };
});

after(async () => {
  await server?.close();
  await reference?.dispose();
  if (model) await rm(dirname(model), { recursive: true, force: true });
});

const flat = (rows: Float32Array[]) => rows.flatMap((r) => Array.from(r));
const infer = (body: ReturnType<typeof inferBody>, path = '/v2/models/pets48/infer') => post(url + path, body.body, body.headers);

/** After each bad request: a good one still gets the right answer. */
async function assertStillServes(): Promise<void> {
  const reply = await infer(inferBody(x.subarray(0, SIZE * SIZE * 3), 1, SIZE, { outputs: [{ name: 'probabilities' }] }));
  assert.equal(reply.status, 200, JSON.stringify(reply.json));
  const [out] = reply.json.outputs as { data: number[] }[];
  assertClose(out.data, expected.probabilities[0], 1e-6, 'probabilities after a bad request');
}

describe('health and metadata', () => {
  test('live, ready and model ready answer 200 (with the newer spec\'s bodies); an unknown model is 404', async () => {
    assert.deepEqual(await get(`${url}/v2/health/live`).then((r) => [r.status, r.json]), [200, { live: true }]);
    assert.deepEqual(await get(`${url}/v2/health/ready`).then((r) => [r.status, r.json]), [200, { ready: true }]);
    assert.deepEqual(await get(`${url}/v2/models/pets48/ready`).then((r) => [r.status, r.json]), [200, { name: 'pets48', ready: true }]);
    assert.equal((await get(`${url}/v2/models/pets48/versions/1/ready`)).status, 200);
    assertError(await get(`${url}/v2/models/cats/ready`), 404, /Unknown model "cats"/);
    assertError(await get(`${url}/v2/models/pets48/versions/9/ready`), 404, /no version "9". Versions: 1, 2/);
  });

  test('GET /v2 is $metadata_server_response with the extensions', async () => {
    const { status, json } = await get(`${url}/v2`);
    assert.equal(status, 200);
    assert.equal(json.name, 'pets-serve');
    assert.match(json.version as string, /^\d+\.\d+\.\d+/);
    assert.deepEqual(json.extensions, ['binary_tensor_data', 'classification', 'model_configuration']);
  });

  test('GET /v2/models/{name}[/versions/{v}] is $metadata_model_response, with the contract in "parameters"', async () => {
    const { status, json } = await get(`${url}/v2/models/pets48`);
    assert.equal(status, 200);
    assert.deepEqual(Object.keys(json), ['name', 'versions', 'platform', 'inputs', 'outputs', 'parameters']);
    assert.equal(json.name, 'pets48');
    assert.deepEqual(json.versions, ['1', '2']);
    assert.equal(json.platform, 'onnxruntime_onnx');
    assert.deepEqual(json.inputs, [{ name: 'image', datatype: 'FP32', shape: [-1, SIZE, SIZE, 3] }]);
    assert.deepEqual(json.outputs, [
      { name: 'probabilities', datatype: 'FP32', shape: [-1, CLASSES] },
      { name: 'logits', datatype: 'FP32', shape: [-1, CLASSES] },
    ]);
    const contract = parseContract((json.parameters as Record<string, string>)['pets.contract']);
    assert.deepEqual(contract, reference.info.contract);
    assert.deepEqual((await get(`${url}/v2/models/pets48/versions/1`)).json, json);
    assertError(await get(`${url}/v2/models/pets48/versions/3`), 404, /no version "3"/);
  });

  test('GET .../config is Triton\'s model configuration, the contract as a string parameter', async () => {
    const { status, json } = await get(`${url}/v2/models/pets48/config`);
    assert.equal(status, 200);
    assert.equal(json.platform, 'onnxruntime_onnx');
    assert.equal(json.max_batch_size, 16);
    assert.deepEqual(json.input, [{ name: 'image', data_type: 'TYPE_FP32', dims: [String(SIZE), String(SIZE), '3'] }]);
    assert.deepEqual((json.output as { dims: string[] }[]).map((o) => o.dims), [['37'], ['37']]);
    const parameters = json.parameters as Record<string, { string_value: string }>;
    assert.deepEqual(parseContract(parameters['pets.contract'].string_value), reference.info.contract);
  });

  test('GET / names the loaded models; GET /metrics is Prometheus text', async () => {
    const page = await fetch(url);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const html = await page.text();
    assert.match(html, /<td>pets48<\/td><td>1<\/td>/);
    assert.match(html, /<td>pets48<\/td><td>2<\/td>/);
    const metrics = await fetch(`${url}/metrics`);
    assert.match(metrics.headers.get('content-type') ?? '', /text\/plain/);
    assert.match(await metrics.text(), /# TYPE pets_serve_requests_total counter/);
  });
});

describe('inference (POST .../infer)', () => {
  test('JSON tensors: every output, in $inference_response, equal to the runtime on the same tensor', async () => {
    const reply = await infer(inferBody(x, 2, SIZE, { id: 'req-1' }));
    assert.equal(reply.status, 200, JSON.stringify(reply.json));
    assert.match(reply.headers.get('content-type') ?? '', /application\/json/);
    assert.equal(reply.headers.get('inference-header-content-length'), null);
    assert.deepEqual(Object.keys(reply.json), ['model_name', 'model_version', 'id', 'outputs']);
    assert.equal(reply.json.model_name, 'pets48');
    assert.equal(reply.json.model_version, '2', 'without a version the highest one serves');
    assert.equal(reply.json.id, 'req-1');
    const outputs = reply.json.outputs as { name: string; shape: number[]; datatype: string; data: number[] }[];
    assert.deepEqual(outputs.map((o) => [o.name, o.shape, o.datatype]), [['probabilities', [2, CLASSES], 'FP32'], ['logits', [2, CLASSES], 'FP32']]);
    assertClose(outputs[0].data, flat(expected.probabilities), 1e-6, 'probabilities');
    assertClose(outputs[1].data, flat(expected.logits), 1e-5, 'logits');
  });

  test('nested JSON data and a version in the URL give the same answer', async () => {
    const nested = Array.from({ length: 2 }, (_, i) => Array.from({ length: SIZE }, (_, r) => Array.from({ length: SIZE }, (_, c) => Array.from(x.subarray(((i * SIZE + r) * SIZE + c) * 3, ((i * SIZE + r) * SIZE + c) * 3 + 3)))));
    const body = JSON.stringify({ inputs: [{ name: 'image', shape: [2, SIZE, SIZE, 3], datatype: 'FP32', data: nested }], outputs: [{ name: 'probabilities' }] });
    const reply = await post(`${url}/v2/models/pets48/versions/1/infer`, body, { 'content-type': 'application/json' });
    assert.equal(reply.status, 200, JSON.stringify(reply.json));
    assert.equal(reply.json.model_version, '1');
    assert.equal(reply.json.id, undefined, 'no id in the response when the request had none');
    assertClose((reply.json.outputs as { data: number[] }[])[0].data, flat(expected.probabilities), 1e-6, 'probabilities');
  });

  test('binary tensor data in, one output binary and one JSON out (Inference-Header-Content-Length)', async () => {
    const reply = await infer(inferBody(x, 2, SIZE, { binary: true, outputs: [{ name: 'probabilities', parameters: { binary_data: true } }, { name: 'logits' }] }));
    assert.equal(reply.status, 200, JSON.stringify(reply.json));
    assert.equal(reply.headers.get('content-type'), 'application/octet-stream');
    const [probabilities, logits] = reply.json.outputs as { name: string; shape: number[]; datatype: string; data?: number[]; parameters?: { binary_data_size: number } }[];
    assert.deepEqual(probabilities, { name: 'probabilities', shape: [2, CLASSES], datatype: 'FP32', parameters: { binary_data_size: 2 * CLASSES * 4 } });
    assert.equal(reply.binary.length, 2 * CLASSES * 4);
    const values = new Float32Array(new Uint8Array(reply.binary).buffer);
    assertClose(values, flat(expected.probabilities), 1e-6, 'binary probabilities');
    assertClose(logits.data as number[], flat(expected.logits), 1e-5, 'JSON logits');
  });

  test('"binary_data_output": true makes every output binary, in the order of the JSON', async () => {
    const reply = await infer(inferBody(x, 2, SIZE, { binary: true, parameters: { binary_data_output: true } }));
    assert.equal(reply.status, 200, JSON.stringify(reply.json));
    const outputs = reply.json.outputs as { name: string; parameters: { binary_data_size: number }; data?: unknown }[];
    assert.deepEqual(outputs.map((o) => [o.name, o.parameters.binary_data_size, o.data]), [['probabilities', 296, undefined], ['logits', 296, undefined]]);
    const values = new Float32Array(new Uint8Array(reply.binary).buffer);
    assertClose(values.subarray(0, 74), flat(expected.probabilities), 1e-6, 'probabilities');
    assertClose(values.subarray(74), flat(expected.logits), 1e-5, 'logits');
  });

  test('classification extension: BYTES [batch, k] of "value:index:label", the runtime\'s ranking', async () => {
    const reply = await infer(inferBody(x, 2, SIZE, { outputs: [{ name: 'probabilities', parameters: { classification: 3 } }] }));
    assert.equal(reply.status, 200, JSON.stringify(reply.json));
    const [out] = reply.json.outputs as { name: string; shape: number[]; datatype: string; data: string[] }[];
    assert.deepEqual([out.name, out.shape, out.datatype], ['probabilities', [2, 3], 'BYTES']);
    const labels = reference.info.labels;
    for (let i = 0; i < 2; i++) {
      const top = await reference.classify(await readFile(photos[i]), { topK: 3 });
      out.data.slice(i * 3, i * 3 + 3).forEach((text, j) => {
        const [value, index, ...label] = text.split(':');
        assert.equal(Number(index), top[j].index);
        assert.equal(label.join(':'), labels[top[j].index]);
        assert.ok(Math.abs(Number(value) - top[j].probability) <= 1e-6, `${text} vs ${top[j].probability}`);
      });
    }
    // The same strings as binary BYTES elements.
    const binary = await infer(inferBody(x, 2, SIZE, { outputs: [{ name: 'probabilities', parameters: { classification: 3, binary_data: true } }] }));
    const strings: string[] = [];
    for (let at = 0; at < binary.binary.length; ) {
      const length = binary.binary.readUInt32LE(at);
      strings.push(binary.binary.subarray(at + 4, at + 4 + length).toString('utf8'));
      at += 4 + length;
    }
    assert.deepEqual(strings, out.data);
  });
});

describe('the image endpoint (POST .../classify)', () => {
  test('raw bytes and a multipart file give classify()\'s predictions within 1e-6', async () => {
    for (const photo of photos) {
      const bytes = await readFile(photo);
      const want = await reference.classify(bytes);
      const raw = await post(`${url}/v2/models/pets48/classify`, bytes, { 'content-type': 'image/jpeg' });
      const form = new FormData();
      form.append('image', new Blob([bytes], { type: 'image/jpeg' }), 'photo.jpg');
      const multipart = await post(`${url}/v2/models/pets48/versions/1/classify`, form);
      for (const reply of [raw, multipart]) {
        assert.equal(reply.status, 200, JSON.stringify(reply.json));
        const got = reply.json.predictions as { label: string; probability: number; index: number }[];
        assert.deepEqual(got.map((p) => [p.label, p.index]), want.map((p) => [p.label, p.index]));
        assertClose(got.map((p) => p.probability), want.map((p) => p.probability), 1e-6, 'probabilities');
      }
      assert.equal(multipart.json.model_version, '1');
    }
  });

  test('?top=K and ?all=true', async () => {
    const bytes = await readFile(photos[0]);
    assert.equal(((await post(`${url}/v2/models/pets48/classify?top=2`, bytes)).json.predictions as unknown[]).length, 2);
    const all = (await post(`${url}/v2/models/pets48/classify?all=true`, bytes)).json.predictions as { probability: number }[];
    assert.equal(all.length, CLASSES);
    assert.ok(Math.abs(all.reduce((s, p) => s + p.probability, 0) - 1) < 1e-5);
    assertError(await post(`${url}/v2/models/pets48/classify?top=0`, bytes), 400, /"top" must be a positive integer/);
  });
});

describe('BAD CALL - each bad request gets the protocol\'s error and the next request is served', () => {
  const image = () => x.subarray(0, SIZE * SIZE * 3);
  const cases: [string, () => Promise<Reply>, number, RegExp][] = [
    ['malformed JSON', () => post(`${url}/v2/models/pets48/infer`, '{"inputs": [', { 'content-type': 'application/json' }), 400, /not valid JSON/],
    ['an empty body', () => post(`${url}/v2/models/pets48/infer`, '', { 'content-type': 'application/json' }), 400, /body is empty/],
    ['no inputs', () => post(`${url}/v2/models/pets48/infer`, '{"outputs": []}', { 'content-type': 'application/json' }), 400, /"inputs" must be a non-empty array/],
    ['a wrong shape', () => infer(inferBody(new Float32Array(32 * 32 * 3), 1, 32)), 400, /shape \[1, 32, 32, 3\]; model "pets48" expects \[N, 48, 48, 3\]/],
    ['a wrong datatype', () => post(`${url}/v2/models/pets48/infer`, JSON.stringify({ inputs: [{ name: 'image', shape: [1, SIZE, SIZE, 3], datatype: 'FP64', data: Array.from(image()) }] })), 400, /datatype FP64; model "pets48" expects FP32/],
    ['too few elements', () => post(`${url}/v2/models/pets48/infer`, JSON.stringify({ inputs: [{ name: 'image', shape: [1, SIZE, SIZE, 3], datatype: 'FP32', data: [1, 2, 3] }] })), 400, /has 3 elements; its shape needs 6912/],
    ['an unknown input', () => post(`${url}/v2/models/pets48/infer`, JSON.stringify({ inputs: [{ name: 'pixels', shape: [1], datatype: 'FP32', data: [1] }] })), 400, /Unexpected input "pixels".*only input is "image"/],
    ['an unknown output', () => infer(inferBody(image(), 1, SIZE, { outputs: [{ name: 'scores' }] })), 400, /Unknown output "scores".*Outputs: probabilities, logits/],
    ['binary data the sizes do not account for', () => post(`${url}/v2/models/pets48/infer`, Buffer.concat([Buffer.from('{"inputs":[]}'), Buffer.alloc(8)]), { 'inference-header-content-length': '14' }), 400, /./],
    ['an unknown model', () => infer(inferBody(image(), 1, SIZE), '/v2/models/cats/infer'), 404, /Unknown model "cats". Loaded: pets48/],
    ['an unknown version', () => infer(inferBody(image(), 1, SIZE), '/v2/models/pets48/versions/7/infer'), 404, /no version "7"/],
    ['an undecodable image', () => post(`${url}/v2/models/pets48/classify`, Buffer.from('not an image at all'), { 'content-type': 'image/jpeg' }), 400, /./],
    ['an empty image', () => post(`${url}/v2/models/pets48/classify`, Buffer.alloc(0), { 'content-type': 'image/jpeg' }), 400, /body is empty/],
    ['an image over --max-pixels', async () => post(`${url}/v2/models/pets48/classify`, await sharp({ create: { width: 1200, height: 1000, channels: 3, background: '#808080' } }).png().toBuffer()), 400, /1000000|limit/],
    ['a body over the limit', () => post(`${url}/v2/models/pets48/classify`, Buffer.alloc(BODY_LIMIT + 1, 1)), 413, /larger than the limit of 1048576 bytes/],
    ['a multipart file over the limit', () => {
      const form = new FormData();
      form.append('image', new Blob([Buffer.alloc(BODY_LIMIT + 10, 1)]), 'big.jpg');
      return post(`${url}/v2/models/pets48/classify`, form);
    }, 413, /larger than the limit/],
    ['a malformed multipart form', () => post(`${url}/v2/models/pets48/classify`, '--abc\r\nxx', { 'content-type': 'multipart/form-data; boundary=abc' }), 400, /Malformed multipart form/],
    ['a URL that does not decode', () => post(`${url}/v2/models/%E0%A4%A/infer`, '{}'), 400, /not a valid url component/],
    ['more images than the queue admits', () => infer(inferBody(new Float32Array((MAX_QUEUE + 1) * SIZE * SIZE * 3), MAX_QUEUE + 1, SIZE, { binary: true })), 413, /holds 9 images; the server admits at most 8/],
    ['an unknown endpoint', () => get(`${url}/v2/models/pets48/explain`), 404, /No such endpoint: GET \/v2\/models\/pets48\/explain/],
  ];
  for (const [name, send, status, message] of cases) {
    test(`${name}: ${status}`, async () => {
      assertError(await send(), status, message);
      await assertStillServes();
    });
  }

  test('a client that stops sending its body: 408 with the error object, then the next request is served', async () => {
    const body = Buffer.from(JSON.stringify({ inputs: [{ name: 'image', shape: [1, SIZE, SIZE, 3], datatype: 'FP32', data: Array.from(image()) }] }));
    // A server of its own with a short --timeout, so that the other tests never meet it on a busy machine.
    const impatient = await createServer({ models: [{ name: 'pets48', version: '1', path: model }], timeoutMs: 1000, logLevel: 'silent' });
    try {
      const at = Number(new URL(await impatient.listen(0, '127.0.0.1')).port);
      const { response } = partialRequest(at, '/v2/models/pets48/infer', body, 100, { 'Content-Type': 'application/json' });
      const { status, json } = parseRaw(await response);
      assert.equal(status, 408);
      assert.match(json.error as string, /did not arrive in time/);
      const good = inferBody(image(), 1, SIZE, { outputs: [{ name: 'probabilities' }] });
      const reply = await post(`http://127.0.0.1:${at}/v2/models/pets48/infer`, good.body, good.headers);
      assert.equal(reply.status, 200);
      assertClose((reply.json.outputs as { data: number[] }[])[0].data, expected.probabilities[0], 1e-6, 'probabilities after a slow client');
    } finally {
      await impatient.close();
    }
  });
});

describe('load', () => {
  const image = () => x.subarray(0, SIZE * SIZE * 3);
  test('overload: every request is answered 200 or 503 with Retry-After, none lost, and the queue drains', async () => {
    const four = new Float32Array(2 * x.length);
    four.set(x);
    four.set(x, x.length);
    const { body, headers } = inferBody(four, 4, SIZE, { binary: true, outputs: [{ name: 'probabilities', parameters: { classification: 1 } }] });
    // Every client sends all but the last bytes, then all complete at once: far more images arrive
    // together than --max-queue admits.
    const clients = Array.from({ length: 24 }, () => partialRequest(port, '/v2/models/pets48/infer', body, body.length - 8, headers));
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const client of clients) client.finish();
    const replies = (await Promise.all(clients.map((c) => c.response))).map((text) => ({ text, ...parseRaw(text) }));
    const statuses = new Map<number, number>();
    for (const r of replies) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    assert.deepEqual([...statuses.keys()].filter((s) => s !== 200 && s !== 503), [], `statuses: ${JSON.stringify([...statuses])}`);
    assert.equal(replies.length, 24);
    for (const r of replies.filter((r) => r.status === 503)) {
      assert.match(r.text, /\r\nretry-after: 1\r\n/i);
      assert.match(r.json.error as string, /busy/);
    }
    assert.ok((statuses.get(200) ?? 0) > 0, `some requests were served: ${JSON.stringify([...statuses])}`);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, /^pets_serve_queue_depth 0$/m);
    await assertStillServes();
  });

  test('a full queue answers 503 with Retry-After at once, and serves again once it drains', async () => {
    // The model's runs are held until the test lets them go, so that the queue is full for certain.
    const engine = server.context.models.get('pets48').classifier;
    const infer1 = engine.infer;
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    engine.infer = async (input) => {
      await gate;
      return infer1.call(engine, input);
    };
    try {
      const four = inferBody(new Float32Array(4 * SIZE * SIZE * 3), 4, SIZE, { binary: true });
      const held = [infer(four), infer(four)];
      for (let tries = 0; server.context.admission.depth < MAX_QUEUE; tries++) {
        assert.ok(tries < 3000, `the held requests fill the queue (depth ${server.context.admission.depth})`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const refused = await Promise.all([infer(four), infer(inferBody(image(), 1, SIZE)), post(`${url}/v2/models/pets48/classify`, await readFile(photos[0]))]);
      for (const reply of refused) {
        assertError(reply, 503, /The server is busy: 8 images are queued \(limit 8\)/);
        assert.equal(reply.headers.get('retry-after'), '1');
      }
      release();
      assert.deepEqual((await Promise.all(held)).map((r) => r.status), [200, 200]);
    } finally {
      release();
      engine.infer = infer1;
    }
    await assertStillServes();
  });

  test('/metrics counts requests by route and status, with a latency histogram', async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    assert.match(text, /pets_serve_requests_total\{route="\/v2\/models\/:name\/infer",method="POST",status="200"\} \d+/);
    assert.match(text, /pets_serve_requests_total\{route="\/v2\/models\/:name\/infer",method="POST",status="400"\} \d+/);
    assert.match(text, /pets_serve_requests_total\{route="\/v2\/models\/:name\/classify",method="POST",status="413"\} \d+/);
    assert.match(text, /pets_serve_request_duration_seconds_bucket\{le="0.1",route="\/v2\/models\/:name\/infer"\} \d+/);
    assert.match(text, /pets_serve_process_resident_memory_bytes \d+/);
  });
});
