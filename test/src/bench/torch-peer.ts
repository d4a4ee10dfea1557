// npm run bench rows for the PyTorch peer: model3's training step at 224, batch 16, in PyTorch on the CPU
// against pets' wasm step, alternating in one child process (torch-peer-child.ts), and their ratio.
// The bench installs nothing: without a Python that imports torch the rows are skipped with the reason.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Row } from './inference.js';
import { perUnit, type Timing } from './stats.js';

const child = fileURLToPath(new URL('./torch-peer-child.js', import.meta.url));
const script = fileURLToPath(new URL('../../../bench-py/model3_step.py', import.meta.url));

/** A Python that imports torch: $PETS_PYTHON, else python3 on the PATH, else Debian's /usr/bin/python3. */
function findTorchPython(): { python: string } | { error: string } {
  const candidates = [process.env.PETS_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p);
  for (const python of candidates) {
    const probe = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8', timeout: 60_000 });
    if (probe.status === 0) return { python };
  }
  return { error: `no Python with torch (tried ${candidates.join(', ')}; apt-get install python3-torch, or set PETS_PYTHON)` };
}

export interface TorchPeer {
  rows: Row[];
  skipped: string[];
  /** torch ms/image over pets ms/image (pets' speed as a share of PyTorch's), NaN when skipped. */
  ratio: number;
}

export function torchPeerRows(size: number, batch: number, quick: boolean): TorchPeer {
  const found = findTorchPython();
  if ('error' in found) return { rows: [], skipped: [`PyTorch peer: ${found.error}`], ratio: NaN };
  const args = ['--python', found.python, '--script', script, '--size', String(size), '--batch', String(batch), '--rounds', quick ? '1' : '3'];
  const result = spawnSync(process.execPath, [child, ...args], { encoding: 'utf8', timeout: 1_800_000 });
  const line = result.stdout?.trim().split('\n').pop() ?? '';
  if (result.status !== 0 || !line.startsWith('{')) {
    const message = result.stderr?.split('\n').find((l) => /^\w*Error: |mismatch/.test(l.trim())) ?? (result.stderr || String(result.error)).trim().split('\n')[0];
    return { rows: [], skipped: [`PyTorch peer: ${message.trim().slice(0, 300)}`], ratio: NaN };
  }
  const r = JSON.parse(line) as { threads: number; torchThreads: number; torchVersion: string; pets: Timing; torch: Timing };
  const [pets, torch] = [perUnit(r.pets, batch), perUnit(r.torch, batch)];
  const ratio = torch.median / pets.median;
  const what = `model3 @${size}, batch ${batch}, Adam step`;
  return {
    rows: [
      { group: 'training', name: `pets: tfjs wasm (${r.threads} threads) ${what}, alternating with PyTorch`, perImage: pets },
      { group: 'training', name: `PyTorch ${r.torchVersion} CPU (${r.torchThreads} threads) ${what}, alternating with pets`, perImage: torch, note: `pets' speed = ${ratio.toFixed(2)}x PyTorch's` },
    ],
    skipped: [],
    ratio,
  };
}
