// Paths the tests share; they work from test/ (tsx) and from dist/test/ (compiled).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'data', 'pets-mini'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('Cannot find the repository root (data/pets-mini) above the tests.');
    dir = parent;
  }
  return dir;
}

export const REPO_ROOT = findRepoRoot();
/** The bundled real sample in the official layout. */
export const PETS_MINI = join(REPO_ROOT, 'data', 'pets-mini');
/** The built pets-train CLI. */
export const TRAIN_CLI = join(REPO_ROOT, 'train', 'dist', 'src', 'cli.js');
