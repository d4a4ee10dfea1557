// `pets-train download`: fetch, verify and extract the Oxford-IIIT Pet dataset, then list the images
// training will skip or read by content.
/* eslint-disable no-console -- a CLI command prints its results */
import cliProgress from 'cli-progress';
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { defaultDatasetDir, downloadDataset, formatScanReport, OFFICIAL_BASE_URL, parseMd5Overrides, type DatasetDownloadEvent } from '../dataset-download/index.js';
import { byteProgressPrinter } from './download-progress.js';

export const command = 'download';
export const describe = 'Download the Oxford-IIIT Pet dataset (images.tar.gz, annotations.tar.gz), verify its md5s and extract it';

export function builder(yargs: Argv) {
  return yargs
    .option('out', { type: 'string', default: defaultDatasetDir(), describe: 'Folder to create (images/, annotations/); nothing is done when it holds a completed download' })
    .option('mirror', { type: 'string', default: OFFICIAL_BASE_URL, describe: 'Base URL serving images.tar.gz and annotations.tar.gz' })
    .option('md5', { type: 'string', describe: 'md5s of a mirror\'s own archives: images=HEX,annotations=HEX [the official archives\']' })
    .option('json', { type: 'boolean', default: false, describe: 'Print the result (archives, skipped and mislabelled images) as JSON on stdout' })
    .example('$0 download', 'the official archives into ~/oxford-iiit-pet')
    .example('$0 download --mirror https://example.org/pets --md5 images=HEX,annotations=HEX --out data/pets', 'from a mirror with its own files');
}

type Args = ArgumentsCamelCase<Awaited<ReturnType<typeof builder>['argv']>>;

/** Renders download events on stderr: a byte bar per archive, retries, extraction and the scan's bar. */
export function datasetDownloadPrinter(): (event: DatasetDownloadEvent) => void {
  const interactive = Boolean(process.stderr.isTTY);
  let bytes: ReturnType<typeof byteProgressPrinter> | undefined;
  let scan: cliProgress.SingleBar | undefined;
  return (event) => {
    switch (event.type) {
      case 'present':
        console.error(`${event.out} already holds the complete dataset; nothing to download.`);
        break;
      case 'download':
        if (event.resumedFrom > 0) console.error(`resuming ${event.archive}.tar.gz at ${(event.resumedFrom / 2 ** 20).toFixed(1)} MB`);
        bytes?.stop();
        bytes = byteProgressPrinter(`${event.archive}.tar.gz`, event.resumedFrom);
        break;
      case 'bytes':
        bytes?.update(event.bytes, event.total);
        break;
      case 'retry':
        bytes?.stop();
        console.error(`${event.reason}; retry ${event.attempt} in ${(event.delayMs / 1000).toFixed(1)} s`);
        break;
      case 'verified':
        console.error(`${event.archive}.tar.gz: md5 ${event.md5} verified`);
        break;
      case 'extract':
        console.error(`extracting ${event.archive}.tar.gz`);
        break;
      case 'scan':
        if (!scan) {
          scan = new cliProgress.SingleBar({ format: 'checking images |{bar}| {value}/{total} | ETA {eta_formatted}', stream: process.stderr, hideCursor: interactive, noTTYOutput: !interactive, notTTYSchedule: 10_000 }, cliProgress.Presets.shades_classic);
          scan.start(event.total, 0);
        }
        scan.update(event.done);
        if (event.done === event.total) {
          scan.stop();
          scan = undefined;
        }
        break;
    }
  };
}

export async function handler(argv: Args): Promise<void> {
  const result = await downloadDataset({
    out: argv.out,
    mirror: argv.mirror,
    md5: argv.md5 === undefined ? undefined : parseMd5Overrides(argv.md5),
    onEvent: datasetDownloadPrinter(),
  });
  if (argv.json) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  for (const line of formatScanReport(result.report)) console.log(line);
  console.log(`dataset ${result.alreadyPresent ? 'already in' : 'ready in'} ${result.out}: pets-train --data ${result.out} --out runs/NAME`);
}
