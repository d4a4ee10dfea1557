// `pets-train summary`: the Keras-style layer table of a preset.
/* eslint-disable no-console -- a CLI command prints its results */
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { PRESET_NAMES, PRESETS, buildModel, type PresetName } from '../presets.js';
import { formatSummary, summarize } from '../summary.js';

export const command = 'summary';
export const describe = 'Print a preset\'s layers, output shapes and parameter counts';

export function builder(yargs: Argv) {
  return yargs
    .option('preset', { choices: PRESET_NAMES, default: 'model5' as PresetName, describe: 'Reference study model' })
    .option('image-size', { type: 'number', default: PRESETS.model5.imageSize, describe: 'Input side in pixels' })
    .option('classes', { type: 'number', default: 37, describe: 'Number of classes (the dataset decides when training)' })
    .option('json', { type: 'boolean', default: false, describe: 'Print the summary as JSON' });
}

type Args = ArgumentsCamelCase<Awaited<ReturnType<typeof builder>['argv']>>;

export async function handler(argv: Args): Promise<void> {
  const preset = PRESETS[argv.preset];
  const model = buildModel({ architecture: preset.architecture, dropout: preset.dropout, imageSize: argv.imageSize, numClasses: argv.classes, seed: 0 });
  const summary = summarize(model);
  model.dispose();
  console.log(argv.json ? JSON.stringify(summary, null, 2) : formatSummary(summary));
}
