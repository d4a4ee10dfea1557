// The exporter's name and version, from its package.json (written into every model it produces).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** export/package.json seen from src/ (tsx) or dist/src/ (compiled). */
function packageJsonPath(): string {
  const candidates = ['../package.json', '../../package.json'].map((p) => fileURLToPath(new URL(p, import.meta.url)));
  return candidates.find((p) => existsSync(p) && JSON.parse(readFileSync(p, 'utf8')).name === '@pets/export') ?? candidates[1];
}

const pkg = JSON.parse(readFileSync(packageJsonPath(), 'utf8')) as { name: string; version: string };

export const EXPORTER = { name: pkg.name, version: pkg.version } as const;
