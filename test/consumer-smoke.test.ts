// Each package imported the way a user imports it, in a fresh process: the exports resolve, the
// entries have their documented API, and nothing is printed on stderr.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));

function importInFreshProcess(code: string) {
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: repo, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout.trim(), stderr: result.stderr };
}

test('@pets/runtime (Node entry) exports classify and createClassifier, stderr clean', () => {
  const r = importInFreshProcess(
    "import { classify, createClassifier, createRemoteClassifier, ImageDecodeError, ModelContractError, ExecutionProviderError, RemoteInferenceError } from '@pets/runtime'; console.log([classify, createClassifier, createRemoteClassifier, ImageDecodeError, ModelContractError, ExecutionProviderError, RemoteInferenceError].map((f) => typeof f).join(','))",
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'function,function,function,function,function,function,function');
  assert.equal(r.stderr, '');
});

test('@pets/runtime/web and /node subpaths resolve to the two entries', () => {
  const r = importInFreshProcess(
    "import * as web from '@pets/runtime/web'; import * as node from '@pets/runtime/node'; console.log(web.WEB_PROVIDERS.join('+'), node.NODE_PROVIDERS.join('+'))",
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'webgpu+wasm cuda+cpu');
  assert.equal(r.stderr, '');
});

test('@pets/runtime/contract is pure: importing it loads no onnxruntime, sharp or tfjs', () => {
  const r = importInFreshProcess(
    "import { createContract } from '@pets/runtime/contract'; import { createRequire } from 'node:module'; const c = createContract({ labels: ['a', 'b'] }); const loaded = Object.keys(createRequire(import.meta.url).cache); console.log(c.imageSize.width, loaded.filter((p) => /onnxruntime|sharp|tensorflow/.test(p)).length)",
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '224 0');
  assert.equal(r.stderr, '');
});

test('@pets/train exports train() and loads without printing', () => {
  const r = importInFreshProcess("import { train, evaluateRun, PRESETS } from '@pets/train'; console.log(typeof train, typeof evaluateRun, Object.keys(PRESETS).length)");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'function function 7');
  assert.equal(r.stderr, '');
});

test('@pets/serve exports createServer() and loads without printing', () => {
  const r = importInFreshProcess("import { createServer, parseModelSpec } from '@pets/serve'; console.log(typeof createServer, parseModelSpec('models/m5.onnx').name)");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'function m5');
  assert.equal(r.stderr, '');
});
