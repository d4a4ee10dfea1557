// pets-train download: archives built here from data/pets-mini in the official layout, served by a
// loopback server that can drop a connection half way, ignore Range, or answer 404; nothing leaves the
// machine. Covers resume, restart, md5 checks, a plain tar named .tar.gz and the skip/repair report.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cp, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { create } from 'tar';
import { loadDataset } from '../src/data/dataset.js';
import { train } from '../src/train.js';
import { downloadDataset, MARKER_FILE, type DatasetDownloadEvent, type DownloadDatasetOptions } from '../src/dataset-download/index.js';
import { PETS_MINI, TRAIN_CLI } from './fixtures.js';

/** A 1x1 PNG, to be served under a .jpg name. */
const PNG_1X1 = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
const FAST: DownloadDatasetOptions = { retries: 3, retryDelayMs: 10, idleTimeoutMs: 10_000 };

/** Archive bytes per variant ("ok", "plain", "broken") and file name. */
const archives = new Map<string, Buffer>();
/** Requests the server saw: path and Range header. */
const requests: { path: string; range: string | undefined }[] = [];
/** Variants whose next full request of images.tar.gz is cut off half way. */
const dropOnce = new Set<string>();
let tmp: string;
let server: Server;
let base: string;
let truncatedName: string;
let pngName: string;

const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex');
const md5Of = (variant: string) => ({ images: md5(archives.get(`${variant}/images.tar.gz`)!), annotations: md5(archives.get(`${variant}/annotations.tar.gz`)!) });
const exists = async (path: string) => (await stat(path).catch(() => null)) !== null;

