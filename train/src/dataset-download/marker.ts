// The marker a complete download leaves in its folder: the archives' md5s and the scan report, so a second
// run knows the folder is complete (the folder is renamed into place only after the marker is written).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import type { ArchiveName } from './sources.js';
import type { ScanReport } from './scan.js';

export const MARKER_FILE = '.pets-download.json';

export interface DownloadMarker {
  /** The archives' URLs and md5s. */
  archives: { name: ArchiveName; url: string; md5: string; bytes: number }[];
  /** When the download completed (ISO 8601). */
  completedAt: string;
  report: ScanReport;
}

export async function readMarker(dir: string): Promise<DownloadMarker | null> {
  const text = await readFile(join(dir, MARKER_FILE), 'utf8').catch(() => null);
  if (text === null) return null;
  try {
    return JSON.parse(text) as DownloadMarker;
  } catch {
    return null;
  }
}

export async function writeMarker(dir: string, marker: DownloadMarker): Promise<void> {
  await writeFileAtomic(join(dir, MARKER_FILE), `${JSON.stringify(marker, null, 2)}\n`);
}
