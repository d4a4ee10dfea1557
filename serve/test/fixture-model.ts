// The model the serve tests use: the model3 preset at 48x48 with seeded random weights, exported by
// @pets/export in memory (about two seconds, no training), labelled with the bundled sample's 37 breeds.
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportModel } from '@pets/export';
import { createContract } from '@pets/runtime/contract';
import { buildModel, chooseBackend, loadDataset, PRESETS } from '@pets/train';

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'data', 'pets-mini'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('Cannot find the repository root (data/pets-mini) above the tests.');
    dir = parent;
  }
  return dir;
}

export const REPO_ROOT = repoRoot();
export const SAMPLE_IMAGES = join(REPO_ROOT, 'data', 'pets-mini', 'images');
export const FIXTURE_SIZE = 48;

/** Writes the fixture model into a new temporary folder; returns its path. */
export async function writeFixtureModel(seed = 1): Promise<string> {
  await chooseBackend('wasm');
  const { labels } = await loadDataset(join(REPO_ROOT, 'data', 'pets-mini'));
  const preset = PRESETS.model3;
  const model = buildModel({ architecture: preset.architecture, dropout: preset.dropout, imageSize: FIXTURE_SIZE, numClasses: labels.length, seed });
  const { bytes } = await exportModel(model, createContract({ labels, imageSize: FIXTURE_SIZE }));
  model.dispose();
  const dir = await mkdtemp(join(tmpdir(), 'pets-serve-'));
  const path = join(dir, 'pets48.onnx');
  await writeFile(path, bytes);
  return path;
}