async function pack(cwd: string, folder: string, gzip: boolean): Promise<Buffer> {
  const file = join(tmp, `pack-${Math.random().toString(36).slice(2)}.tar`);
  await create({ file, cwd, gzip, portable: true }, [folder]);
  return readFile(file);
}

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'pets-dataset-download-'));
  archives.set('ok/images.tar.gz', await pack(PETS_MINI, 'images', true));
  archives.set('ok/annotations.tar.gz', await pack(PETS_MINI, 'annotations', true));
  archives.set('plain/images.tar.gz', await pack(PETS_MINI, 'images', false));
  archives.set('plain/annotations.tar.gz', archives.get('ok/annotations.tar.gz')!);
  // The official archive's kinds of damage: a truncated JPEG and a PNG named .jpg.
  const broken = join(tmp, 'broken');
  await cp(PETS_MINI, broken, { recursive: true });
  const names = (await readdir(join(broken, 'images'))).sort();
  [truncatedName, pngName] = [names[0], names[1]];
  const jpeg = await readFile(join(broken, 'images', truncatedName));
  await writeFile(join(broken, 'images', truncatedName), jpeg.subarray(0, Math.floor(jpeg.length / 2)));
  await writeFile(join(broken, 'images', pngName), PNG_1X1);
  archives.set('broken/images.tar.gz', await pack(broken, 'images', true));
  archives.set('broken/annotations.tar.gz', archives.get('ok/annotations.tar.gz')!);
  for (const file of ['images.tar.gz', 'annotations.tar.gz']) {
    archives.set(`drop/${file}`, archives.get(`ok/${file}`)!);
    archives.set(`norange/${file}`, archives.get(`ok/${file}`)!);
  }

  server = createServer((req, res) => {
    const path = (req.url ?? '/').slice(1);
    const range = req.headers.range;
    requests.push({ path, range });
    const body = archives.get(path);
    const variant = path.split('/')[0];
    if (!body || body.length === 0) {
      res.writeHead(404).end('not found');
      return;
    }
    const match = /^bytes=(\d+)-$/.exec(range ?? '');
    if (match && variant !== 'norange') {
      const start = Number(match[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, { 'content-length': body.length - start, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` });
      res.end(body.subarray(start));
      return;
    }
    res.writeHead(200, { 'content-length': body.length });
    if (path.endsWith('images.tar.gz') && dropOnce.delete(variant)) {
      // Half the body, then the connection drops.
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => setTimeout(() => req.socket.destroy(), 50));
      return;
    }
    res.end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  server.unref();
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  server.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('downloadDataset', () => {
  test('downloads, verifies and extracts a mirror; a second run fetches nothing and says it is there', async () => {
    const out = join(tmp, 'ok-out');
    const first = await downloadDataset({ ...FAST, out, mirror: `${base}/ok`, md5: md5Of('ok') });
    assert.equal(first.alreadyPresent, false);
    const dataset = await loadDataset(out);
    assert.equal(dataset.trainval.length + dataset.test.length, 259);
    assert.deepEqual(first.report, { checked: 259, missing: [], undecodable: [], mislabelled: [] });
    assert.ok(await exists(join(out, MARKER_FILE)));
    assert.deepEqual((await readdir(tmp)).filter((f) => f.startsWith('.ok-out')), [], 'no archive, .part or temporary folder is left');

    const seen = requests.length;
    const events: DatasetDownloadEvent[] = [];
    const second = await downloadDataset({ ...FAST, out, mirror: `${base}/ok`, md5: md5Of('ok'), onEvent: (e) => events.push(e) });
    assert.equal(requests.length, seen, 'the second run makes no request');
    assert.equal(second.alreadyPresent, true);
    assert.deepEqual(events, [{ type: 'present', out }]);
  });

  test('a connection dropped half way resumes with a Range request', async () => {
    const out = join(tmp, 'drop-out');
    dropOnce.add('drop');
    const events: DatasetDownloadEvent[] = [];
    const result = await downloadDataset({ ...FAST, out, mirror: `${base}/drop`, md5: md5Of('ok'), onEvent: (e) => events.push(e) });
    const ranged = requests.filter((r) => r.path === 'drop/images.tar.gz' && r.range !== undefined);
    assert.equal(ranged.length, 1);
    assert.match(ranged[0].range!, /^bytes=[1-9]\d*-$/);
    const resumed = events.find((e) => e.type === 'download' && e.resumedFrom > 0);
    assert.ok(resumed, 'the second attempt appends');
    assert.ok(events.some((e) => e.type === 'retry'));
    assert.equal(result.report.checked, 259);
    const dataset = await loadDataset(out);
    assert.equal(dataset.trainval.length + dataset.test.length, 259);
  });

  test('a server that ignores Range: the file restarts cleanly and completes', async () => {
    const out = join(tmp, 'norange-out');
    dropOnce.add('norange');
    const events: DatasetDownloadEvent[] = [];
    await downloadDataset({ ...FAST, out, mirror: `${base}/norange`, md5: md5Of('ok'), onEvent: (e) => events.push(e) });
    assert.ok(requests.some((r) => r.path === 'norange/images.tar.gz' && r.range !== undefined), 'it asked for the rest');
    assert.deepEqual(events.filter((e) => e.type === 'download' && e.archive === 'images').map((e) => e.type === 'download' && e.resumedFrom), [0, 0]);
    const dataset = await loadDataset(out);
    assert.equal(dataset.trainval.length + dataset.test.length, 259);
  });

  test('a plain tar served as images.tar.gz extracts', async () => {
    const out = join(tmp, 'plain-out');
    const result = await downloadDataset({ ...FAST, out, mirror: `${base}/plain`, md5: md5Of('plain') });
    assert.equal(result.report.checked, 259);
    assert.equal((await readdir(join(out, 'images'))).length, 259);
  });

  test('the report lists the truncated JPEG (skipped) and the PNG named .jpg (read as PNG)', async () => {
    const out = join(tmp, 'broken-out');
    const { report } = await downloadDataset({ ...FAST, out, mirror: `${base}/broken`, md5: md5Of('broken') });
    assert.equal(report.checked, 259);
    assert.deepEqual(report.undecodable.map((u) => u.name), [truncatedName]);
    assert.doesNotMatch(report.undecodable[0].reason, /broken-out\.tmp|\/tmp\//, 'names the image, not the temporary folder');
    assert.deepEqual(report.mislabelled, [{ name: pngName, extension: '.jpg', content: 'png' }]);
  });

  test('BAD CALL - a wrong md5 leaves nothing at the output', async () => {
    const out = join(tmp, 'badmd5-out');
    await assert.rejects(downloadDataset({ ...FAST, out, mirror: `${base}/ok`, md5: { images: '0'.repeat(32) } }), {
      name: 'DatasetDownloadError',
      message: /images\.tar\.gz has md5 [0-9a-f]{32}, expected 0{32}/,
    });
    assert.equal(await exists(out), false);
    assert.deepEqual((await readdir(tmp)).filter((f) => f.startsWith('.badmd5-out')), [], 'the .part file with wrong bytes is gone');
  });

  test('BAD CALL - a 404 names the URL and the status', async () => {
    const out = join(tmp, 'missing-out');
    await assert.rejects(downloadDataset({ ...FAST, out, mirror: `${base}/nowhere` }), {
      name: 'DatasetDownloadError',
      message: new RegExp(`${base}/nowhere/images\\.tar\\.gz answered HTTP 404`),
    });
    assert.equal(await exists(out), false);
  });

  test('BAD CALL - an unreachable server fails at once with one line', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, 'close');
    const events: DatasetDownloadEvent[] = [];
    await assert.rejects(downloadDataset({ ...FAST, out: join(tmp, 'offline-out'), mirror: `http://127.0.0.1:${port}`, onEvent: (e) => events.push(e) }), {
      name: 'DatasetDownloadError',
      message: /^Cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\); check the network, or pass --mirror\.$/,
    });
    assert.equal(events.filter((e) => e.type === 'retry').length, 0);
  });

  test('BAD CALL - an existing folder that is not a completed download is left alone', async () => {
    const out = join(tmp, 'occupied');
    await cp(PETS_MINI, out, { recursive: true });
    await assert.rejects(downloadDataset({ ...FAST, out, mirror: `${base}/ok` }), { name: 'DatasetDownloadError', message: /already exists but holds no \.pets-download\.json/ });
  });
});

