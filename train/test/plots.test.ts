import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { renderConfusionMatrix, renderCurves, writeCurves, type EpochMetrics } from '../src/report/plots.js';

function history(epochs: number, shift = 0): EpochMetrics[] {
  return Array.from({ length: epochs }, (_, i) => ({
    epoch: i + 1,
    loss: 3 / (i + 1) + shift,
    accuracy: 0.9 - 0.8 / (i + 1),
    valLoss: 3.2 / (i + 1) + 0.2 + shift,
    valAccuracy: 0.8 - 0.7 / (i + 1),
  }));
}

/** Decodes the PNG and checks it is a plausible, non-blank picture. */
async function assertPicture(png: Buffer, minWidth: number, minHeight: number): Promise<void> {
  assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
  const meta = await sharp(png).metadata();
  assert.equal(meta.format, 'png');
  assert.ok((meta.width ?? 0) >= minWidth, `width ${meta.width} < ${minWidth}`);
  assert.ok((meta.height ?? 0) >= minHeight, `height ${meta.height} < ${minHeight}`);
  const stats = await sharp(png).stats();
  assert.ok(stats.channels.slice(0, 3).every((c) => c.stdev > 10), 'image looks blank (low variance)');
  // Count distinct colours on a coarse palette: a chart has background, text, grid and series colours.
  const { data } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const colours = new Set<number>();
  for (let i = 0; i < data.length; i += 3) colours.add(((data[i] >> 4) << 8) | ((data[i + 1] >> 4) << 4) | (data[i + 2] >> 4));
  assert.ok(colours.size >= 8, `only ${colours.size} distinct colours`);
}

const labels37 = Array.from({ length: 37 }, (_, i) => `breed_${String(i).padStart(2, '0')}_${'x'.repeat(i % 17)}`);
const diagonal37 = labels37.map((_, i) => labels37.map((__, j) => (i === j ? 40 : (i + j) % 11 === 0 ? 3 : 0)));

describe('renderCurves', () => {
  it('renders accuracy and loss figures as PNG pictures', async () => {
    await assertPicture(await renderCurves(history(20), 'accuracy'), 600, 400);
    await assertPicture(await renderCurves(history(20), 'loss', { title: 'Custom' }), 600, 400);
  });

  it('changes the picture when the data changes', async () => {
    const a = await sharp(await renderCurves(history(10), 'loss')).raw().toBuffer();
    const b = await sharp(await renderCurves(history(10, 0.5), 'loss')).raw().toBuffer();
    assert.notDeepEqual(a, b);
  });

  it('renders a single epoch and a long run', async () => {
    await assertPicture(await renderCurves(history(1), 'accuracy'), 600, 400);
    await assertPicture(await renderCurves(history(150), 'loss'), 600, 400);
  });

  it('renders a diverging run with NaN and Infinity values', async () => {
    const run = history(8);
    run[6] = { ...run[6], loss: Number.POSITIVE_INFINITY, valLoss: Number.NaN };
    run[7] = { ...run[7], loss: Number.NaN, accuracy: Number.NaN, valLoss: Number.NEGATIVE_INFINITY };
    await assertPicture(await renderCurves(run, 'loss'), 600, 400);
    const allNaN = [{ epoch: 1, loss: Number.NaN, accuracy: Number.NaN, valLoss: Number.NaN, valAccuracy: Number.NaN }];
    await sharp(await renderCurves(allNaN, 'accuracy')).metadata();
  });

  it('marks where a transfer run starts fine-tuning with a dashed grey rule', async () => {
    const staged = history(12).map((row) => ({ ...row, stage: row.epoch > 8 ? 'fine-tune' : 'head' }));
    const png = await renderCurves(staged, 'accuracy');
    await assertPicture(png, 600, 400);
    const plain = await renderCurves(staged.map(({ stage: _s, ...row }) => row), 'accuracy');
    const [a, b] = await Promise.all([png, plain].map((p) => sharp(p).removeAlpha().raw().toBuffer()));
    // Pixels the stage marker adds: different from the plain figure, and a neutral grey darker than the grid.
    let added = 0;
    for (let i = 0; i < a.length; i += 3) if (a[i] === a[i + 1] && a[i + 1] === a[i + 2] && a[i] < 200 && (a[i] !== b[i] || a[i + 1] !== b[i + 1] || a[i + 2] !== b[i + 2])) added++;
    assert.ok(added > 150, `the dashed rule and its label add ${added} grey pixels`);
  });

  it('BAD CALL - unknown metric', async () => {
    await assert.rejects(renderCurves(history(2), 'f1' as 'loss'), { name: 'RangeError', message: /"f1".*accuracy, loss/ });
  });
});

describe('renderConfusionMatrix', () => {
  it('renders 37 classes with long labels, as counts and normalised', async () => {
    await assertPicture(await renderConfusionMatrix(diagonal37, labels37), 800, 800);
    await assertPicture(await renderConfusionMatrix(diagonal37, labels37, { normalize: true }), 800, 800);
  });

  it('renders a matrix with an empty row when normalising', async () => {
    await assertPicture(await renderConfusionMatrix([[0, 0], [1, 3]], ['a', 'b'], { normalize: true }), 250, 250);
  });

  it('BAD CALL - non-square matrix', async () => {
    await assert.rejects(renderConfusionMatrix([[1, 2], [3]], ['a', 'b']), {
      name: 'RangeError',
      message: /"matrix" must be square: row 1 has 1/,
    });
  });

  it('BAD CALL - label count does not match the matrix', async () => {
    await assert.rejects(renderConfusionMatrix([[1, 0], [0, 1]], ['a', 'b', 'c']), {
      name: 'RangeError',
      message: /"labels" has 3 entries but "matrix" is 2 x 2/,
    });
  });

  it('BAD CALL - negative, non-finite or empty input', async () => {
    await assert.rejects(renderConfusionMatrix([[1, -1], [0, 1]], ['a', 'b']), { name: 'RangeError', message: /"matrix".*>= 0/ });
    await assert.rejects(renderConfusionMatrix([[Number.NaN]], ['a']), { name: 'RangeError', message: /"matrix"/ });
    await assert.rejects(renderConfusionMatrix([], []), { name: 'RangeError', message: /"matrix" is empty/ });
    await assert.rejects(renderConfusionMatrix([[1, 0], [0, 1]], ['a', 'a']), { name: 'RangeError', message: /"labels".*duplicate/ });
  });
});

describe('writeCurves', () => {
  const dirs: string[] = [];
  after(async () => Promise.all(dirs.map(async (d) => rm(d, { recursive: true, force: true }))));

  it('writes both PNGs into the run directory and leaves no temporary files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pets-plots-'));
    dirs.push(dir);
    const runDir = join(dir, 'run');
    const paths = await writeCurves(runDir, history(5));
    assert.deepEqual(paths, { accuracy: join(runDir, 'curves-accuracy.png'), loss: join(runDir, 'curves-loss.png') });
    assert.deepEqual((await readdir(runDir)).sort(), ['curves-accuracy.png', 'curves-loss.png']);
    await assertPicture(await sharp(paths.accuracy).toBuffer(), 600, 400);
    await assertPicture(await sharp(paths.loss).toBuffer(), 600, 400);
  });
});
