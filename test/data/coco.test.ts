import test from 'ava';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SncError } from '../../src/errors.js';
import { imagePath, leavesFolder, locateDataset, parseCocoDataset, readCocoDataset } from '../../src/data/coco.js';
import { Problems, problemLine } from '../../src/data/problems.js';

const tmp = mkdtempSync(join(tmpdir(), 'snc-coco-test-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));

const doc = () => ({
  images: [
    { id: 10, file_name: 'a.jpg', width: 64, height: 48 },
    { id: 3, file_name: 'sub/b.jpg', width: 32, height: 32 },
  ],
  categories: [
    { id: 1, name: 'circle' },
    { id: 5, name: 'square' },
  ],
  annotations: [
    { id: 1, image_id: 10, category_id: 1, bbox: [1, 2, 3, 4], area: 9, iscrowd: 0 },
    { id: 2, image_id: 3, category_id: 5, bbox: [0, 0, 10, 10], iscrowd: 1 },
    { id: 3, image_id: 99, category_id: 1, bbox: [0, 0, 1, 1], area: 1, iscrowd: 0 },
    { id: 4, image_id: 10, category_id: 7, bbox: [0, 0, 1, 1], area: 1, iscrowd: 0 },
    { id: 5, image_id: 10, category_id: 1, bbox: [0, 0, -1, 1], area: 1, iscrowd: 0 },
    { id: 1, image_id: 10, category_id: 1, bbox: [0, 0, 1, 1], area: 1, iscrowd: 0 },
  ],
});

test('images, categories and usable annotations, in file order; area defaults to w*h', (t) => {
  const problems = new Problems();
  const ds = parseCocoDataset(doc(), 'ann.json', '/imgs', problems);
  t.deepEqual(ds.images.map((i) => i.id), [10, 3]);
  t.deepEqual(ds.categories, [{ id: 1, name: 'circle' }, { id: 5, name: 'square' }]);
  t.deepEqual(ds.annotations, [
    { id: 1, imageId: 10, categoryId: 1, bbox: [1, 2, 3, 4], area: 9, iscrowd: false },
    { id: 2, imageId: 3, categoryId: 5, bbox: [0, 0, 10, 10], area: 100, iscrowd: true },
  ]);
  t.is(imagePath(ds, ds.images[1]), join('/imgs', 'sub/b.jpg'));
});

test('an annotation that refers to nothing is reported with its file and id, and skipped', (t) => {
  const problems = new Problems();
  parseCocoDataset(doc(), 'ann.json', '/imgs', problems);
  t.deepEqual(problems.list.map((p) => [p.kind, p.file, p.id]), [
    ['orphan-annotation', 'ann.json', 3],
    ['orphan-annotation', 'ann.json', 4],
    ['bad-annotation', 'ann.json', 5],
    ['duplicate-annotation', 'ann.json', 1],
  ]);
  t.is(problemLine(problems.list[0]), 'ann.json: annotation 3 refers to image 99, which is not in images');
  t.deepEqual(problems.summary(), { 'orphan-annotation': 2, 'bad-annotation': 1, 'duplicate-annotation': 1 });
});

test('--strict: the first problem is an SncError naming file and id', (t) => {
  const e = t.throws(() => parseCocoDataset(doc(), 'ann.json', '/imgs', new Problems(true)), { instanceOf: SncError });
  t.is(e!.message, 'ann.json: annotation 3 refers to image 99, which is not in images (--strict)');
});

test('a malformed file is an SncError', (t) => {
  const bad = (d: unknown, re: RegExp) => t.throws(() => parseCocoDataset(d, 'f.json', '/i', new Problems()), { instanceOf: SncError, message: re });
  bad([], /not a COCO annotations file/);
  bad({ images: [], categories: [] }, /^f\.json: no "annotations" list; a data set to evaluate on needs its ground-truth boxes/);
  bad({ images: [], categories: [], annotations: {} }, /"annotations" is not a list/);
  bad({ categories: [] }, /no "images" list/);
  bad({ images: [] }, /no "categories" list/);
  bad({ images: [{ id: 1 }], categories: [] }, /image 1 has no file_name/);
  bad({ images: [{ id: 1, file_name: 'a' }, { id: 1, file_name: 'b' }], categories: [] }, /image id 1 appears twice/);
  bad({ images: [], categories: [{ id: 2 }, { id: 2 }] }, /category id 2 appears twice/);
});

test('a folder: annotations.json and images/ by default, or named files', (t) => {
  const dir = join(tmp, 'set');
  mkdirSync(dir);
  t.throws(() => locateDataset(dir), { instanceOf: SncError, message: /has no annotations.json/ });
  t.throws(() => locateDataset(join(tmp, 'nope')), { instanceOf: SncError, message: /is not a folder/ });
  writeFileSync(join(dir, 'annotations.json'), '{"images": [');
  t.throws(() => readCocoDataset(dir, {}, new Problems()), { instanceOf: SncError, message: /not valid JSON/ });
  writeFileSync(join(dir, 'other.json'), JSON.stringify(doc()));
  const ds = readCocoDataset(undefined, { annotations: join(dir, 'other.json'), images: join(tmp, 'pix') }, new Problems());
  t.is(ds.images.length, 2);
  t.is(ds.imagesDir, join(tmp, 'pix'));
  t.is(locateDataset(dir).imagesDir, join(dir, 'images'));
});

test('an image file_name that leaves the images folder is never read: skipped and reported with its annotations, --strict refuses', (t) => {
  for (const f of ['../../../etc/passwd', '/etc/passwd', 'a/../../x.jpg', '..', 'C:\\Windows\\x.jpg', '..\\..\\x.jpg']) t.true(leavesFolder(f), f);
  for (const f of ['a.jpg', 'sub/a.jpg', 'sub/../a.jpg', '..a.jpg', './a.jpg']) t.false(leavesFolder(f), f);
  const d = {
    images: [
      { id: 1, file_name: 'ok.jpg' },
      { id: 2, file_name: '../../../etc/passwd' },
      { id: 3, file_name: '/etc/passwd' },
    ],
    categories: [{ id: 1, name: 'a' }],
    annotations: [
      { id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 1, 1] },
      { id: 2, image_id: 2, category_id: 1, bbox: [0, 0, 1, 1] },
    ],
  };
  const problems = new Problems();
  const ds = parseCocoDataset(d, 'ann.json', '/imgs', problems);
  t.deepEqual(ds.images.map((i) => i.id), [1]);
  t.deepEqual(ds.annotations.map((a) => a.id), [1]);
  t.deepEqual(problems.list.map((p) => [p.kind, p.id]), [['outside-folder', 2], ['outside-folder', 3]]);
  t.is(problemLine(problems.list[0]), 'ann.json: image 2: file_name "../../../etc/passwd" leads outside the images folder; it is skipped');
  t.throws(() => parseCocoDataset(d, 'ann.json', '/imgs', new Problems(true)), { instanceOf: SncError, message: 'ann.json: image 2: file_name "../../../etc/passwd" leads outside the images folder; it is skipped (--strict)' });
});
