// A Keras-style model summary: one row per layer with its output shape and parameter count.
import type { LayersModel } from './backend/tf.js';

export interface LayerRow {
  name: string;
  className: string;
  outputShape: (number | null)[];
  params: number;
}

export interface ModelSummary {
  name: string;
  layers: LayerRow[];
  totalParams: number;
  trainableParams: number;
  nonTrainableParams: number;
}

function weightCount(shapes: { shape: (number | null)[] }[]): number {
  return shapes.reduce((sum, w) => sum + w.shape.reduce<number>((n, d) => n * (d ?? 1), 1), 0);
}

export function summarize(model: LayersModel): ModelSummary {
  const layers = model.layers.map((layer) => ({
    name: layer.name,
    className: layer.getClassName(),
    outputShape: layer.outputShape as (number | null)[],
    params: layer.countParams(),
  }));
  const trainableParams = weightCount(model.trainableWeights);
  const nonTrainableParams = weightCount(model.nonTrainableWeights);
  return { name: model.name, layers, totalParams: trainableParams + nonTrainableParams, trainableParams, nonTrainableParams };
}

const group = (n: number): string => n.toLocaleString('en-US');

export function formatSummary(summary: ModelSummary): string {
  const widths = [30, 26, 12];
  const row = (cells: string[]) => cells.map((c, i) => (i === 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('');
  const rule = (ch: string) => ch.repeat(widths.reduce((a, b) => a + b, 0));
  const lines = [`Model: "${summary.name}"`, rule('_'), row(['Layer (type)', 'Output Shape', 'Param #']), rule('=')];
  for (const layer of summary.layers) {
    const shape = `(${layer.outputShape.map((d) => (d === null ? 'None' : String(d))).join(', ')})`;
    lines.push(row([`${layer.name} (${layer.className})`, shape, group(layer.params)]));
  }
  lines.push(
    rule('='),
    `Total params: ${group(summary.totalParams)}`,
    `Trainable params: ${group(summary.trainableParams)}`,
    `Non-trainable params: ${group(summary.nonTrainableParams)}`,
  );
  return lines.join('\n');
}
