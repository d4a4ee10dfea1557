// Bring your own model, on models nobody here wrote: the three classifiers of the nsfwjs npm package
// (a Keras MobileNetV2 Layers model, a MobileNetV2 graph model, an InceptionV3 Layers model), unpacked from
// their JavaScript wrappers, each exported once by pets-export --tfjs (verified against tfjs within 1e-5),
// then proven by pets-parity --tfjs. To fit the CI budget, webgpu (Chromium's software adapter, slow) runs
// here on the two MobileNetV2 models (Layers and graph, one photo each); InceptionV3 (299x299, 2 photos)
// runs on cpu and web-wasm, since its webgpu run alone takes 77 s on a 2-core machine. All three on all
// three runtimes is the documented command of docs/byo-model.md, with its measured results.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkOnnxModel, decodeModel, exportTfjsModel, type ExportTfjsResult } from '@pets/export';
import { runBin, SAMPLE } from './src/cli-run.js';
import { NSFWJS_LABELS, NSFWJS_MODELS, unpackNsfwjsModel, type NsfwjsModel } from './src/nsfwjs-models.js';
import { CHROMIUM_PATH } from './src/parity/browser.js';
import { runTfjsParity } from './src/parity/run-parity-tfjs.js';
import type { ParityProvider } from './src/parity/run-parity.js';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'pets-nsfwjs-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const IMAGES = join(SAMPLE, 'images');
const PLAN: Record<NsfwjsModel['name'], { providers: ParityProvider[]; limit: number }> = {
  mobilenet_v2: { providers: ['cpu', 'web-wasm', 'webgpu'], limit: 4 },
  mobilenet_v2_mid: { providers: ['cpu', 'web-wasm', 'webgpu'], limit: 4 },
  inception_v3: { providers: ['cpu', 'web-wasm'], limit: 2 },
};

for (const model of NSFWJS_MODELS) {
  describe(`nsfwjs ${model.title} (${model.format} model, ${model.imageSize}x${model.imageSize})`, () => {
    const dir = () => join(root, model.name);
    const onnx = () => join(root, `${model.name}.onnx`);
    let exported: ExportTfjsResult;
    before(async () => {
      const modelJson = await unpackNsfwjsModel(model, dir());
      exported = await exportTfjsModel({ tfjs: modelJson, out: onnx(), labels: join(dir(), 'labels.txt'), normalize: 'unit', verifyImages: 2 });
    });

    test('exports with its labels and size, verified against tfjs within 1e-5', () => {
      assert.equal(exported.format, model.format);
      assert.deepEqual(exported.contract.labels, NSFWJS_LABELS);
      assert.deepEqual(exported.contract.imageSize, { height: model.imageSize, width: model.imageSize });
      assert.ok(exported.verification.passed && exported.verification.maxAbsDiff <= 1e-5, `max |Δp| ${exported.verification.maxAbsDiff}`);
      assert.equal(exported.verification.top1Agree, exported.verification.images);
    });

    test('the file passes the ONNX checker rules', async () => {
      checkOnnxModel(decodeModel(new Uint8Array(await readFile(onnx()))));
    });

    const { providers, limit } = PLAN[model.name];
    test(`pets-parity --tfjs passes on ${providers.join(', ')}`, async () => {
      const report = await runTfjsParity({ tfjs: dir(), model: onnx(), images: IMAGES, providers, limit, webgpuLimit: 1 });
      assert.equal(report.images, limit);
      for (const p of providers) {
        const row = report.providers.find((r) => r.provider === p);
        assert.ok(row, p);
        if (p === 'webgpu' && row.status === 'skipped') continue; // no Chromium: reported with the reason
        assert.equal(row.status, 'pass', `${p}: ${row.reason ?? ''}`);
        assert.ok(row.maxAbsProbability <= row.tolerance.maxAbsProbability, `${p} max |Δp| ${row.maxAbsProbability}`);
      }
    });
  });
}

describe('the runtime on a foreign export', () => {
  const model = () => join(root, 'mobilenet_v2_mid.onnx');
  test('pets-classify names the nsfwjs labels from the contract (5 classes, not 37)', () => {
    const classify = runBin('pets-classify', '--model', model(), '--top', '5', join(IMAGES, 'Bengal_109.jpg'));
    assert.equal(classify.code, 0, classify.stderr);
    for (const label of NSFWJS_LABELS) assert.match(classify.stdout, new RegExp(`%\\s+${label}$`, 'm'));
  });

  test('pets-parity e2e: Node and Chromium agree on the photo files', { skip: existsSync(CHROMIUM_PATH) ? false : `no Chromium at ${CHROMIUM_PATH}` }, () => {
    const e2e = runBin('pets-parity', 'e2e', '--model', model(), '--images', IMAGES, '--limit', '2');
    assert.equal(e2e.code, 0, `${e2e.stdout}\n${e2e.stderr}`);
    assert.match(e2e.stdout, /^PASS$/m);
  });
});
