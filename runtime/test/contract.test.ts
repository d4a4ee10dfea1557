// Unit tests for the model input contract (src/contract.ts): defaults, JSON round trip, validation of
// every field, and the purity fence (the module must stay importable from train, export and browsers).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CONTRACT_VERSION,
  DEFAULT_IMAGE_SIZE,
  ModelContractError,
  RESIZE_METHODS,
  checkOutputWidth,
  createContract,
  inputShape,
  parseContract,
  serializeContract,
  validateContract,
  type ModelContract,
} from '../src/contract.js';

const LABELS = ['abyssinian', 'beagle', 'sphynx'];

/** A valid contract as plain JSON data, for tests to break one field at a time. */
function validJson(): Record<string, unknown> {
  return JSON.parse(serializeContract(createContract({ labels: LABELS }))) as Record<string, unknown>;
}

function assertContractError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ModelContractError, `expected ModelContractError, got ${String(error)}`);
    assert.equal(error.name, 'ModelContractError');
    assert.match(error.message, pattern);
    return true;
  });
}

describe('createContract', () => {
  it('fills the reference defaults', () => {
    const contract = createContract({ labels: LABELS });
    assert.equal(contract.version, CONTRACT_VERSION);
    assert.deepEqual(contract.imageSize, { height: DEFAULT_IMAGE_SIZE, width: DEFAULT_IMAGE_SIZE });
    assert.equal(contract.layout, 'NHWC');
    assert.equal(contract.channelOrder, 'RGB');
    // Stated tolerance: 1/255 is not exact in binary; anything within 1e-12 is the same scale.
    assert.ok(Math.abs(contract.normalization.scale - 1 / 255) < 1e-12, `scale ${contract.normalization.scale}`);
    assert.deepEqual(contract.normalization.mean, [0, 0, 0]);
    assert.deepEqual(contract.normalization.std, [1, 1, 1]);
    assert.equal(contract.resize, 'bilinear-antialias');
    assert.ok(RESIZE_METHODS.includes(contract.resize));
    assert.deepEqual(contract.alphaBackground, [255, 255, 255]);
    assert.equal(contract.exifOrientation, 'apply');
    assert.deepEqual(contract.labels, LABELS);
  });

  it('accepts a square side or a height/width pair', () => {
    assert.deepEqual(createContract({ labels: LABELS, imageSize: 96 }).imageSize, { height: 96, width: 96 });
    assert.deepEqual(createContract({ labels: LABELS, imageSize: { height: 120, width: 80 } }).imageSize, {
      height: 120,
      width: 80,
    });
  });

  it('keeps given normalization and background', () => {
    const normalization = { scale: 1 / 127.5, mean: [1, 1, 1] as [number, number, number], std: [1, 1, 1] as [number, number, number] };
    const contract = createContract({ labels: LABELS, normalization, alphaBackground: [0, 10, 20] });
    assert.deepEqual(contract.normalization, normalization);
    assert.deepEqual(contract.alphaBackground, [0, 10, 20]);
  });

  it('copies its inputs, so later edits by the caller do not change the contract', () => {
    const labels = [...LABELS];
    const imageSize = { height: 32, width: 48 };
    const contract = createContract({ labels, imageSize });
    labels.push('extra');
    imageSize.height = 1;
    assert.deepEqual(contract.labels, LABELS);
    assert.equal(contract.imageSize.height, 32);
  });

  it('BAD CALL - createContract with one label', () => {
    assertContractError(() => createContract({ labels: ['cat'] }), /"labels".*at least 2/);
  });

  it('BAD CALL - createContract with imageSize 0', () => {
    assertContractError(() => createContract({ labels: LABELS, imageSize: 0 }), /"imageSize\.height"/);
  });
});

