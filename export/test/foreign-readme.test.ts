// The README's lists of what pets-export --tfjs translates are the converter tables themselves.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { SUPPORTED_GRAPH_OPS, SUPPORTED_LAYER_CLASSES } from '../src/index.js';
import { REPO_ROOT } from './fixtures.js';

test('README lists exactly SUPPORTED_LAYER_CLASSES and SUPPORTED_GRAPH_OPS', async () => {
  const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
  const listed = (prefix: string) => (new RegExp(`^${prefix}: (.+)\\.$`, 'm').exec(readme)?.[1] ?? '').split(', ');
  // On a change, the README line to paste is in the message.
  assert.deepEqual(listed('Supported layers'), [...SUPPORTED_LAYER_CLASSES], `Supported layers: ${SUPPORTED_LAYER_CLASSES.join(', ')}.`);
  assert.deepEqual(listed('Supported graph ops'), [...SUPPORTED_GRAPH_OPS], `Supported graph ops: ${SUPPORTED_GRAPH_OPS.join(', ')}.`);
});
