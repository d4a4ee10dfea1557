// pets-parity: prove an exported model gives the tfjs original's probabilities on every runtime
// (tensor mode), or that Node and the browser agree on the same photo files (e2e mode).
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { failUsage, reportError, UsageError } from '@pets/runtime/cli-errors';
import { SPLIT_NAMES, type SplitName } from '@pets/train';
import { formatReports } from './parity/format.js';
import { PARITY_PROVIDERS, runParity, type ParityProvider } from './parity/run-parity.js';
import { runEndToEnd } from './parity/run-e2e.js';
import { tfjsParity } from './parity/cli-tfjs.js';

const PARITY_USER_ERRORS = ['CheckpointError', 'DatasetError', 'BackendUnavailableError'];
const progress = (message: string) => process.stderr.write(`\r${message}   `);

try {
  await yargs(hideBin(process.argv))
    .scriptName('pets-parity')
    .command(
      '$0',
      'Compare the ONNX model on every provider with the tfjs checkpoint it was exported from, on a split',
      (y) =>
        y
          .option('run', { type: 'string', describe: 'Run directory the model was exported from' })
          .option('tfjs', { type: 'string', describe: 'Instead of --run: the TensorFlow.js model.json the model was exported from (pets-export --tfjs), compared on --images' })
          .option('images', { type: 'string', describe: 'With --tfjs: folder of photos [default: the bundled data/pets-mini/images]' })
          .check((a) => {
            if ((a.run === undefined) === (a.tfjs === undefined)) throw new UsageError('Give either --run or --tfjs.');
            return true;
          })
          .option('model', { type: 'string', demandOption: true, describe: 'The exported .onnx model' })
          .option('data', { type: 'string', describe: 'Dataset root [default: the run\'s]' })
          .option('split', { choices: SPLIT_NAMES, default: 'test' as SplitName, describe: 'Split to compare on' })
          .option('checkpoint', { type: 'string', describe: 'best, last or epoch-N [default: the model\'s provenance]' })
          .option('providers', { type: 'string', default: PARITY_PROVIDERS.join(','), describe: 'Comma list of: cpu, cuda, web-wasm, webgpu' })
          .option('limit', { type: 'number', describe: 'At most N images (stratified by class)' })
          .option('webgpu-limit', { type: 'number', default: 8, describe: 'At most N images on webgpu (a software adapter takes seconds per image)' })
          .option('max-dp', { type: 'number', describe: 'Stricter max |Δp| than the defaults (1e-5 cpu/web-wasm, 1e-4 cuda/webgpu, 2e-2 fp16; int8 is held to 98% top-1)' })
          .option('json', { type: 'string', describe: 'Also write the full report as JSON to this file' }),
      async (argv) => {
        const providers = argv.providers.split(',').map((p) => p.trim());
        for (const p of providers) if (!(PARITY_PROVIDERS as readonly string[]).includes(p)) throw new UsageError(`Unsupported provider "${p}". Expected one of: ${PARITY_PROVIDERS.join(', ')}.`);
        if (argv.tfjs !== undefined) {
          await tfjsParity({ ...argv, tfjs: argv.tfjs, providers: providers as ParityProvider[] });
          return;
        }
        const report = await runParity({
          run: argv.run as string, model: argv.model, data: argv.data, split: argv.split, checkpoint: argv.checkpoint,
          providers: providers as ParityProvider[], limit: argv.limit, webgpuLimit: argv.webgpuLimit, maxAbsProbability: argv.maxDp, onProgress: progress,
        });
        process.stderr.write('\n');
        console.log(`${report.model} vs ${report.run} (${report.checkpoint}), ${report.split} split, ${report.images} images, ${report.dtype} model, tfjs on ${report.referenceBackend}`);
        console.log(formatReports(report.providers));
        if (argv.json) await writeFile(argv.json, `${JSON.stringify(report, null, 2)}\n`);
        console.log(report.passed ? 'PASS' : 'FAIL: a tolerance is broken');
        if (!report.passed) process.exitCode = 1;
      },
    )
    .command(
      'e2e',
      'Classify the same image files in Node (sharp) and in Chromium (createImageBitmap) and compare',
      (y) =>
        y
          .option('model', { type: 'string', demandOption: true, describe: 'The exported .onnx model' })
          .option('images', { type: 'array', string: true, demandOption: true, describe: 'Image files, or one folder' })
          .option('limit', { type: 'number', describe: 'At most N images' })
          .option('ep', { choices: ['wasm', 'webgpu'] as const, default: 'wasm' as const, describe: 'Browser execution provider' })
          .option('max-dp', { type: 'number', default: 1e-3, describe: 'Largest allowed |Δp|' })
          .option('json', { type: 'string', describe: 'Also write the report as JSON to this file' }),
      async (argv) => {
        let images = argv.images;
        if (images.length === 1 && !/\.[a-z0-9]+$/i.test(images[0])) images = (await readdir(images[0])).sort().map((f) => join(argv.images[0], f));
        images = images.slice(0, argv.limit ?? images.length);
        const report = await runEndToEnd({ model: argv.model, images, ep: argv.ep, maxAbsProbability: argv.maxDp, onProgress: progress });
        process.stderr.write('\n');
        console.log(formatReports([report]));
        const by = { node: 'Node', browser: 'the browser', both: 'Node nor the browser' } as const;
        for (const s of report.skippedImages) console.log(`skipped ${s.image}, not decoded by ${by[s.side]}: ${s.reason}`);
        console.log(`${report.images} images compared, ${report.skippedImages.length} skipped (not decoded on both sides)`);
        if (argv.json) await writeFile(argv.json, `${JSON.stringify(report, null, 2)}\n`);
        console.log(report.status === 'pass' ? 'PASS' : `FAIL: ${report.images ? 'a tolerance is broken' : 'no image was decoded on both sides'}`);
        if (report.status !== 'pass') process.exitCode = 1;
      },
    )
    .strict()
    .help()
    .version(false)
    .fail(failUsage)
    .parseAsync();
} catch (error) {
  process.exitCode = reportError('pets-parity', error, PARITY_USER_ERRORS);
}
