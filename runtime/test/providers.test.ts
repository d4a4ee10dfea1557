// openFirstUsable(): provider order, reasons, and sessions that load but compute garbage.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SessionLike } from '../src/classifier.js';
import { ModelContractError } from '../src/contract.js';
import { checkProviders, openFirstUsable } from '../src/providers.js';

function session(name: string, released: string[]): SessionLike & { name: string } {
  return { name, outputNames: ['probabilities'], run: async () => ({}), release: async () => void released.push(name) };
}

test('auto skips an unavailable provider and one whose probe fails, saying why, and releases what it opened', async () => {
  const released: string[] = [];
  const result = await openFirstUsable({
    requested: 'auto',
    autoOrder: ['gpu', 'broken', 'cpu'],
    unavailable: (p) => (p === 'gpu' ? 'no adapter' : undefined),
    open: async (p) => session(p, released),
    probe: async (s) => {
      if ((s as SessionLike & { name: string }).name === 'broken') throw new Error('the probabilities of a blank image sum to 0, not 1');
    },
  });
  assert.equal(result.executionProvider, 'cpu');
  assert.equal(result.reason, 'no adapter; broken loaded the model but its results are unusable (the probabilities of a blank image sum to 0, not 1)');
  assert.deepEqual(released, ['broken']);
});

test('BAD CALL - an explicit provider that cannot run throws ExecutionProviderError with the reason', async () => {
  await assert.rejects(
    openFirstUsable({ requested: ['gpu'], autoOrder: ['gpu', 'cpu'], unavailable: () => 'no adapter', open: async () => session('x', []), probe: async () => {} }),
    { name: 'ExecutionProviderError', message: /^Execution provider "gpu" cannot run: no adapter\.$/ },
  );
  await assert.rejects(
    openFirstUsable({ requested: ['cpu'], autoOrder: ['cpu'], unavailable: () => undefined, open: async () => Promise.reject(new Error('bad graph\nmore')), probe: async () => {}, hint: () => ' (hint)' }),
    { name: 'ExecutionProviderError', message: /cpu failed to load the model: bad graph \(hint\)/ },
  );
});

test('BAD CALL - a contract mismatch found by the probe is not a provider problem: it is thrown at once', async () => {
  const released: string[] = [];
  await assert.rejects(
    openFirstUsable({ requested: 'auto', autoOrder: ['a', 'b'], unavailable: () => undefined, open: async (p) => session(p, released), probe: async () => Promise.reject(new ModelContractError('outputs 5 classes but its contract lists 3 labels')) }),
    { name: 'ModelContractError' },
  );
  assert.deepEqual(released, ['a']);
});

test('BAD CALL - checkProviders lists the valid values', () => {
  assert.equal(checkProviders(undefined, ['cpu']), 'auto');
  assert.deepEqual(checkProviders(['cpu'], ['cpu', 'cuda']), ['cpu']);
  assert.throws(() => checkProviders(['tpu'], ['cpu', 'cuda']), { name: 'RangeError', message: /Expected 'auto' or a list of: cpu, cuda\./ });
  assert.throws(() => checkProviders([], ['cpu']), { name: 'RangeError' });
});
