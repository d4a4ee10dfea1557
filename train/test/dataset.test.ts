import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { DatasetError, loadDataset } from '../src/data/dataset.js';

import { PETS_MINI } from './fixtures.js';
const HEADER = '#Image CLASS-ID SPECIES BREED ID\n#ID: 1:37 Class ids\n';

let tmp: string;
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'pets-dataset-test-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A tiny Oxford-layout dataset: list/trainval/test texts, and image files for the given names. */
async function oxford(name: string, files: { list?: string; trainval?: string; test?: string }, images: string[]): Promise<string> {
  const root = join(tmp, name);
  await mkdir(join(root, 'annotations'), { recursive: true });
  await mkdir(join(root, 'images'), { recursive: true });
  for (const [file, text] of Object.entries(files)) await writeFile(join(root, 'annotations', `${file}.txt`), text);
  for (const image of images) await writeFile(join(root, 'images', `${image}.jpg`), 'not decoded here');
  return root;
}

const LIST = `${HEADER}Abyssinian_1 1 1 1\nAbyssinian_2 1 1 1\nbeagle_1 2 2 1\nbeagle_2 2 2 1\n`;
const IMAGES = ['Abyssinian_1', 'Abyssinian_2', 'beagle_1', 'beagle_2'];

async function image(path: string, colour: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await sharp({ create: { width: 8, height: 8, channels: 3, background: colour } }).jpeg().toFile(path);
}

async function rejectsWith(root: string, pattern: RegExp): Promise<void> {
  await assert.rejects(loadDataset(root), (error: Error) => {
    assert.equal(error.name, 'DatasetError');
    assert.ok(error instanceof DatasetError);
    assert.match(error.message, pattern);
    assert.doesNotMatch(error.message, /\n/, 'messages are one line');
    return true;
  });
}

