// npm start: the whole pipeline on the bundled sample (data/pets-mini): train a small preset at a reduced
// image size, evaluate it on the test split, and say what comes next. Writes runs/sample/ (replaced on
// every start).
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = join('runs', 'sample');
const petsTrain = join(repo, 'node_modules', '.bin', 'pets-train');

function step(title, args) {
  console.log(`\n== ${title}\n$ pets-train ${args.join(' ')}`);
  const result = spawnSync(petsTrain, args, { cwd: repo, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`\nnpm start: "${title}" failed (exit code ${result.status ?? result.signal}).`);
    process.exit(result.status ?? 1);
  }
}

rmSync(join(repo, run), { recursive: true, force: true });
step('Train model3 (BatchNorm, global average pooling, dropout) at 64x64 on the bundled sample', [
  '--data', 'data/pets-mini', '--preset', 'model3', '--image-size', '64', '--batch-size', '16',
  '--learning-rate', '0.003', '--epochs', '12', '--out', run,
]);
step('Evaluate the best checkpoint on the test split', ['evaluate', '--run', run, '--split', 'test']);
console.log(`
== Done. Look at:
  ${run}/curves-accuracy.png, ${run}/curves-loss.png     training curves
  ${run}/evaluation/test-best-confusion.png              confusion matrix
  ${run}/checkpoints/                                     best and last checkpoints, each with contract.json
The sample has 4 training photos per breed: the training loss falls, but test accuracy stays near chance
(1/37 = 2.7%). For the reference study's numbers, train on the full dataset:
  npx pets-train --data ~/oxford-iiit-pet --preset model5 --out runs/m5
Next in the pipeline: exporting the checkpoint to ONNX (pets-export) and classifying photos with
@pets/runtime are not part of this version yet.`);
