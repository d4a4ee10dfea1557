// Renders download progress on stderr: backbones (one bar over all bytes with an ETA, in the style of the
// training progress bars; pass downloadProgressPrinter() as resolveBackbone's onProgress) and single large files.
import cliProgress from 'cli-progress';
import type { DownloadProgress } from '../backbones/index.js';

const MB = 1024 * 1024;

/** A fresh printer for one download; it draws nothing for a cached or local backbone (no events). */
export function downloadProgressPrinter(label = 'downloading backbone'): (progress: DownloadProgress) => void {
  const interactive = Boolean(process.stderr.isTTY);
  let bar: cliProgress.SingleBar | undefined;
  let done = false;
  return (p) => {
    if (done || p.bytesTotal === null) return;
    const mb = (n: number) => (n / MB).toFixed(1);
    if (!bar) {
      bar = new cliProgress.SingleBar(
        {
          format: `${label} |{bar}| {percentage}% | {mbDone}/{mbTotal} MB | file {filesDone}/{filesTotal} | ETA {eta_formatted}`,
          stream: process.stderr,
          hideCursor: interactive,
          noTTYOutput: !interactive,
          notTTYSchedule: 10_000,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(p.bytesTotal, 0, { mbDone: mb(0), mbTotal: mb(p.bytesTotal), filesDone: p.filesDone, filesTotal: p.filesTotal });
    }
    bar.update(Math.min(p.bytesDone, p.bytesTotal), { mbDone: mb(p.bytesDone), mbTotal: mb(p.bytesTotal), filesDone: p.filesDone, filesTotal: p.filesTotal });
    if (p.filesDone === p.filesTotal) {
      bar.stop();
      done = true;
    }
  };
}

/**
 * A byte bar for one attempt at a file, with speed and ETA: update() with the bytes on disk and the size;
 * `resumedFrom` bytes were there before this attempt, so the speed counts only its own. stop() ends it early.
 */
export function byteProgressPrinter(label: string, resumedFrom = 0): { update: (bytes: number, total: number | null) => void; stop: () => void } {
  const interactive = Boolean(process.stderr.isTTY);
  const started = Date.now();
  let bar: cliProgress.SingleBar | undefined;
  const mb = (n: number) => (n / MB).toFixed(1);
  const stop = () => {
    bar?.stop();
    bar = undefined;
  };
  const update = (bytes: number, total: number | null) => {
    if (total === null || total === 0) return;
    const seconds = (Date.now() - started) / 1000;
    const speed = seconds > 0 ? `${mb((bytes - resumedFrom) / seconds)} MB/s` : '-';
    if (!bar) {
      bar = new cliProgress.SingleBar(
        {
          format: `${label} |{bar}| {percentage}% | {mbDone}/{mbTotal} MB | {speed} | ETA {eta_formatted}`,
          stream: process.stderr,
          hideCursor: interactive,
          noTTYOutput: !interactive,
          notTTYSchedule: 10_000,
          etaBuffer: 200,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, resumedFrom, { mbDone: mb(resumedFrom), mbTotal: mb(total), speed });
    }
    bar.update(Math.min(bytes, total), { mbDone: mb(bytes), mbTotal: mb(total), speed });
    if (bytes >= total) stop();
  };
  return { update, stop };
}