describe('loadDataset: Oxford-IIIT Pet layout', () => {
  test('pets-mini: 37 labels in CLASS-ID order, 185 trainval and 74 test images', async () => {
    const data = await loadDataset(PETS_MINI);
    assert.equal(data.layout, 'oxford-pet');
    assert.equal(data.labels.length, 37);
    assert.equal(data.labels[0], 'Abyssinian');
    assert.equal(data.labels[1], 'american_bulldog');
    assert.equal(data.labels[36], 'yorkshire_terrier');
    assert.equal(data.trainval.length, 185);
    assert.equal(data.test.length, 74);
    assert.deepEqual(data.missing, []);
    const bulldog = data.trainval.find((item) => item.id === 'american_bulldog_117');
    assert.deepEqual(bulldog, {
      id: 'american_bulldog_117',
      path: join(PETS_MINI, 'images', 'american_bulldog_117.jpg'),
      label: 1,
    });
    for (const item of [...data.trainval, ...data.test]) {
      assert.equal(data.labels[item.label], item.id.replace(/_\d+$/, ''));
    }
  });

  test('labels follow CLASS-ID, not file order, and names come from the image names', async () => {
    const list = `${HEADER}zebra_cat_3 2 1 1\nAardvark_dog_7 1 2 1\n`;
    const root = await oxford('order', { list, trainval: list, test: '' }, ['zebra_cat_3', 'Aardvark_dog_7']);
    const data = await loadDataset(root);
    assert.deepEqual(data.labels, ['Aardvark_dog', 'zebra_cat']);
    assert.deepEqual(data.trainval.map((item) => [item.id, item.label]), [['zebra_cat_3', 1], ['Aardvark_dog_7', 0]]);
    assert.deepEqual(data.test, []);
  });

  test('comment lines, blank lines, CRLF and surrounding spaces are ignored', async () => {
    const list = `${HEADER}\r\nAbyssinian_1 1 1 1\r\n\n  # an indented comment\n  beagle_1\t2 2 1  \n\n`;
    const root = await oxford('comments', { list, trainval: list, test: '# none\n' }, ['Abyssinian_1', 'beagle_1']);
    const data = await loadDataset(root);
    assert.deepEqual(data.labels, ['Abyssinian', 'beagle']);
    assert.deepEqual(data.trainval.map((item) => item.id), ['Abyssinian_1', 'beagle_1']);
  });

  test('listed images without a file are reported in missing, not loaded', async () => {
    const root = await oxford('missing', { list: LIST, trainval: LIST, test: '' }, ['Abyssinian_1', 'beagle_1', 'beagle_2']);
    const data = await loadDataset(root);
    assert.deepEqual(data.trainval.map((item) => item.id), ['Abyssinian_1', 'beagle_1', 'beagle_2']);
    assert.deepEqual(data.missing.map((item) => [item.id, item.label]), [['Abyssinian_2', 0]]);
  });

  test('BAD CALL - malformed line names file:line, the text and the expected format', async () => {
    const list = `${HEADER}Abyssinian_1 1 1 1\nbeagle_1 2 2 1\n\n#x\nbeagle_2 two 2 1\n`;
    const root = await oxford('malformed', { list, trainval: LIST, test: '' }, IMAGES);
    await rejectsWith(root, /list\.txt:7: malformed line "beagle_2 two 2 1"; expected "Image CLASS-ID SPECIES BREED-ID"/);
  });

  test('BAD CALL - a line with too few fields or a name without _<digits> is malformed', async () => {
    const root = await oxford('fields', { list: LIST, trainval: `${LIST}beagle_1 2\n`, test: '' }, IMAGES);
    await rejectsWith(root, /trainval\.txt:7: malformed line "beagle_1 2"/);
    const named = await oxford('noid', { list: `${LIST}beagle 2 2 1\n`, trainval: LIST, test: '' }, IMAGES);
    await rejectsWith(named, /list\.txt:7: malformed line "beagle 2 2 1"/);
  });

  test('BAD CALL - missing split file', async () => {
    const root = await oxford('nosplit', { list: LIST, trainval: LIST }, IMAGES);
    await rejectsWith(root, /test\.txt is missing: re-extract annotations\.tar\.gz/);
  });

  test('BAD CALL - unknown class id in a split file', async () => {
    const root = await oxford('unknown', { list: LIST, trainval: LIST, test: 'beagle_9 3 2 1\n' }, IMAGES);
    await rejectsWith(root, /test\.txt:1: unknown CLASS-ID 3 for beagle_9; .*list\.txt defines 1\.\.2/);
  });

  test('BAD CALL - one CLASS-ID given to two breeds', async () => {
    const root = await oxford('clash', { list: `${LIST}boxer_1 2 2 3\n`, trainval: LIST, test: '' }, IMAGES);
    await rejectsWith(root, /list\.txt:7: boxer_1 has CLASS-ID 2 but .*list\.txt:5 gives CLASS-ID 2 to beagle_1/);
  });

  test('BAD CALL - CLASS-IDs with a gap', async () => {
    const root = await oxford('gap', { list: `${LIST}boxer_1 4 2 3\n`, trainval: LIST, test: '' }, IMAGES);
    await rejectsWith(root, /CLASS-IDs must run 1\.\.N without gaps; missing 3/);
  });

  test('BAD CALL - fewer than 2 classes, empty list', async () => {
    const one = `${HEADER}beagle_1 1 2 1\n`;
    await rejectsWith(await oxford('one', { list: one, trainval: one, test: '' }, ['beagle_1']), /only 1 class; .*at least 2/);
    await rejectsWith(await oxford('empty', { list: HEADER, trainval: '', test: '' }, []), /Empty dataset: .*list\.txt lists no images/);
  });

  test('BAD CALL - an empty trainval.txt says the list is empty, not that its images are missing', async () => {
    await rejectsWith(await oxford('emptytrainval', { list: LIST, trainval: HEADER, test: LIST }, IMAGES), /Empty dataset: .*trainval\.txt lists no images; restore it/);
  });

  test('BAD CALL - no listed image exists', async () => {
    await rejectsWith(await oxford('noimages', { list: LIST, trainval: LIST, test: '' }, []), /Empty dataset: none of the images/);
  });

  test('BAD CALL - an image in both trainval and test', async () => {
    const root = await oxford('overlap', { list: LIST, trainval: LIST, test: 'beagle_2 2 2 1\n' }, IMAGES);
    await rejectsWith(root, /1 image\(s\) are in both trainval\.txt and test\.txt \(first: beagle_2\)/);
  });

  test('a copy of pets-mini with a deleted image still loads and reports it', async () => {
    const root = join(tmp, 'pets-copy');
    await cp(PETS_MINI, root, { recursive: true });
    await rm(join(root, 'images', 'Abyssinian_12.jpg'));
    const data = await loadDataset(root);
    assert.equal(data.trainval.length + data.test.length, 258);
    assert.deepEqual(data.missing.map((item) => item.id), ['Abyssinian_12']);
  });
});

