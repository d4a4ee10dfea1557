// One pass over an extracted dataset with the project's own loader and decoder: the images training will
// skip (missing, or not decodable, e.g. a truncated JPEG) and those it reads by content rather than by
// name (a PNG or GIF named .jpg, which the decoder sniffs and reads anyway).
import { open } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { decodeImage } from '@pets/runtime/node-decode';
import { loadDataset, type DatasetItem } from '../data/dataset.js';

export interface ScanReport {
  /** Images listed in the annotations (trainval and test, including missing ones). */
  checked: number;
  /** Listed images without a file: skipped. */
  missing: string[];
  /** Images that cannot be decoded, with the decoder's reason: skipped. */
  undecodable: { name: string; reason: string }[];
  /** Images whose content is another format than their extension says: read by content. */
  mislabelled: { name: string; extension: string; content: string }[];
}

const BY_EXTENSION: Record<string, string> = { '.jpg': 'jpeg', '.jpeg': 'jpeg', '.png': 'png', '.gif': 'gif', '.webp': 'webp' };

/** The format its first bytes say a file is. */
async function sniffFormat(path: string): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const b = Buffer.alloc(12);
    const { bytesRead } = await handle.read(b, 0, 12, 0);
    if (bytesRead === 0) return 'empty';
    if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
    if (b.toString('latin1', 0, 8) === '\x89PNG\r\n\x1a\n') return 'png';
    if (b.toString('latin1', 0, 4) === 'GIF8') return 'gif';
    if (b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') return 'webp';
    return 'unknown';
  } finally {
    await handle.close();
  }
}

/** Checks every listed image of the dataset at `root`; `onProgress` follows the images done. */
export async function scanDataset(root: string, onProgress?: (done: number, total: number) => void): Promise<ScanReport> {
  const dataset = await loadDataset(root);
  const items: DatasetItem[] = [...dataset.trainval, ...dataset.test];
  const report: ScanReport = { checked: items.length + dataset.missing.length, missing: dataset.missing.map((m) => basename(m.path)), undecodable: [], mislabelled: [] };
  let next = 0;
  let done = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) {
      const { path } = items[i];
      const name = basename(path);
      const extension = extname(path).toLowerCase();
      const content = await sniffFormat(path);
      if (BY_EXTENSION[extension] && content !== BY_EXTENSION[extension]) report.mislabelled.push({ name, extension, content });
      try {
        await decodeImage(path);
      } catch (error) {
        report.undecodable.push({ name, reason: (error as Error).message.split(path).join(name) });
      }
      onProgress?.(++done, items.length);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  report.undecodable.sort(byName);
  report.mislabelled.sort(byName);
  report.missing.sort();
  return report;
}

/** The report as lines for a terminal: a summary, then one line per image. */
export function formatScanReport(report: ScanReport): string[] {
  const lines = [
    `checked ${report.checked} listed images: ${report.missing.length} missing and ${report.undecodable.length} undecodable (skipped by training), ${report.mislabelled.length} read by content (format differs from the extension)`,
  ];
  for (const name of report.missing) lines.push(`  skipped, no file: ${name}`);
  for (const u of report.undecodable) lines.push(`  skipped, cannot decode: ${u.name} (${u.reason})`);
  for (const m of report.mislabelled) lines.push(`  read as ${m.content}: ${m.name}`);
  return lines;
}
