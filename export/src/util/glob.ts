// Expands --run patterns such as runs/* or 'runs/m?' (quoted, so the shell left them alone) into
// directories. Only * ? and [...] within one path segment; Node 20 has no fs.glob and this needs no more.
import { readdir } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';

const GLOB_CHARS = /[*?[]/;

/** True when the string has wildcards (and so may name several runs). */
export const isPattern = (pattern: string): boolean => GLOB_CHARS.test(pattern);

function segmentRegExp(segment: string): RegExp {
  let source = '';
  for (let i = 0; i < segment.length; i++) {
    const ch = segment[i];
    if (ch === '*') source += '[^/]*';
    else if (ch === '?') source += '[^/]';
    else if (ch === '[' && segment.indexOf(']', i + 2) !== -1) {
      const end = segment.indexOf(']', i + 2);
      const body = segment.slice(i + 1, end).replace(/\\/g, '\\\\');
      source += body.startsWith('!') ? `[^${body.slice(1)}]` : `[${body}]`;
      i = end;
    } else source += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** The directories a pattern names, sorted; a pattern without wildcards is returned as it is. */
export async function expandPattern(pattern: string): Promise<string[]> {
  if (!GLOB_CHARS.test(pattern)) return [pattern];
  const segments = pattern.split(/[\\/]+/).filter((s) => s !== '');
  let bases = [isAbsolute(pattern) ? '/' : ''];
  for (const segment of segments) {
    if (!GLOB_CHARS.test(segment)) {
      bases = bases.map((base) => join(base, segment));
      continue;
    }
    const re = segmentRegExp(segment);
    const next: string[] = [];
    for (const base of bases) {
      const entries = await readdir(base || '.', { withFileTypes: true }).catch(() => []);
      for (const entry of entries) {
        const hidden = entry.name.startsWith('.') && !segment.startsWith('.');
        if (!hidden && entry.isDirectory() && re.test(entry.name)) next.push(join(base, entry.name));
      }
    }
    bases = next;
  }
  return bases.sort();
}
