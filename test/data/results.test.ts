import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SncError } from '../../src/errors.js';
import { parseCocoDataset } from '../../src/data/coco.js';
import { Problems } from '../../src/data/problems.js';
import { ResultsWriter, parseCocoResults, readCocoResults } from '../../src/data/results.js';

const tmp = mkdtempSync(join(tmpdir(), 'snc-results-test-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));

const ds = parseCocoDataset(
  { images: [{ id: 1, file_name: 'a.jpg' }, { id: 2, file_name: 'b.jpg' }], categories: [{ id: 4, name: 'x' }], annotations: [] },
  'gt.json',
  '/i',
  new Problems(),
);

test('detections grouped by image in file order; loadRes keeps negative sizes, so do we', (t) => {
  const problems = new Problems();
  const by = parseCocoResults(
    [
      { image_id: 2, category_id: 4, bbox: [0, 0, 1, 1], score: 0.5 },
      { image_id: 1, category_id: 4, bbox: [1, 1, 2, 2], score: 0.9 },
      { image_id: 2, category_id: 4, bbox: [5, 5, -1, 2], score: 0.5 },
    ],
    'r.json',
    ds,
    problems,
  );
  t.deepEqual(by.get(2)!.map((d) => d.bbox), [[0, 0, 1, 1], [5, 5, -1, 2]]);
  t.deepEqual(by.get(1), [{ categoryId: 4, bbox: [1, 1, 2, 2], score: 0.9 }]);
  t.is(problems.list.length, 0);
});

test('detections that refer to nothing or are malformed: reported by position, skipped or --strict', (t) => {
  const list = [
    { image_id: 7, category_id: 4, bbox: [0, 0, 1, 1], score: 0.5 },
    { image_id: 1, category_id: 9, bbox: [0, 0, 1, 1], score: 0.5 },
    { image_id: 1, category_id: 4, bbox: [0, 0, 1], score: 0.5 },
    { image_id: 1, category_id: 4, bbox: [0, 0, 1, 1], score: 'high' },
    { image_id: 1, category_id: 4, bbox: [0, 0, 1, 1], score: 0.1 },
  ];
  const problems = new Problems();
  const by = parseCocoResults(list, 'r.json', ds, problems);
  t.deepEqual(problems.list.map((p) => [p.kind, p.id]), [['orphan-detection', 1], ['orphan-detection', 2], ['bad-detection', 3], ['bad-detection', 4]]);
  t.is(by.get(1)!.length, 1);
  t.throws(() => parseCocoResults(list, 'r.json', ds, new Problems(true)), { instanceOf: SncError, message: /^r\.json: detection 1: image_id 7 is not an image of the data set \(--strict\)$/ });
  t.throws(() => parseCocoResults({}, 'r.json', ds, new Problems()), { instanceOf: SncError, message: /not a COCO results file/ });
});

test('the writer streams a results file that reads back exactly, atomically', (t) => {
  const path = join(tmp, 'dets.json');
  const w = new ResultsWriter(path);
  w.add(1, [{ categoryId: 4, bbox: [0.1, 0.2, 3.0000001, 4], score: 0.123456789012345 }]);
  w.add(2, []);
  t.false(existsSync(path));
  w.add(2, [{ categoryId: 4, bbox: [1, 2, 3, 4], score: 1e-7 }]);
  w.commit();
  const back = readCocoResults(path, ds, new Problems(true));
  t.deepEqual(back.get(1), [{ categoryId: 4, bbox: [0.1, 0.2, 3.0000001, 4], score: 0.123456789012345 }]);
  t.deepEqual(back.get(2), [{ categoryId: 4, bbox: [1, 2, 3, 4], score: 1e-7 }]);
  const empty = join(tmp, 'empty.json');
  const e = new ResultsWriter(empty);
  e.commit();
  t.deepEqual(JSON.parse(readFileSync(empty, 'utf8')), []);
  const aborted = join(tmp, 'aborted.json');
  const a = new ResultsWriter(aborted);
  a.add(1, [{ categoryId: 4, bbox: [1, 2, 3, 4], score: 0.5 }]);
  a.abort();
  t.false(existsSync(aborted));
  writeFileSync(join(tmp, 'bad.json'), '[{');
  t.throws(() => readCocoResults(join(tmp, 'bad.json'), ds, new Problems()), { instanceOf: SncError, message: /not valid JSON/ });
  t.throws(() => readCocoResults(join(tmp, 'missing.json'), ds, new Problems()), { instanceOf: SncError, message: /does not exist/ });
});
