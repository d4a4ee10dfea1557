// pets-classify: classify image files with an exported model; one result per file, and a bad file does
// not stop the others (exit code 1 when any failed).
/* eslint-disable no-console -- a CLI prints its results */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { NODE_PROVIDERS, type NodeProvider } from './backend/node.js';
import { failUsage, reportError } from './cli-errors.js';
import { createClassifier } from './index.node.js';


try {
  const argv = await yargs(hideBin(process.argv))
    .scriptName('pets-classify')
    .usage('$0 --model MODEL.onnx IMAGE...\n\nClassify images with a model written by pets-export.')
    .option('model', { type: 'string', demandOption: true, describe: 'The .onnx model (its metadata carries labels and preprocessing)' })
    .option('top', { type: 'number', default: 5, describe: 'How many breeds to show per image' })
    .option('providers', { type: 'string', default: 'auto', describe: `Execution providers: auto, or a comma list of ${NODE_PROVIDERS.join(', ')}` })
    .option('threads', { type: 'number', describe: 'Inference threads [default: one per core]' })
    .option('json', { type: 'boolean', default: false, describe: 'Print results as JSON' })
    .demandCommand(1, 'Give at least one image file.')
    .strict()
    .help()
    .version(false)
    .fail(failUsage)
    .parseAsync();
  const images = argv._.map(String);
  const classifier = await createClassifier({
    model: argv.model,
    executionProviders: argv.providers === 'auto' ? 'auto' : (argv.providers.split(',') as NodeProvider[]),
    threads: argv.threads,
  });
  const outcomes = await classifier.classify(images, { topK: argv.top });
  const { executionProvider, reason, dtype } = classifier.info;
  await classifier.dispose();
  if (argv.json) {
    const results = outcomes.map((o, i) => (o.ok ? { image: images[i], predictions: o.predictions } : { image: images[i], error: { name: o.error.name, message: o.error.message } }));
    console.log(JSON.stringify({ executionProvider, reason, dtype, results }, null, 2));
  } else {
    console.error(`execution provider: ${executionProvider}${reason ? ` (${reason})` : ''}, model ${dtype}`);
    outcomes.forEach((o, i) => {
      if (!o.ok) return console.error(`${images[i]}: ${o.error.name}: ${o.error.message}`);
      console.log(images[i]);
      for (const p of o.predictions) console.log(`  ${(p.probability * 100).toFixed(1).padStart(5)}%  ${p.label}`);
    });
  }
  if (outcomes.some((o) => !o.ok)) process.exitCode = 1;
} catch (error) {
  process.exitCode = reportError('pets-classify', error);
}
