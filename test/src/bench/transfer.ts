// npm run bench rows for transfer learning on the bundled backbones: feature extraction and a fine-tuning
// step on wasm (ms per image), a head epoch on cached features of the full dataset's size, and the
// exported transfer model's inference in onnxruntime-node and onnxruntime-web. Each measurement runs in a
// fresh process (transfer-child.ts), like the model3 training rows.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Row } from './inference.js';

const child = fileURLToPath(new URL('./transfer-child.js', import.meta.url));
const BACKBONES = ['mobilenet_v1_0.75_224', 'darknet-tiny'];
const MODES = ['features', 'head', 'fine-tune', 'onnx'] as const;

function measureChild(backbone: string, mode: string, runs: number): Row[] | { error: string } {
  const result = spawnSync(process.execPath, [child, '--backbone', backbone, '--mode', mode, '--runs', String(runs)], { encoding: 'utf8', timeout: 1_200_000 });
  const line = result.stdout?.trim().split('\n').pop() ?? '';
  if (result.status !== 0 || !line.startsWith('{')) {
    const message = result.stderr?.split('\n').find((l) => /^\w*Error: /.test(l.trim())) ?? (result.stderr || String(result.error)).trim().split('\n')[0];
    return { error: message.trim().slice(0, 300) };
  }
  const { rows } = JSON.parse(line) as { rows: Omit<Row, 'group'>[] };
  return rows.map((r) => ({ ...r, group: mode === 'onnx' ? 'inference' : 'transfer' }));
}

export function transferRows(quick: boolean, progress: (message: string) => void): { rows: Row[]; skipped: string[] } {
  const rows: Row[] = [];
  const skipped: string[] = [];
  for (const backbone of BACKBONES) {
    for (const mode of MODES) {
      progress(`transfer: ${backbone} ${mode}`);
      const result = measureChild(backbone, mode, quick ? 1 : 3);
      if ('error' in result) skipped.push(`transfer ${backbone} ${mode}: ${result.error}`);
      else rows.push(...result);
    }
  }
  return { rows, skipped };
}