describe('loadDataset: folder-per-class layout', () => {
  test('labels sorted case-insensitively, then exactly; no test split; hidden and non-image files skipped', async () => {
    const root = join(tmp, 'folders');
    for (const name of ['beagle', 'Abyssinian', 'Beagle']) await image(join(root, name, 'b.jpg'), '#f00');
    await image(join(root, 'beagle', 'a.png'), '#0f0');
    await writeFile(join(root, 'beagle', 'notes.txt'), 'x');
    await writeFile(join(root, 'beagle', '.DS_Store'), 'x');
    await writeFile(join(root, 'README.md'), 'x');
    const data = await loadDataset(root);
    assert.equal(data.layout, 'folders');
    assert.deepEqual(data.labels, ['Abyssinian', 'Beagle', 'beagle']);
    assert.deepEqual(data.trainval.map((item) => [item.id, item.label]), [
      ['Abyssinian/b.jpg', 0],
      ['Beagle/b.jpg', 1],
      ['beagle/a.png', 2],
      ['beagle/b.jpg', 2],
    ]);
    assert.equal(data.trainval[0].path, join(root, 'Abyssinian', 'b.jpg'));
    assert.deepEqual(data.test, []);
  });

  test('train/ and test/ folders become trainval and test', async () => {
    const root = join(tmp, 'split-folders');
    for (const split of ['train', 'test']) {
      for (const name of ['cat', 'dog']) await image(join(root, split, name, `${split}1.jpg`), '#00f');
    }
    await image(join(root, 'train', 'dog', 'train2.JPEG'), '#00f');
    const data = await loadDataset(root);
    assert.deepEqual(data.labels, ['cat', 'dog']);
    assert.deepEqual(data.trainval.map((item) => item.id), ['train/cat/train1.jpg', 'train/dog/train1.jpg', 'train/dog/train2.JPEG']);
    assert.deepEqual(data.test.map((item) => [item.id, item.label]), [['test/cat/test1.jpg', 0], ['test/dog/test1.jpg', 1]]);
  });

  test('BAD CALL - train/ and test/ with different classes', async () => {
    const root = join(tmp, 'split-mismatch');
    for (const name of ['cat', 'dog']) await image(join(root, 'train', name, '1.jpg'), '#00f');
    for (const name of ['cat', 'fox']) await image(join(root, 'test', name, '1.jpg'), '#00f');
    await rejectsWith(root, /same class folders; only in train\/: dog; only in test\/: fox/);
  });

  test('BAD CALL - missing root, a file as root, neither layout', async () => {
    await rejectsWith(join(tmp, 'nope'), /nope does not exist: check the path/);
    await writeFile(join(tmp, 'file.txt'), 'x');
    await rejectsWith(join(tmp, 'file.txt'), /is not a folder/);
    const flat = join(tmp, 'flat');
    await image(join(flat, 'a.jpg'), '#000');
    await mkdir(join(flat, 'empty-folder'));
    await rejectsWith(flat, /expected annotations\/list\.txt \(Oxford-IIIT Pet layout\) or one folder per class/);
  });

  test('BAD CALL - a single class folder, an empty class folder, annotations/ without list.txt', async () => {
    const single = join(tmp, 'single');
    await image(join(single, 'cat', '1.jpg'), '#000');
    await rejectsWith(single, /only 1 class folder \(cat\); training needs at least 2/);
    await mkdir(join(single, 'dog'));
    await rejectsWith(single, /Class folder .*dog has no images \(\.jpg, .*\): add images or remove it/);
    const noList = await oxford('nolist', { trainval: LIST, test: '' }, IMAGES);
    await rejectsWith(noList, /list\.txt is missing: re-extract annotations\.tar\.gz/);
  });

  test('BAD CALL - root that is not a string', async () => {
    await assert.rejects(loadDataset(42 as unknown as string), { name: 'TypeError', message: /"root" must be a non-empty path string/ });
  });
});
