// What the cross-package tests share to run the project's CLIs as a user would: the repository, the
// bundled sample, and a synchronous run of an installed bin with its exit code and output.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the first folder above this file that holds data/pets-mini (from src or dist). */
export const REPO = ((): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'data', 'pets-mini'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('Cannot find the repository root (data/pets-mini) above the tests.');
    dir = parent;
  }
  return dir;
})();
/** The bundled real sample in the official layout. */
export const SAMPLE = join(REPO, 'data', 'pets-mini');

/** Runs node_modules/.bin/NAME with the arguments; at most 10 minutes. */
export function runBin(name: string, ...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(join(REPO, 'node_modules', '.bin', name), args, { encoding: 'utf8', timeout: 600_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
