import test from 'ava';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { SncError } from '../../src/errors.js';
import { SYNTH_CATEGORIES, imageFileName, synthesize } from '../../src/data/synth.js';
import { SHAPE_CLASSES } from '../../src/data/shapes.js';

const tmp = mkdtempSync(join(tmpdir(), 'snc-synth-test-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** sha256 of every file of a set, by relative path. */
function hashes(dir: string): Record<string, string> {
  const out: Record<string, string> = { 'annotations.json': sha(readFileSync(join(dir, 'annotations.json'))) };
  for (const f of readdirSync(join(dir, 'images')).sort()) out[`images/${f}`] = sha(readFileSync(join(dir, 'images', f)));
  return out;
}

// the annotations are computed by snc alone (no image library), so their hash is pinned
const ANNOTATIONS_SHA256 = 'eff919fefc5ae890a9377fd01672c5157b57c2c16ab41088b5f1d610b759e264';

test('the same arguments give byte-identical sets; other seeds share no image', async (t) => {
  const a = join(tmp, 'a');
  const b = join(tmp, 'b');
  const c = join(tmp, 'c');
  const ra = await synthesize({ out: a, images: 8, seed: 11, size: 96 });
  await synthesize({ out: b, images: 8, seed: 11, size: 96, concurrency: 1 });
  await synthesize({ out: c, images: 8, seed: 12, size: 96 });
  const ha = hashes(a);
  t.is(Object.keys(ha).length, 9);
  t.deepEqual(hashes(b), ha);
  t.is(ha['annotations.json'], ANNOTATIONS_SHA256);
  const hc = hashes(c);
  const imagesA = new Set(Object.entries(ha).filter(([k]) => k.startsWith('images/')).map(([, v]) => v));
  t.false(Object.entries(hc).some(([k, v]) => k.startsWith('images/') && imagesA.has(v)));
  t.true(ra.imagesPerSecond > 0);
  t.log(`synth: ${ra.imagesPerSecond.toFixed(1)} images/s at 96 px`);
});

test('a COCO folder: images of the given size, annotations that match them', async (t) => {
  const dir = join(tmp, 'coco');
  const r = await synthesize({ out: dir, images: 3, seed: 5, size: 128 });
  const doc = JSON.parse(readFileSync(join(dir, 'annotations.json'), 'utf8'));
  t.deepEqual(doc.categories.map((c: { name: string }) => c.name), SHAPE_CLASSES);
  t.deepEqual(doc.categories.map((c: { id: number }) => c.id), [1, 2, 3, 4, 5, 6]);
  t.deepEqual(doc.categories, SYNTH_CATEGORIES);
  t.deepEqual(doc.images.map((i: { file_name: string }) => i.file_name), ['000001.jpg', '000002.jpg', '000003.jpg']);
  t.is(doc.annotations.length, r.annotations);
  t.deepEqual(doc.annotations.map((a: { id: number }) => a.id), Array.from({ length: r.annotations }, (_, i) => i + 1));
  for (const a of doc.annotations) {
    t.is(a.iscrowd, 0);
    t.true(a.category_id >= 1 && a.category_id <= 6);
    t.true(a.bbox[0] >= 0 && a.bbox[0] + a.bbox[2] <= 128);
  }
  for (const img of doc.images) {
    const meta = await sharp(join(dir, 'images', img.file_name)).metadata();
    t.is(meta.format, 'jpeg');
    t.deepEqual([meta.width, meta.height, meta.channels], [128, 128, 3]);
  }
});

test('an occupied folder is refused unless --force; --force leaves no stale image', async (t) => {
  const dir = join(tmp, 'force');
  await synthesize({ out: dir, images: 3, seed: 1, size: 64 });
  await t.throwsAsync(synthesize({ out: dir, images: 2, seed: 1, size: 64 }), { instanceOf: SncError, message: /already holds a data set.*--force/ });
  writeFileSync(join(dir, 'images', 'notes.txt'), 'kept');
  await synthesize({ out: dir, images: 2, seed: 1, size: 64, force: true });
  t.deepEqual(readdirSync(join(dir, 'images')).sort(), ['000001.jpg', '000002.jpg', 'notes.txt']);
  const fresh = join(tmp, 'fresh');
  await synthesize({ out: fresh, images: 2, seed: 1, size: 64 });
  t.deepEqual(readFileSync(join(dir, 'annotations.json')), readFileSync(join(fresh, 'annotations.json')));
});

test('file names and argument checks', async (t) => {
  t.is(imageFileName(0, 10), '000001.jpg');
  t.is(imageFileName(1234566, 2000000), '1234567.jpg');
  await t.throwsAsync(synthesize({ out: join(tmp, 'x'), images: 0, seed: 1, size: 64 }), { instanceOf: SncError });
  await t.throwsAsync(synthesize({ out: join(tmp, 'x'), images: 1, seed: 1, size: 32 }), { instanceOf: SncError });
});

test('--min-size: no object box smaller than the smallest shape asked for; bad values named', async (t) => {
  const dir = join(tmp, 'min-size');
  await synthesize({ out: dir, images: 6, seed: 3, size: 160, minSize: 16 });
  const doc = JSON.parse(readFileSync(join(dir, 'annotations.json'), 'utf8'));
  t.is(doc.info.minSize, 16);
  t.true(doc.annotations.length > 6);
  const smallest = Math.min(...doc.annotations.map((a: { bbox: number[] }) => Math.sqrt(a.bbox[2] * a.bbox[3])));
  t.true(smallest >= 16, `smallest box ${smallest.toFixed(1)} px`);
  const plain = join(tmp, 'min-size-default');
  await synthesize({ out: plain, images: 6, seed: 3, size: 160 });
  const docPlain = JSON.parse(readFileSync(join(plain, 'annotations.json'), 'utf8'));
  t.false('minSize' in docPlain.info);
  t.true(Math.min(...docPlain.annotations.map((a: { bbox: number[] }) => Math.sqrt(a.bbox[2] * a.bbox[3]))) < 16);
  await t.throwsAsync(synthesize({ out: join(tmp, 'bad'), images: 1, seed: 1, size: 96, minSize: 80 }), { message: /--min-size must be a number of pixels > 0 and below 52 .*got 80/ });
});
