// `pets-train summary`: the Keras-style layer table of a preset.
/* eslint-disable no-console -- a CLI command prints its results */
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { PRESET_NAMES, PRESETS, buildModel, type PresetName } from '../presets.js';
import { formatSummary, summarize } from '../summary.js';
import { findKnownBackbone } from '../backbones/index.js';
import { defaultCutLayer, openBackbone } from '../transfer/setup.js';
import { buildTransferModel } from '../transfer/model.js';
import type { LayersModel } from '../backend/tf.js';

export const command = 'summary';
export const describe = 'Print a preset\'s layers, output shapes and parameter counts';

export function builder(yargs: Argv) {
  return yargs
    .option('preset', { choices: PRESET_NAMES, default: 'model5' as PresetName, describe: 'A reference study model, or a transfer preset (its bundled backbone with the head)' })
    .option('backbone', { type: 'string', describe: 'Transfer presets: another backbone (name, model.json path or URL)' })
    .option('backbone-layer', { type: 'string', describe: 'Transfer presets: the cut layer [the backbone\'s default]' })
    .option('image-size', { type: 'number', describe: `Input side in pixels [${PRESETS.model5.imageSize}; transfer: the backbone's]` })
    .option('classes', { type: 'number', default: 37, describe: 'Number of classes (the dataset decides when training)' })
    .option('json', { type: 'boolean', default: false, describe: 'Print the summary as JSON' });
}

type Args = ArgumentsCamelCase<Awaited<ReturnType<typeof builder>['argv']>>;

async function transferModel(argv: Args): Promise<LayersModel> {
  const preset = PRESETS[argv.preset];
  const spec = argv.backbone ?? (preset.backbone as string);
  const backbone = await openBackbone(spec, {}, argv.imageSize);
  const cutLayer = argv.backboneLayer ?? defaultCutLayer({ ...backbone, known: backbone.known ?? findKnownBackbone(spec) });
  return buildTransferModel({ backbone: backbone.model, cutLayer, numClasses: argv.classes, dropout: preset.dropout, seed: 0, name: `${argv.preset}_${spec.replace(/\W+/g, '_')}` }).model;
}

export async function handler(argv: Args): Promise<void> {
  const preset = PRESETS[argv.preset];
  const model =
    preset.architecture === 'transfer'
      ? await transferModel(argv)
      : buildModel({ architecture: preset.architecture, dropout: preset.dropout, imageSize: argv.imageSize ?? preset.imageSize, numClasses: argv.classes, seed: 0 });
  const summary = summarize(model);
  model.dispose();
  console.log(argv.json ? JSON.stringify(summary, null, 2) : formatSummary(summary));
}
