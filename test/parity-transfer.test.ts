// The parity suite on transfer models (a pretrained backbone with pets' head): each bundled backbone is
// trained briefly on the bundled sample, exported in fp32 and fp16, and run through pets-parity on every
// provider (cpu, web-wasm, webgpu in Chromium; cuda reported as skipped where it cannot run).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decodeModel } from '@pets/export';
import { ONNX_METADATA_KEYS } from '@pets/runtime/contract';
import type { ProviderReport } from './src/parity/compare.js';
import type { ParityReport } from './src/parity/run-parity.js';
import { runBin, SAMPLE } from './src/cli-run.js';

const sample = SAMPLE;
const run = runBin;

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'pets-parity-transfer-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function parity(runDir: string, model: string, ...args: string[]): Promise<ParityReport> {
  const json = join(root, `${model.replace(/\W/g, '_')}.json`);
  const result = run('pets-parity', '--run', runDir, '--model', model, '--json', json, ...args);
  assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
  return JSON.parse(await readFile(json, 'utf8')) as ParityReport;
}

const by = (report: ParityReport, provider: string) => report.providers.find((r) => r.provider === provider) as ProviderReport;

for (const [preset, size] of [['mobilenet', '128'], ['darknet', '96']] as const) {
  describe(`pets-parity on a ${preset} transfer model`, () => {
    const runDir = () => join(root, preset);
    const model = (suffix: string) => join(root, `${preset}${suffix}.onnx`);

    before(() => {
      const trained = run('pets-train', '--data', sample, '--out', runDir(), '--preset', preset, '--image-size', size, '--epochs', '4', '--learning-rate', '0.001', '--cache-dir', join(root, 'cache'));
      assert.equal(trained.code, 0, trained.stderr);
      for (const [suffix, extra] of [['', []], ['-fp16', ['--fp16']]] as const) {
        const exported = run('pets-export', '--run', runDir(), '--out', model(suffix), ...extra);
        assert.equal(exported.code, 0, exported.stderr);
      }
    });

    test('fp32: cpu and web-wasm within 1e-5 on the test split, webgpu within 1e-4, cuda skipped with a reason', async () => {
      const report = await parity(runDir(), model(''), '--webgpu-limit', '2');
      for (const p of ['cpu', 'web-wasm']) {
        assert.equal(by(report, p).status, 'pass', p);
        assert.equal(by(report, p).images, 74);
        assert.ok(by(report, p).maxAbsProbability <= 1e-5, `${p} max |Δp| ${by(report, p).maxAbsProbability}`);
        assert.equal(by(report, p).top1Agreement, 1);
      }
      assert.equal(by(report, 'webgpu').status, 'pass', by(report, 'webgpu').reason);
      assert.ok(by(report, 'webgpu').maxAbsProbability <= 1e-4);
      assert.equal(by(report, 'cuda').status, 'skipped');
      const onnx = decodeModel(new Uint8Array(await readFile(model(''))));
      const provenance = JSON.parse(onnx.metadata_props.find((p) => p.key === ONNX_METADATA_KEYS.provenance)?.value ?? '{}');
      assert.equal(provenance.preset, preset);
      assert.equal(provenance.backbone?.spec, preset === 'mobilenet' ? 'mobilenet_v1_0.75_224' : 'darknet-tiny');
      assert.match(provenance.backbone?.sha256 ?? '', /^[0-9a-f]{64}$/);
      const contract = JSON.parse(onnx.metadata_props.find((p) => p.key === ONNX_METADATA_KEYS.contract)?.value ?? '{}');
      assert.deepEqual(contract.imageSize, { height: Number(size), width: Number(size) });
      assert.equal(contract.normalization.scale, preset === 'mobilenet' ? 1 / 127.5 : 1 / 255, 'the backbone decides the normalization');
    });

    test('fp16: every provider within the fp16 limit (webgpu where the adapter has shader-f16)', async () => {
      const report = await parity(runDir(), model('-fp16'), '--webgpu-limit', '2', '--limit', '37');
      const webgpu = by(report, 'webgpu');
      // Chromium's software adapter (SwiftShader) has no shader-f16: then webgpu is skipped, with that reason.
      const providers = webgpu.status === 'skipped' && /shader-f16/.test(webgpu.reason ?? '') ? ['cpu', 'web-wasm'] : ['cpu', 'web-wasm', 'webgpu'];
      for (const p of providers) {
        const row = by(report, p);
        assert.equal(row.status, 'pass', `${p}: ${row.reason ?? ''}`);
        assert.ok(row.maxAbsProbability <= row.tolerance.maxAbsProbability, `${p} max |Δp| ${row.maxAbsProbability} vs ${row.tolerance.maxAbsProbability}`);
      }
    });
  });
}
