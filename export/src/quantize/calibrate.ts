// Activation ranges for static quantization: the float32 model runs on onnxruntime-node over the
// calibration images with the tensors to quantize added as graph outputs, and each tensor's range is
// taken as its min/max or as percentiles of its values (two passes: min/max, then a histogram).
import { decodeModel, encodeModel } from '../onnx/schema.js';
import { DataType, type ModelProto, type ValueInfoProto } from '../onnx/types.js';
import { openOrtModel } from '../verify/ort.js';

export type CalibrationMethod = 'minmax' | 'percentile';
export const CALIBRATION_METHODS: readonly CalibrationMethod[] = ['minmax', 'percentile'];

export interface Range {
  lo: number;
  hi: number;
}

export interface CalibrateArgs {
  /** The float32 model. */
  model: ModelProto;
  /** Tensors whose ranges are wanted. */
  tensors: string[];
  /** [n, H, W, 3] calibration inputs. */
  x: Float32Array;
  shape: [number, number, number, number];
  method: CalibrationMethod;
  /** Percentile kept at each tail for 'percentile'. Default 99.99. */
  percentile?: number;
  /** Images per run. Default 8. */
  batch?: number;
  onProgress?: (done: number, total: number) => void;
}

const BINS = 2048;

/** The model with `tensors` as extra float outputs (their shapes are left to onnxruntime). */
function withOutputs(model: ModelProto, tensors: string[]): Uint8Array {
  const copy = decodeModel(encodeModel(model));
  const existing = new Set(copy.graph.output.map((o) => o.name));
  for (const name of tensors) {
    if (existing.has(name)) continue;
    copy.graph.output.push({ name, type: { tensor_type: { elem_type: DataType.FLOAT } } } as ValueInfoProto);
  }
  return encodeModel(copy);
}

async function forEachBatch(args: CalibrateArgs, pass: number, passes: number, visit: (outputs: Record<string, Float32Array>) => void): Promise<void> {
  const ort = await openOrtModel(withOutputs(args.model, args.tensors));
  try {
    const [n, ...rest] = args.shape;
    const perImage = rest.reduce((a, b) => a * b, 1);
    const batch = args.batch ?? 8;
    for (let i = 0; i < n; i += batch) {
      const count = Math.min(batch, n - i);
      visit(await ort.runAll(args.x.subarray(i * perImage, (i + count) * perImage), [count, ...rest]));
      args.onProgress?.(pass * n + i + count, passes * n);
    }
  } finally {
    await ort.release();
  }
}

export async function calibrate(args: CalibrateArgs): Promise<Map<string, Range>> {
  const passes = args.method === 'percentile' ? 2 : 1;
  const ranges = new Map<string, Range>(args.tensors.map((t) => [t, { lo: Infinity, hi: -Infinity }]));
  await forEachBatch(args, 0, passes, (outputs) => {
    for (const [name, range] of ranges) {
      const data = outputs[name];
      for (let i = 0; i < data.length; i++) {
        const v = data[i];
        if (v < range.lo) range.lo = v;
        if (v > range.hi) range.hi = v;
      }
    }
  });
  for (const [name, range] of ranges) {
    if (!Number.isFinite(range.lo) || !Number.isFinite(range.hi)) throw new Error(`Calibration saw no finite value of ${name}`);
  }
  if (args.method === 'minmax') return ranges;

  const histograms = new Map(args.tensors.map((t) => [t, new Float64Array(BINS)]));
  await forEachBatch(args, 1, passes, (outputs) => {
    for (const [name, range] of ranges) {
      const h = histograms.get(name) as Float64Array;
      const width = (range.hi - range.lo) / BINS || 1;
      const data = outputs[name];
      for (let i = 0; i < data.length; i++) h[Math.min(BINS - 1, Math.floor((data[i] - range.lo) / width))]++;
    }
  });
  const keep = (args.percentile ?? 99.99) / 100;
  const result = new Map<string, Range>();
  for (const [name, range] of ranges) {
    result.set(name, percentileRange(histograms.get(name) as Float64Array, range, keep));
  }
  return result;
}

/** The range that keeps `keep` of the values at each tail, read off a histogram over [lo, hi]. */
export function percentileRange(h: Float64Array, range: Range, keep: number): Range {
  const total = h.reduce((a, b) => a + b, 0);
  const width = (range.hi - range.lo) / h.length;
  const cut = total * (1 - keep);
  let below = 0;
  let first = 0;
  while (first < h.length - 1 && below + h[first] <= cut) below += h[first++];
  let above = 0;
  let last = h.length - 1;
  while (last > first && above + h[last] <= cut) above += h[last--];
  return { lo: range.lo + first * width, hi: range.lo + (last + 1) * width };
}
