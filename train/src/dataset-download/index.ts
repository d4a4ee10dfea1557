// downloadDataset(): the Oxford-IIIT Pet archives -> verified (md5) -> extracted into a temporary folder ->
// scanned with the project's loader -> renamed into place with a marker. The folder is complete or absent;
// an interrupted download resumes from its .part file beside the output.
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { writeDirectoryAtomic } from '../util/atomic.js';
import { DatasetDownloadError } from './errors.js';
import { extractArchive } from './extract.js';
import { fetchResumable } from './fetch-resumable.js';
import { MARKER_FILE, readMarker, writeMarker, type DownloadMarker } from './marker.js';
import { md5File } from './md5.js';
import { scanDataset, type ScanReport } from './scan.js';
import { archiveSources, type ArchiveName } from './sources.js';

export { DatasetDownloadError } from './errors.js';
export { formatScanReport, type ScanReport } from './scan.js';
export { parseMd5Overrides, OFFICIAL_BASE_URL, OFFICIAL_MD5, ARCHIVE_NAMES, type ArchiveName } from './sources.js';
export { MARKER_FILE } from './marker.js';

/** Options of downloadDataset(); each has a `pets-train download` flag of the same name in kebab-case. */
export interface DownloadDatasetOptions {
  /** Folder to create, holding images/ and annotations/. Default ~/oxford-iiit-pet. */
  out?: string;
  /** Base URL serving images.tar.gz and annotations.tar.gz. Default the official VGG server. */
  mirror?: string;
  /** md5s the archives must have, by name. Default the official archives'. */
  md5?: Partial<Record<ArchiveName, string>>;
  /** Further attempts per archive after a dropped connection. Default 5. */
  retries?: number;
  /** Wait before the first retry (ms), doubled for each further one. Default 1000. */
  retryDelayMs?: number;
  /** Abort an attempt that receives nothing for this long (ms). Default 60000. */
  idleTimeoutMs?: number;
  /** Stops the download; the .part files stay for the next run. */
  signal?: AbortSignal;
  /** Progress as it happens. */
  onEvent?: (event: DatasetDownloadEvent) => void;
}

export type DatasetDownloadEvent =
  | { type: 'present'; out: string }
  | { type: 'download'; archive: ArchiveName; url: string; resumedFrom: number; total: number | null }
  | { type: 'bytes'; archive: ArchiveName; bytes: number; total: number | null }
  | { type: 'retry'; archive: ArchiveName; attempt: number; delayMs: number; reason: string }
  | { type: 'verified'; archive: ArchiveName; md5: string }
  | { type: 'extract'; archive: ArchiveName }
  | { type: 'scan'; done: number; total: number };

export interface DownloadDatasetResult {
  /** Absolute path of the dataset folder. */
  out: string;
  /** True when the folder was already complete and nothing was fetched. */
  alreadyPresent: boolean;
  archives: DownloadMarker['archives'];
  /** The images training will skip or read by content. */
  report: ScanReport;
}

export function defaultDatasetDir(): string {
  return join(homedir(), 'oxford-iiit-pet');
}

export async function downloadDataset(options: DownloadDatasetOptions = {}): Promise<DownloadDatasetResult> {
  const emit = options.onEvent ?? (() => {});
  const out = resolve(options.out ?? defaultDatasetDir());
  const sources = archiveSources(options.mirror, options.md5);
  const marker = await readMarker(out);
  if (marker) {
    emit({ type: 'present', out });
    return { out, alreadyPresent: true, archives: marker.archives, report: marker.report };
  }
  if (await stat(out).catch(() => null)) {
    throw new DatasetDownloadError(`${out} already exists but holds no ${MARKER_FILE} (not a completed download); remove it or choose another --out.`);
  }
  await mkdir(dirname(out), { recursive: true });
  const archives: DownloadMarker['archives'] = [];
  const files: string[] = [];
  for (const source of sources) {
    const file = join(dirname(out), `.${basename(out)}.${source.name}.tar.gz`);
    const part = `${file}.part`;
    // A verified archive from an earlier run whose extraction failed is used again.
    const reuse = (await stat(file).catch(() => null)) !== null && (await md5File(file)) === source.md5;
    if (!reuse) {
      await rm(file, { force: true });
      await fetchResumable(source.url, part, {
        retries: options.retries,
        retryDelayMs: options.retryDelayMs,
        idleTimeoutMs: options.idleTimeoutMs,
        signal: options.signal,
        onStart: ({ resumedFrom, total }) => emit({ type: 'download', archive: source.name, url: source.url, resumedFrom, total }),
        onBytes: (bytes, total) => emit({ type: 'bytes', archive: source.name, bytes, total }),
        onRetry: (r) => emit({ type: 'retry', archive: source.name, ...r }),
      });
      const md5 = await md5File(part);
      if (md5 !== source.md5) {
        // Its bytes are wrong, so resuming it would only repeat the mismatch.
        await rm(part, { force: true });
        throw new DatasetDownloadError(`${source.url} has md5 ${md5}, expected ${source.md5}; the file is damaged or not the official one (a mirror's own files need --md5 ${source.name}=HEX).`);
      }
      await rename(part, file);
    }
    emit({ type: 'verified', archive: source.name, md5: source.md5 });
    archives.push({ name: source.name, url: source.url, md5: source.md5, bytes: (await stat(file)).size });
    files.push(file);
  }
  let report: ScanReport | undefined;
  await writeDirectoryAtomic(out, async (tmp) => {
    for (const [i, source] of sources.entries()) {
      emit({ type: 'extract', archive: source.name });
      await extractArchive(files[i], tmp, `${source.name}.tar.gz`);
    }
    report = await scanDataset(tmp, (done, total) => emit({ type: 'scan', done, total }));
    await writeMarker(tmp, { archives, completedAt: new Date().toISOString(), report });
  });
  for (const file of files) await rm(file, { force: true });
  return { out, alreadyPresent: false, archives, report: report! };
}
