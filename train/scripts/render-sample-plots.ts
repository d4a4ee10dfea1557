// Renders example figures from synthetic data so the plots can be looked at without a training run.
// Usage: node --import tsx scripts/render-sample-plots.ts [outDir]   (default /tmp/pets-plots)
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderConfusionMatrix, renderCurves, writeCurves, type EpochMetrics } from '../src/report/plots.js';

const outDir = process.argv[2] ?? '/tmp/pets-plots';
await mkdir(outDir, { recursive: true });
const imagesDir = fileURLToPath(new URL('../../data/pets-mini/images/', import.meta.url));

/** Breed names from the mini data set's file names (`basset_hound_11.jpg` -> `basset_hound`). */
async function breedLabels(): Promise<string[]> {
  const names = (await readdir(imagesDir)).map((f) => f.replace(/_\d+\.\w+$/, ''));
  return [...new Set(names)].sort((a, b) => a.localeCompare(b));
}

function syntheticHistory(epochs: number, diverge = false): EpochMetrics[] {
  return Array.from({ length: epochs }, (_, i) => {
    const t = (i + 1) / epochs;
    const blowUp = diverge && i >= epochs - 3;
    return {
      epoch: i + 1,
      loss: blowUp ? (i === epochs - 1 ? Number.NaN : Number.POSITIVE_INFINITY) : 3.6 * Math.exp(-3 * t) + 0.1,
      accuracy: 0.95 - 0.9 * Math.exp(-4 * t),
      valLoss: 3.6 * Math.exp(-2.5 * t) + 0.35 + 0.3 * t * t,
      valAccuracy: 0.85 - 0.8 * Math.exp(-4 * t) - 0.04 * t * t,
    };
  });
}

function syntheticConfusion(n: number): number[][] {
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => (i === j ? 30 + ((i * 7) % 20) : (i * 31 + j * 17) % 23 === 0 ? 1 + ((i + j) % 6) : 0)),
  );
}

const labels = await breedLabels();
const written = [
  ...Object.values(await writeCurves(join(outDir, 'run-20'), syntheticHistory(20))),
  ...Object.values(await writeCurves(join(outDir, 'run-150'), syntheticHistory(150))),
];
const extra: [string, Promise<Buffer>][] = [
  ['curves-1-epoch.png', renderCurves(syntheticHistory(1), 'accuracy')],
  ['curves-diverging-loss.png', renderCurves(syntheticHistory(12, true), 'loss')],
  ['confusion-counts.png', renderConfusionMatrix(syntheticConfusion(labels.length), labels)],
  ['confusion-normalized.png', renderConfusionMatrix(syntheticConfusion(labels.length), labels, { normalize: true })],
  ['confusion-3.png', renderConfusionMatrix(syntheticConfusion(3), labels.slice(0, 3), {
    title: 'Confusion matrix (test): accuracy 85.3% on 1100 images',
  })],
];
for (const [name, png] of extra) {
  await writeFile(join(outDir, name), await png);
  written.push(join(outDir, name));
}
console.log(`${labels.length} labels; wrote:\n${written.join('\n')}`);
