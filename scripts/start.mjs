// npm start: the whole pipeline on the bundled sample (data/pets-mini): train a small preset at a reduced
// image size, evaluate it on the test split, export it to ONNX (fp32, and fp16 for the web demo), check
// parity with the tfjs original, and classify a photo. Writes runs/sample/ and models/sample*.onnx,
// models/demo.onnx (replaced on every start).
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = join('runs', 'sample');
const bin = (name) => join(repo, 'node_modules', '.bin', name);

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
step('Train model3 (BatchNorm, global average pooling, dropout) at 64x64 on the bundled sample', 'pets-train', [
  '--data', 'data/pets-mini', '--preset', 'model3', '--image-size', '64', '--batch-size', '16',
  '--learning-rate', '0.003', '--epochs', '12', '--out', run,
]);
step('Evaluate the best checkpoint on the test split', 'pets-train', ['evaluate', '--run', run, '--split', 'test']);
step('Export the best checkpoint to ONNX (verified against tfjs)', 'pets-export', ['--run', run, '--out', 'models/sample.onnx']);
step('Export an fp16 variant for the web demo', 'pets-export', ['--run', run, '--out', 'models/demo.onnx', '--fp16']);
step('Parity of every runtime with tfjs on the test split (webgpu on 2 images)', 'pets-parity', ['--run', run, '--model', 'models/sample.onnx', '--webgpu-limit', '2']);
step('Classify a photo with @pets/runtime', 'pets-classify', ['--model', 'models/sample.onnx', 'data/pets-mini/images/Abyssinian_12.jpg', 'data/pets-mini/images/beagle_10.jpg']);
console.log(`
== Done. Look at:
  ${run}/curves-accuracy.png, ${run}/curves-loss.png     training curves
  ${run}/evaluation/test-best-confusion.png              confusion matrix
  ${run}/checkpoints/                                     best and last checkpoints, each with contract.json
  models/sample.onnx, models/demo.onnx (fp16)             exported models; npm run web serves the demo
The sample has 4 training photos per breed: the training loss falls, but test accuracy stays near chance
(1/37 = 2.7%). For the reference study's numbers, train on the full dataset:
  npx pets-train --data ~/oxford-iiit-pet --preset model5 --out runs/m5
Then try the web demo: npm run web`);
