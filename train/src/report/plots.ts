// Training figures as PNG: Vega-Lite specs rendered headless to SVG by vega, rasterised by sharp (librsvg).
// Pictures are what people look at after a run, so these favour readability over configurability.
import { join } from 'node:path';
import sharp from 'sharp';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import type { EpochMetrics } from '../history.js';
import { writeFileAtomic } from '../util/atomic.js';

export type { EpochMetrics };

export interface CurvesOptions {
  /** Figure title. Default: "Model accuracy" or "Model loss". */
  title?: string;
}

export interface ConfusionMatrixOptions {
  /** Figure title. Default: "Confusion matrix", plus "(normalized per row)" when normalize is set. */
  title?: string;
  /** Divide each row by its total so cells read as recall fractions. Default: false (raw counts). */
  normalize?: boolean;
}

// A font that librsvg finds through fontconfig on the training machines; generic fallback after it.
const FONT = 'DejaVu Sans, Verdana, sans-serif';
// matplotlib's first two tab10 colours, so the curves look like the Keras study's figures.
const TRAIN_COLOR = '#1f77b4';
const VAL_COLOR = '#ff7f0e';
const BLUES = ['#f7fbff', '#deebf7', '#c6dbef', '#9ecae1', '#6baed6', '#4292c6', '#2171b5', '#08519c', '#08306b'];

const baseConfig: vegaLite.Config = {
  font: FONT,
  background: 'white',
  view: { stroke: '#888' },
  title: { fontSize: 18, anchor: 'middle', subtitleColor: '#a33', subtitleFontSize: 12 },
  axis: { labelFontSize: 12, titleFontSize: 14, gridColor: '#e6e6e6' },
  legend: { labelFontSize: 13, titleFontSize: 13 },
};

// Advance widths in em of DejaVu Sans (measured with pango), grouped; other characters count 0.62 em.
const GLYPH_WIDTHS: readonly (readonly [string, number])[] = [
  [" .,:;'|!ijlIJ", 0.3], ['-()/frt', 0.38], ['_sz', 0.52], ['ckvxyFLPTY', 0.58],
  ['ABCDEGHKNORSUVXZ', 0.72], ['w%', 0.84], ['mMW\u2026', 0.97],
];
const glyphWidth = new Map(GLYPH_WIDTHS.flatMap(([chars, em]) => [...chars].map((c) => [c, em] as const)));
interface TextItem { fontSize?: number; fontWeight?: string | number; limit?: number }

/**
 * Without node-canvas vega sizes text at 0.8 em per character, which truncates long breed names and leaves
 * wide margins. Like vl-convert, swap in widths for the font we ask for; leave a real canvas alone.
 */
function useFontMetrics(): void {
  const metrics = (vega as unknown as { textMetrics?: { width: unknown; estimateWidth: unknown } }).textMetrics;
  if (metrics === undefined || metrics.width !== metrics.estimateWidth) return;
  metrics.width = (item: TextItem, line?: unknown): number => {
    let em = 0;
    for (const c of line == null ? '' : String(line).trim()) em += glyphWidth.get(c) ?? 0.62;
    const bold = item.fontWeight === 'bold' || Number(item.fontWeight) >= 600;
    const width = em * (item.fontSize ?? 11) * (bold ? 1.1 : 1);
    // vega truncates to item.limit by bisecting with this function, so a clamped width is what it expects.
    return item.limit !== undefined && item.limit > 0 ? Math.min(width, item.limit) : width;
  };
}

async function renderPng(spec: vegaLite.TopLevelSpec): Promise<Buffer> {
  useFontMetrics();
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return await sharp(Buffer.from(svg)).flatten({ background: '#ffffff' }).png().toBuffer();
  } finally {
    view.finalize();
  }
}