describe('train({ download })', () => {
  test('a missing --data folder is downloaded first, then trained on', async () => {
    const data = join(tmp, 'train-data');
    const events: string[] = [];
    const result = await train({
      data,
      download: { ...FAST, mirror: `${base}/ok`, md5: md5Of('ok') },
      out: join(tmp, 'train-run'),
      preset: 'model2',
      backend: 'wasm',
      imageSize: 24,
      batchSize: 16,
      epochs: 1,
      limit: 16,
      onEvent: (e) => events.push(e.type === 'dataset-download' ? `dataset-download:${e.event.type}` : e.type),
    });
    assert.ok(events.includes('dataset-download:verified'));
    assert.ok(events.indexOf('dataset-download:scan') < events.indexOf('dataset'), 'downloaded before the data is read');
    assert.equal(result.history.length, 1);
    assert.ok(await exists(join(data, MARKER_FILE)));
  });
});

describe('pets-train download', () => {
  test('the CLI downloads from a mirror with --md5 and reports where the data is', async () => {
    const out = join(tmp, 'cli-out');
    const sums = md5Of('ok');
    const child = spawn(process.execPath, [TRAIN_CLI, 'download', '--out', out, '--mirror', `${base}/ok`, '--md5', `images=${sums.images},annotations=${sums.annotations}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 0, stderr);
    assert.match(stdout, /checked 259 listed images: 0 missing and 0 undecodable/);
    assert.match(stdout, new RegExp(`dataset ready in ${out}`));
    assert.match(stderr, /images\.tar\.gz: md5 [0-9a-f]{32} verified/);
  });

  test('pets-train --data DIR --download --mirror --md5 downloads into the missing folder, then trains', async () => {
    const data = join(tmp, 'cli-train-data');
    const sums = md5Of('ok');
    const args = [TRAIN_CLI, '--data', data, '--download', '--mirror', `${base}/ok`, '--md5', `images=${sums.images},annotations=${sums.annotations}`,
      '--out', join(tmp, 'cli-train-run'), '--preset', 'model2', '--backend', 'wasm', '--image-size', '24', '--batch-size', '16', '--epochs', '1', '--limit', '16'];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 0, stderr);
    assert.match(stderr, /images\.tar\.gz: md5 [0-9a-f]{32} verified/);
    assert.match(stderr, /^epoch 1: /m);
  });

  test('BAD CALL - a malformed --md5 is a one-line user error', async () => {
    const child = spawn(process.execPath, [TRAIN_CLI, 'download', '--out', join(tmp, 'never'), '--mirror', `${base}/ok`, '--md5', 'images=xyz'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 1);
    assert.match(stderr, /^pets-train: --md5 part "images=xyz" must be NAME=HEX/);
    assert.doesNotMatch(stderr, /unexpected error/);
  });
});
