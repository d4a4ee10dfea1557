// Where backbones live on disk: the bundled folders of the repository and the download cache.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The download cache: $PETS_CACHE_DIR, else $XDG_CACHE_HOME/pets/backbones, else
 * %LOCALAPPDATA%\pets\backbones on Windows, else ~/.cache/pets/backbones.
 */
export function defaultCacheDir(): string {
  const env = process.env;
  if (env.PETS_CACHE_DIR) return env.PETS_CACHE_DIR;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'pets', 'backbones');
  if (process.platform === 'win32' && env.LOCALAPPDATA) return join(env.LOCALAPPDATA, 'pets', 'backbones');
  return join(homedir(), '.cache', 'pets', 'backbones');
}

let bundledDir: string | null | undefined;

/**
 * The repository's data/backbones folder, found by walking up from this file, so that it works from
 * train/src (tsx) and train/dist/src alike. Undefined when this code runs outside the repository (the
 * @pets/train package does not ship the weights).
 */
export function bundledBackbonesDir(): string | undefined {
  if (bundledDir === undefined) {
    bundledDir = null;
    let dir = dirname(fileURLToPath(import.meta.url));
    for (;;) {
      if (existsSync(join(dir, 'data', 'backbones', 'README.md'))) {
        bundledDir = join(dir, 'data', 'backbones');
        break;
      }
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return bundledDir ?? undefined;
}