/** Train vs validation curve of one metric over epochs, like Keras' `plot(history)` figures. */
export async function renderCurves(
  history: readonly (EpochMetrics & { stage?: string })[],
  metric: 'accuracy' | 'loss',
  options: CurvesOptions = {},
): Promise<Buffer> {
  if (metric !== 'accuracy' && metric !== 'loss') {
    throw new RangeError(`Unsupported metric "${String(metric)}". Expected one of: accuracy, loss.`);
  }
  const valKey = metric === 'accuracy' ? 'valAccuracy' : 'valLoss';
  // A diverging run logs NaN or Infinity. Those points are dropped (the line joins the finite neighbours)
  // and counted in a subtitle, rather than clamped, so the y scale stays that of the real values.
  const points: { epoch: number; series: string; value: number }[] = [];
  let dropped = 0;
  for (const row of history) {
    for (const [series, value] of [['train', row[metric]], ['validation', row[valKey]]] as const) {
      if (Number.isFinite(row.epoch) && Number.isFinite(value)) points.push({ epoch: row.epoch, series, value });
      else dropped += 1;
    }
  }
  const title = options.title ?? (metric === 'accuracy' ? 'Model accuracy' : 'Model loss');
  const subtitle = dropped > 0 ? `${dropped} non-finite value(s) (NaN/Infinity) not plotted` : undefined;
  const epochs = new Set(points.map((p) => p.epoch)).size;
  // Transfer runs: a dashed rule where fine-tuning starts, so a jump in the curves reads as the new stage.
  const fineTune = history.find((row) => row.stage === 'fine-tune');
  const stageLayers: Record<string, unknown>[] = fineTune
    ? [
        {
          data: { values: [{ epoch: fineTune.epoch - 0.5, label: 'fine-tuning' }] },
          mark: { type: 'rule', strokeDash: [6, 4], color: '#555', strokeWidth: 1.5 },
          encoding: { x: { field: 'epoch', type: 'quantitative' } },
        },
        {
          data: { values: [{ epoch: fineTune.epoch - 0.5, label: 'fine-tuning' }] },
          mark: { type: 'text', align: 'left', baseline: 'top', dx: 4, dy: 4, fontSize: 12, color: '#555' },
          encoding: { x: { field: 'epoch', type: 'quantitative' }, y: { value: 0 }, text: { field: 'label' } },
        },
      ]
    : [];
  const curves: vegaLite.TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: subtitle === undefined ? title : { text: title, subtitle },
    width: 700,
    height: 400,
    padding: 16,
    config: baseConfig,
    data: { values: points },
    // Points help read a short run; on long runs they would merge into a thick smear.
    mark: { type: 'line', strokeWidth: 2, point: epochs <= 60 ? { size: 36, filled: true } : false },
    encoding: {
      x: {
        field: 'epoch',
        type: 'quantitative',
        title: 'epoch',
        scale: { zero: false, nice: false, padding: 12 },
        axis: { format: 'd', tickMinStep: 1 },
      },
      y: {
        field: 'value',
        type: 'quantitative',
        title: metric,
        scale: { zero: false, padding: 8 },
      },
      color: {
        field: 'series',
        type: 'nominal',
        title: null,
        scale: { domain: ['train', 'validation'], range: [TRAIN_COLOR, VAL_COLOR] },
        // Above the plot, where no curve can hide under it.
        legend: { orient: 'top', direction: 'horizontal', symbolType: 'stroke', symbolStrokeWidth: 3, symbolSize: 400 },
      },
      order: { field: 'epoch', type: 'quantitative' },
    },
  };
  if (stageLayers.length === 0) return renderPng(curves);
  const { mark, encoding, ...frame } = curves as unknown as Record<string, unknown>;
  return renderPng({ ...frame, layer: [{ mark, encoding }, ...stageLayers] } as unknown as vegaLite.TopLevelSpec);
}

function validateConfusion(matrix: readonly (readonly number[])[], labels: readonly string[]): void {
  if (!Array.isArray(matrix) || !matrix.every((row) => Array.isArray(row))) {
    throw new TypeError('Parameter "matrix" must be an array of number arrays.');
  }
  if (!Array.isArray(labels) || !labels.every((l) => typeof l === 'string')) {
    throw new TypeError('Parameter "labels" must be an array of strings.');
  }
  const n = matrix.length;
  if (n === 0) throw new RangeError('Parameter "matrix" is empty. Expected an n x n matrix with n >= 1.');
  matrix.forEach((row, i) => {
    if (row.length !== n) {
      throw new RangeError(`Parameter "matrix" must be square: row ${i} has ${row.length} entries, expected ${n}.`);
    }
    row.forEach((v, j) => {
      if (!Number.isFinite(v) || v < 0) {
        throw new RangeError(`Parameter "matrix" has ${v} at [${i}][${j}]. Expected finite numbers >= 0.`);
      }
    });
  });
  if (labels.length !== n) {
    throw new RangeError(`Parameter "labels" has ${labels.length} entries but "matrix" is ${n} x ${n}.`);
  }
  if (new Set(labels).size !== n) throw new RangeError('Parameter "labels" has duplicate names.');
}

