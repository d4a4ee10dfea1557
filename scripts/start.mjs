// npm start: the whole pipeline on the bundled sample (data/pets-mini): train a transfer model on the
// bundled ImageNet MobileNet (or, with --preset model1..model5, a reference-study model from scratch at a
// reduced size), evaluate it on the test split, export it to ONNX (fp32, and fp16 for the web demo), check
// parity with the tfjs original, and classify two photos. Writes runs/sample/ and models/sample.onnx,
// models/demo.onnx (replaced on every start).
//   npm start                      MobileNet v1 0.75 backbone, head trained on features computed once
//   npm start -- --preset darknet  the other bundled backbone
//   npm start -- --preset model3   the reference study's model3 from scratch (stays near chance on the sample)
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = join('runs', 'sample');
const bin = (name) => join(repo, 'node_modules', '.bin', name);
const { values } = parseArgs({ options: { preset: { type: 'string', default: 'mobilenet' } } });
const preset = values.preset;
const scratch = /^model[1-5]$/.test(preset);

function step(title, command, args) {
  console.log(`\n== ${title}\n$ ${command} ${args.join(' ')}`);
  const result = spawnSync(bin(command), args, { cwd: repo, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`\nnpm start: "${title}" failed (exit code ${result.status ?? result.signal}).`);
    process.exit(result.status ?? 1);
  }
}

rmSync(join(repo, run), { recursive: true, force: true });
for (const file of ['sample.onnx', 'demo.onnx']) rmSync(join(repo, 'models', file), { force: true });
if (scratch) {
  step(`Train ${preset} from scratch at 64x64 on the bundled sample`, 'pets-train', [
    '--data', 'data/pets-mini', '--preset', preset, '--image-size', '64', '--batch-size', '16',
    '--learning-rate', '0.003', '--epochs', '12', '--out', run,
  ]);
} else {
  step(`Train a head on the bundled ImageNet backbone (${preset}) at 224x224 on the bundled sample`, 'pets-train', [
    '--data', 'data/pets-mini', '--preset', preset, '--out', run,
  ]);
}
step('Evaluate the best checkpoint on the test split', 'pets-train', ['evaluate', '--run', run, '--split', 'test']);
step('Export the best checkpoint to ONNX (verified against tfjs)', 'pets-export', ['--run', run, '--out', 'models/sample.onnx']);
step('Export an fp16 variant for the web demo', 'pets-export', ['--run', run, '--out', 'models/demo.onnx', '--fp16']);
step('Parity of every runtime with tfjs on the test split (webgpu on 2 images)', 'pets-parity', ['--run', run, '--model', 'models/sample.onnx', '--webgpu-limit', '2']);
step('Classify two photos with @pets/runtime', 'pets-classify', ['--model', 'models/sample.onnx', 'data/pets-mini/images/Abyssinian_12.jpg', 'data/pets-mini/images/beagle_10.jpg']);
console.log(`
== Done. Look at:
  ${run}/curves-accuracy.png, ${run}/curves-loss.png     training curves
  ${run}/evaluation/test-best-confusion.png              confusion matrix
  ${run}/checkpoints/                                     best and last checkpoints, each with contract.json
  models/sample.onnx, models/demo.onnx (fp16)             exported models; npm run web serves the demo
${scratch
    ? `From scratch, the sample's 4 training photos per breed leave test accuracy near chance (1/37 = 2.7%).
Transfer learning is the default: npm start (MobileNet) or npm start -- --preset darknet.`
    : `The sample has only 4 training photos per breed. On the full dataset (README "Train on the full
dataset"), --fine-tune N also trains the top of the backbone after the head:
  npx pets-train --data ~/oxford-iiit-pet --out runs/mobilenet --fine-tune 5`}
Then try the web demo: npm run web`);
