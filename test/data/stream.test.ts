import test from 'ava';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SncError } from '../../src/errors.js';
import { readCocoDataset } from '../../src/data/coco.js';
import { Preprocessor } from '../../src/data/preprocess.js';
import { Problems } from '../../src/data/problems.js';
import { streamImages } from '../../src/data/stream.js';
import { synthesize } from '../../src/data/synth.js';

const tmp = mkdtempSync(join(tmpdir(), 'snc-stream-test-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));
const pre = new Preprocessor({ mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], resize: 'square' }, 32);

const ready = (async () => {
  const dir = join(tmp, 'set');
  await synthesize({ out: dir, images: 5, seed: 2, size: 64 });
  // image 6: missing; 7: not an image; 8: a real image whose record has the wrong size
  const doc = JSON.parse(readFileSync(join(dir, 'annotations.json'), 'utf8'));
  writeFileSync(join(dir, 'images', 'corrupt.jpg'), 'garbage');
  copyFileSync(join(dir, 'images', '000001.jpg'), join(dir, 'images', 'resized.jpg'));
  doc.images.splice(2, 0, { id: 6, file_name: 'gone.jpg', width: 64, height: 64 }, { id: 7, file_name: 'corrupt.jpg', width: 64, height: 64 });
  doc.images.push({ id: 8, file_name: 'resized.jpg', width: 100, height: 64 });
  writeFileSync(join(dir, 'annotations.json'), JSON.stringify(doc));
  return dir;
})();

test('images in data set order, the same tensors as in-process decoding; bad images skipped with file and id', async (t) => {
  const dir = await ready;
  const problems = new Problems();
  const ds = readCocoDataset(dir, {}, problems);
  const seen: number[] = [];
  for await (const item of streamImages(ds, pre, problems, { prefetch: 2 })) {
    seen.push(item.image.id);
    const want = new Float32Array(pre.tensorSize);
    await pre.prepare(readFileSync(join(dir, 'images', item.image.fileName)), want);
    t.deepEqual(item.tensor, want);
    t.deepEqual([item.width, item.height], [64, 64]);
    item.release();
    t.is(item.tensor.length, 0, 'released tensors are handed back (detached)');
  }
  t.deepEqual(seen, [1, 2, 3, 4, 5]);
  t.deepEqual(problems.list.map((p) => [p.kind, p.id, p.file]), [
    ['missing-image', 6, join(dir, 'images', 'gone.jpg')],
    ['undecodable-image', 7, join(dir, 'images', 'corrupt.jpg')],
    ['size-mismatch', 8, join(dir, 'images', 'resized.jpg')],
  ]);
});

test('--strict: the first bad image ends the stream with an SncError', async (t) => {
  const dir = await ready;
  const problems = new Problems(true);
  const ds = readCocoDataset(dir, {}, problems);
  const seen: number[] = [];
  await t.throwsAsync(async () => {
    for await (const item of streamImages(ds, pre, problems)) seen.push(item.image.id);
  }, { instanceOf: SncError, message: /gone\.jpg: image 6: file does not exist \(--strict\)/ });
  t.deepEqual(seen, [1, 2]);
});

test('a stream left early, or closed unused, stops; limit and unreleased tensors work', async (t) => {
  const dir = await ready;
  const ds = readCocoDataset(dir, {}, new Problems());
  for await (const item of streamImages(ds, pre, new Problems(), { prefetch: 1 })) {
    t.is(item.image.id, 1);
    break;
  }
  await streamImages(ds, pre, new Problems()).close();
  const kept: Float32Array[] = [];
  for await (const item of streamImages(ds, pre, new Problems(), { limit: 2, prefetch: 1 })) kept.push(item.tensor);
  t.is(kept.length, 2);
  t.true(kept.every((k) => k.length === pre.tensorSize));
  t.notDeepEqual(kept[0], kept[1]);
});

test('data never reads outside its folder: a symbolic link out of images/ is skipped and reported, --strict refuses', async (t) => {
  const dir = join(tmp, 'links');
  await synthesize({ out: dir, images: 2, seed: 3, size: 64 });
  const secret = join(tmp, 'secret.jpg');
  copyFileSync(join(dir, 'images', '000001.jpg'), secret); // a real image, outside the folder
  symlinkSync(secret, join(dir, 'images', 'link-out.jpg'));
  symlinkSync('000002.jpg', join(dir, 'images', 'link-in.jpg')); // a link that stays inside is fine
  const doc = JSON.parse(readFileSync(join(dir, 'annotations.json'), 'utf8'));
  doc.images.push({ id: 10, file_name: 'link-out.jpg', width: 64, height: 64 }, { id: 11, file_name: 'link-in.jpg', width: 64, height: 64 });
  writeFileSync(join(dir, 'annotations.json'), JSON.stringify(doc));
  const problems = new Problems();
  const ds = readCocoDataset(dir, {}, problems);
  const seen: number[] = [];
  for await (const item of streamImages(ds, pre, problems)) {
    seen.push(item.image.id);
    item.release();
  }
  t.deepEqual(seen, [1, 2, 11]);
  t.deepEqual(problems.list.map((p) => [p.kind, p.id]), [['outside-folder', 10]]);
  t.regex(problems.list[0].message, /^image 10: leads outside the images folder \(to .*secret\.jpg\); it is skipped$/);
  const strict = new Problems(true);
  const e = await t.throwsAsync(async () => {
    for await (const item of streamImages(readCocoDataset(dir, {}, strict), pre, strict)) item.release();
  });
  t.true(e instanceof SncError);
  t.regex(e!.message, /link-out\.jpg: image 10: leads outside the images folder .* \(--strict\)$/);
});