describe('serializeContract / parseContract', () => {
  it('round-trips to an equal contract', () => {
    const contract = createContract({
      labels: ['b', 'a', 'c d', 'é'],
      imageSize: { height: 100, width: 150 },
      normalization: { scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
      alphaBackground: [1, 2, 3],
    });
    const text = serializeContract(contract);
    assert.ok(text.endsWith('\n'));
    const back = parseContract(text);
    assert.deepEqual(back, contract);
    assert.equal(serializeContract(back), text);
  });

  it('drops unknown fields when validating', () => {
    const json = { ...validJson(), extra: 'ignored' };
    assert.equal('extra' in validateContract(json), false);
  });

  it('BAD CALL - parseContract of invalid JSON', () => {
    assertContractError(() => parseContract('{"version": 1,'), /^Model contract is not valid JSON: /);
  });

  it('BAD CALL - parseContract of JSON that is not an object', () => {
    assertContractError(() => parseContract('[1, 2]'), /must be an object/);
    assertContractError(() => parseContract('null'), /must be an object/);
  });

  it('BAD CALL - serializeContract of an invalid contract', () => {
    const broken = { ...createContract({ labels: LABELS }), labels: ['only'] } as ModelContract;
    assertContractError(() => serializeContract(broken), /"labels"/);
  });
});

describe('validateContract', () => {
  it('accepts a valid contract', () => {
    assert.deepEqual(validateContract(validJson()), createContract({ labels: LABELS }));
  });

  // Each case breaks one field of a valid contract; the message must name that field.
  const cases: Array<[string, (json: Record<string, unknown>) => void, RegExp]> = [
    ['wrong version', (j) => (j.version = CONTRACT_VERSION + 1), /contract version 2\. Expected 1/],
    ['version as a string', (j) => (j.version = '1'), /contract version "1"/],
    ['missing version', (j) => delete j.version, /contract version undefined/],
    ['imageSize not an object', (j) => (j.imageSize = 224), /"imageSize" must be \{ height, width \}/],
    ['imageSize.height 0', (j) => (j.imageSize = { height: 0, width: 8 }), /"imageSize\.height".*\[1, 8192\]; got 0/],
    ['imageSize.width fractional', (j) => (j.imageSize = { height: 8, width: 7.5 }), /"imageSize\.width".*got 7\.5/],
    ['imageSize.width too large', (j) => (j.imageSize = { height: 8, width: 8193 }), /"imageSize\.width".*got 8193/],
    ['imageSize.height a string', (j) => (j.imageSize = { height: '8', width: 8 }), /"imageSize\.height".*got "8"/],
    ['layout NCHW', (j) => (j.layout = 'NCHW'), /layout "NCHW"\. Expected one of: NHWC/],
    ['channel order BGR', (j) => (j.channelOrder = 'BGR'), /channel order "BGR"\. Expected one of: RGB/],
    ['normalization missing', (j) => delete j.normalization, /"normalization"/],
    ['normalization.scale 0', (j) => ((j.normalization as Record<string, unknown>).scale = 0), /"normalization"/],
    ['normalization.std 0', (j) => ((j.normalization as Record<string, unknown>).std = [1, 0, 1]), /"normalization\.std".*positive/],
    ['normalization.std negative', (j) => ((j.normalization as Record<string, unknown>).std = [1, 1, -1]), /"normalization\.std"/],
    ['normalization.mean of 2', (j) => ((j.normalization as Record<string, unknown>).mean = [0, 0]), /"normalization\.mean".*3 finite/],
    ['normalization.mean NaN', (j) => ((j.normalization as Record<string, unknown>).mean = [0, NaN, 0]), /"normalization\.mean"/],
    ['resize method nearest', (j) => (j.resize = 'nearest'), /resize method "nearest"\. Expected one of: bilinear-antialias/],
    ['alphaBackground 256', (j) => (j.alphaBackground = [0, 0, 256]), /"alphaBackground".*integers in \[0, 255\]/],
    ['alphaBackground -1', (j) => (j.alphaBackground = [-1, 0, 0]), /"alphaBackground"/],
    ['alphaBackground fractional', (j) => (j.alphaBackground = [0, 0.5, 0]), /"alphaBackground"/],
    ['alphaBackground of 4', (j) => (j.alphaBackground = [0, 0, 0, 0]), /"alphaBackground"/],
    ['exifOrientation ignore', (j) => (j.exifOrientation = 'ignore'), /exifOrientation "ignore"/],
    ['labels fewer than 2', (j) => (j.labels = ['cat']), /"labels" must list at least 2/],
    ['labels empty', (j) => (j.labels = []), /"labels" must list at least 2/],
    ['labels not an array', (j) => (j.labels = 'cat,dog'), /"labels"/],
    ['labels with a non-string', (j) => (j.labels = ['cat', 7]), /"labels" must list at least 2 non-empty names/],
    ['labels with an empty name', (j) => (j.labels = ['cat', '']), /"labels"/],
    ['labels with duplicates', (j) => (j.labels = ['cat', 'dog', 'cat']), /"labels" has duplicate names/],
  ];
  for (const [what, breakIt, pattern] of cases) {
    it(`BAD CALL - validateContract with ${what}`, () => {
      const json = validJson();
      breakIt(json);
      assertContractError(() => validateContract(json), pattern);
      // The same failure through the JSON path (NaN does not survive JSON, so skip that one there).
      if (!what.includes('NaN')) assertContractError(() => parseContract(JSON.stringify(json)), pattern);
    });
  }

  it('BAD CALL - validateContract of a non-object', () => {
    for (const value of [undefined, null, 1, 'contract', [validJson()]]) {
      assertContractError(() => validateContract(value), /must be an object/);
    }
  });
});

describe('inputShape / checkOutputWidth', () => {
  it('inputShape is [batch, height, width, 3]', () => {
    const contract = createContract({ labels: LABELS, imageSize: { height: 120, width: 80 } });
    assert.deepEqual(inputShape(contract, 5), [5, 120, 80, 3]);
    assert.deepEqual(inputShape(contract, 1), [1, 120, 80, 3]);
  });

  it('checkOutputWidth accepts the label count', () => {
    assert.doesNotThrow(() => checkOutputWidth(createContract({ labels: LABELS }), LABELS.length));
  });

  it('BAD CALL - checkOutputWidth with a mismatched width', () => {
    const contract = createContract({ labels: LABELS });
    assertContractError(() => checkOutputWidth(contract, 37), /Model outputs 37 classes but its contract lists 3 labels/);
  });
});

/** Finds a source file whether this test runs from test/ (tsx) or dist/test/ (compiled). */
function sourceText(relative: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const candidate = join(dir, '..', 'src', relative);
    if (existsSync(candidate)) return readFileSync(candidate, 'utf8');
    dir = dirname(dir);
  }
  throw new Error(`cannot find src/${relative} above ${fileURLToPath(import.meta.url)}`);
}

/** Module specifiers of static imports, re-exports, dynamic imports and require() calls. */
function importedModules(source: string): string[] {
  const patterns = [
    /^\s*(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/gm,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\bimport\s*\(\s*['"]([^'"]+)['"]/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]/g,
  ];
  return patterns.flatMap((pattern) => [...source.matchAll(pattern)].map((m) => m[1]));
}

describe('purity fence', () => {
  it('finds imports with the regex it relies on', () => {
    const sample = "import sharp from 'sharp';\nimport type { X } from \"node:fs\";\nexport { y } from './y.js';\nimport './side.js';\n";
    assert.deepEqual(importedModules(sample).sort(), ['./side.js', './y.js', 'node:fs', 'sharp']);
  });

  for (const file of ['contract.ts', 'preprocess.ts']) {
    it(`src/${file} imports no platform module`, () => {
      const forbidden = /^(node:|onnxruntime|@tensorflow|sharp)/;
      const builtins = new Set(builtinModules);
      for (const specifier of importedModules(sourceText(file))) {
        assert.doesNotMatch(specifier, forbidden, `${file} imports ${specifier}`);
        assert.equal(builtins.has(specifier.split('/')[0]), false, `${file} imports Node built-in ${specifier}`);
      }
    });
  }
});
