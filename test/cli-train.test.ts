// pets-train as a user runs it: a fresh process per command, exit codes, what stderr says, what is left on disk.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const sample = join(repo, 'data', 'pets-mini');
const bin = join(repo, 'node_modules', '.bin', 'pets-train');

function petsTrain(...args: string[]) {
  const result = spawnSync(bin, args, { encoding: 'utf8', timeout: 300_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A user error: non-zero exit, the message on stderr, no stack trace. */
function assertUserError(result: ReturnType<typeof petsTrain>, pattern: RegExp, code = 1) {
  assert.equal(result.code, code, `exit code; stderr: ${result.stderr}`);
  assert.match(result.stderr, pattern);
  assert.doesNotMatch(result.stderr, /^\s+at /m, 'no stack trace');
}

const exists = (path: string) => stat(path).then(() => true, () => false);

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'pets-cli-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('pets-train summary', () => {
  test('prints the Keras-style table with the reference parameter counts', () => {
    const model1 = petsTrain('summary', '--preset', 'model1');
    assert.equal(model1.code, 0, model1.stderr);
    assert.match(model1.stdout, /dense1 \(Dense\)\s+\(None, 256\)\s+25,690,368/);
    assert.match(model1.stdout, /Total params: 25,930,789/);
    const model5 = petsTrain('summary', '--preset', 'model5', '--image-size', '128');
    assert.match(model5.stdout, /Total params: 1,128,997/);
    assert.match(model5.stdout, /conv1 \(Conv2D\)\s+\(None, 64, 64, 64\)\s+9,472/);
    assert.equal(model5.stderr, '', 'stderr is clean');
  });

  test('--help shows every option with its default', () => {
    const help = petsTrain('--help');
    assert.equal(help.code, 0);
    for (const option of ['--data', '--out', '--preset', '--backend', '--epochs', '--batch-size', '--learning-rate', '--image-size', '--dropout', '--augment', '--val-fraction', '--seed', '--early-stopping', '--resume', '--cache-mb', '--backbone', '--backbone-layer', '--normalize', '--fine-tune', '--fine-tune-lr', '--unfreeze-from', '--cache-dir', '--mirror-features']) {
      assert.ok(help.stdout.includes(option), option);
    }
    assert.match(help.stdout, /\[default: "mobilenet"\]/);
    assert.match(help.stdout, /\[default: 0\.2\]/);
  });
});

describe('pets-train bad input', () => {
  test('BAD CALL - missing dataset folder', async () => {
    const out = join(root, 'missing');
    assertUserError(petsTrain('--data', join(root, 'nope'), '--out', out, '--epochs', '1'), /^pets-train: .*nope.*(does not exist|not found)/i);
    assert.equal(await exists(out), false, 'nothing written');
  });

  test('BAD CALL - a folder that is no dataset', async () => {
    const empty = join(root, 'empty');
    await mkdir(empty);
    assertUserError(petsTrain('--data', empty, '--out', join(root, 'o-empty')), /annotations\/list\.txt|folder per class/);
  });

  test('BAD CALL - a malformed line in list.txt names the file and line', async () => {
    const broken = join(root, 'broken');
    await cp(join(sample, 'annotations'), join(broken, 'annotations'), { recursive: true });
    await mkdir(join(broken, 'images'));
    const list = (await readFile(join(broken, 'annotations', 'list.txt'), 'utf8')).split('\n');
    list[9] = 'Abyssinian_101 one 1';
    await writeFile(join(broken, 'annotations', 'list.txt'), list.join('\n'));
    const out = join(root, 'o-broken');
    assertUserError(petsTrain('--data', broken, '--out', out), /list\.txt:10: .*Abyssinian_101 one 1/);
    assert.equal(await exists(out), false, 'nothing written');
  });

  test('BAD CALL - unknown preset and backend are usage errors listing the choices', () => {
    assertUserError(petsTrain('--data', sample, '--out', join(root, 'x'), '--preset', 'model9'), /Choices: .*"model1"/, 2);
    assertUserError(petsTrain('--data', sample, '--out', join(root, 'x'), '--backend', 'tpu'), /Choices: .*"wasm"/, 2);
  });

  test('BAD CALL - a backend that cannot run says why', () => {
    assertUserError(petsTrain('--data', sample, '--out', join(root, 'x'), '--backend', 'node'), /Backend "node" cannot run: .*tfjs-node/);
  });

  test('BAD CALL - an image size too small for the architecture names the minimum', async () => {
    assertUserError(petsTrain('--data', sample, '--out', join(root, 'small'), '--preset', 'model3', '--image-size', '8'), /at least 15 pixels/);
    assert.equal(await exists(join(root, 'small')), false);
  });

  test('BAD CALL - --resume where there is no run', () => {
    assertUserError(petsTrain('--data', sample, '--out', join(root, 'none'), '--resume'), /Cannot resume/);
  });
});

describe('pets-train train + evaluate', () => {
  test('a one-epoch run, then evaluate --json on its test split', async () => {
    const run = join(root, 'run');
    const trained = petsTrain('--data', sample, '--out', run, '--preset', 'model3', '--image-size', '24', '--batch-size', '32', '--epochs', '1', '--json');
    assert.equal(trained.code, 0, trained.stderr);
    const summary = JSON.parse(trained.stdout) as { best: { epoch: number }; test: { count: number; accuracy: number } };
    assert.equal(summary.best.epoch, 1);
    assert.equal(summary.test.count, 74);
    assert.match(trained.stderr, /backend: wasm/);
    assert.match(trained.stderr, /skipped node: /);
    assert.match(trained.stderr, /train\s+148\s+37/);
    const evaluated = petsTrain('evaluate', '--run', run, '--split', 'val', '--json');
    assert.equal(evaluated.code, 0, evaluated.stderr);
    const result = JSON.parse(evaluated.stdout) as { count: number; accuracy: number; confusion: number[][]; perClass: unknown[]; files: { png: string; csv: string } };
    assert.equal(result.count, 37);
    assert.equal(result.confusion.flat().reduce((a, b) => a + b, 0), 37);
    assert.equal(result.perClass.length, 37);
    assert.ok(await exists(result.files.png));
    const csv = await readFile(result.files.csv, 'utf8');
    assert.equal(csv.trim().split('\n').length, 38, 'header + 37 rows');
    assertUserError(petsTrain('evaluate', '--run', run, '--checkpoint', 'epoch-9'), /epoch-0009/);
  });
});