/** Heatmap of a confusion matrix: rows are the true class, columns the predicted class. */
export async function renderConfusionMatrix(
  matrix: readonly (readonly number[])[],
  labels: readonly string[],
  options: ConfusionMatrixOptions = {},
): Promise<Buffer> {
  validateConfusion(matrix, labels);
  const normalize = options.normalize ?? false;
  const n = labels.length;
  const cells: { actual: string; predicted: string; value: number; text: string }[] = [];
  matrix.forEach((row, i) => {
    // An empty row (class absent from the evaluation set) normalises to zeros instead of NaN.
    const total = row.reduce((a, b) => a + b, 0);
    row.forEach((count, j) => {
      const value = normalize ? (total > 0 ? count / total : 0) : count;
      // Zeros stay blank: with 37 classes a wall of "0" hides the few off-diagonal errors that matter.
      const text = value === 0 ? '' : normalize ? value.toFixed(2).replace(/^0\./, '.') : String(count);
      cells.push({ actual: labels[i], predicted: labels[j], value, text });
    });
  });
  // Fractions share one fixed scale so two normalised figures compare by colour.
  const max = normalize ? 1 : cells.reduce((m, c) => Math.max(m, c.value), 1);
  const cell = Math.max(20, Math.min(100, Math.floor(740 / n)));
  const fontSize = Math.max(8, Math.min(16, Math.floor(cell / 2.6)));
  const domain = [...labels];
  const title = options.title ?? (normalize ? 'Confusion matrix (normalized per row)' : 'Confusion matrix');
  const spec: vegaLite.TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: cell * n,
    height: cell * n,
    padding: 16,
    config: { ...baseConfig, axis: { ...baseConfig.axis, labelFontSize: 11, labelLimit: 240, grid: false } },
    data: { values: cells },
    encoding: {
      x: { field: 'predicted', type: 'ordinal', title: 'predicted class', scale: { domain },
        axis: { labelAngle: -50, labelAlign: 'right', labelBaseline: 'middle', orient: 'bottom' } },
      y: { field: 'actual', type: 'ordinal', title: 'true class', scale: { domain } },
    },
    layer: [
      {
        mark: { type: 'rect', stroke: '#ffffff', strokeWidth: 0.5 },
        encoding: {
          color: {
            field: 'value',
            type: 'quantitative',
            title: normalize ? 'fraction of row' : 'count',
            // matplotlib's Blues, which starts at white (vega's 'blues' starts pale blue, so zeros look filled).
            scale: { domain: [0, max], range: BLUES },
            // Integer counts: at most one tick per whole number, so small maxima do not repeat labels.
            legend: { gradientLength: Math.min(400, cell * n), format: normalize ? '.1f' : 'd', tickCount: normalize ? 5 : Math.min(5, max) },
          },
        },
      },
      {
        mark: { type: 'text', fontSize, baseline: 'middle' },
        encoding: {
          text: { field: 'text', type: 'nominal' },
          // Dark text on pale cells, white on dark ones, as matplotlib's confusion displays do.
          color: { condition: { test: `datum.value > ${max / 2}`, value: 'white' }, value: '#222' },
        },
      },
    ],
  };
  return renderPng(spec);
}

/** Writes curves-accuracy.png and curves-loss.png into runDir atomically; returns their paths. */
export async function writeCurves(
  runDir: string,
  history: readonly EpochMetrics[],
): Promise<{ accuracy: string; loss: string }> {
  const accuracy = join(runDir, 'curves-accuracy.png');
  const loss = join(runDir, 'curves-loss.png');
  const [accuracyPng, lossPng] = await Promise.all([renderCurves(history, 'accuracy'), renderCurves(history, 'loss')]);
  await writeFileAtomic(accuracy, accuracyPng);
  await writeFileAtomic(loss, lossPng);
  return { accuracy, loss };
}
