// npm run bench rows for createRemoteClassifier(): the same photos classified through a pets-serve process
// over loopback (decoding and preprocessing in the client, one binary FP32 tensor per call) and by
// classify() in process, side by side, one photo per call and 16 per call; and the ratio.
// Standalone: node test/dist/src/bench/remote.js --model M.onnx [--quick]
import { spawn } from 'node:child_process';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClassifier, createRemoteClassifier } from '@pets/runtime';
import type { Row } from './inference.js';
import { measureSideBySide, perUnit } from './stats.js';

const repo = fileURLToPath(new URL('../../../..', import.meta.url));

export interface RemoteBench {
  rows: Row[];
  skipped: string[];
}

/** pets-serve on a free port, stopped by the returned function. */
async function startServe(model: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [join(repo, 'node_modules', '.bin', 'pets-serve'), '--model', `bench=${model}`, '--port', '0', '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  let stderr = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match) resolve(match[1]);
    });
    void exited.then((code) => reject(new Error(`pets-serve exited with ${code}: ${stderr.trim().split('\n').pop()}`)));
  });
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export async function remoteRows(model: string, photos: string[], quick: boolean, progress: (message: string) => void): Promise<RemoteBench> {
  const out: RemoteBench = { rows: [], skipped: [] };
  let server: Awaited<ReturnType<typeof startServe>> | undefined;
  try {
    server = await startServe(model);
    // Same thread count on both sides: the server's session and the in-process one use every core.
    const local = await createClassifier({ model });
    const remote = await createRemoteClassifier({ url: server.url, model: 'bench' });
    const batch = photos.slice(0, 16);
    for (const [per, label] of [[1, 'one photo per call'], [batch.length, `${batch.length} photos per call`]] as const) {
      progress(`remote client: createRemoteClassifier() via pets-serve vs classify() in process, ${label}`);
      const inputs = batch.slice(0, per);
      const t = await measureSideBySide(
        { local: () => local.classify(inputs), remote: () => remote.classify(inputs) },
        { rounds: quick ? 2 : 5, perRound: per === 1 ? 5 : 1 },
      );
      const ratio = t.remote.median / t.local.median;
      out.rows.push(
        { group: 'serve', name: `classify() in process, ${label} (JPEG ${basename(inputs[0])}...)`, perImage: perUnit(t.local, per) },
        { group: 'serve', name: `createRemoteClassifier() via pets-serve on loopback, ${label}`, perImage: perUnit(t.remote, per), note: `${ratio.toFixed(2)}x in-process` },
      );
    }
    await local.dispose();
  } catch (error) {
    out.skipped.push(`remote client: ${(error as Error).message}`);
  } finally {
    await server?.stop();
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--model');
  if (at < 0) throw new Error('Usage: node test/dist/src/bench/remote.js --model M.onnx [--quick]');
  const images = join(repo, 'data', 'pets-mini', 'images');
  const photos = ['Abyssinian_158', 'Birman_144', 'Bombay_10', 'British_Shorthair_176', 'Egyptian_Mau_140', 'Persian_131', 'Persian_134', 'Ragdoll_10', 'Russian_Blue_111', 'Russian_Blue_112', 'Siamese_158', 'Siamese_175', 'american_bulldog_168', 'beagle_121', 'beagle_164', 'beagle_171'].map((n) => join(images, `${n}.jpg`));
  const result = await remoteRows(process.argv[at + 1], photos, process.argv.includes('--quick'), (m) => process.stderr.write(`${m}\n`));
  for (const row of result.rows) console.log(`${row.name}: ${row.perImage.median.toFixed(2)} ms/image (min ${row.perImage.min.toFixed(2)}, max ${row.perImage.max.toFixed(2)})${row.note ? `, ${row.note}` : ''}`);
  for (const s of result.skipped) console.log(`skipped: ${s}`);
  process.exit(0);
}
