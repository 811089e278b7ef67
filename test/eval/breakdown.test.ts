import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BreakdownEvaluator, SIZE_BINS, sizeBin } from '../../src/eval/breakdown.js';
import { CocoEvaluator, type Box, type Detection, type GroundTruth } from '../../src/eval/coco-eval.js';
import { parseCocoDataset } from '../../src/data/coco.js';
import { parseCocoResults } from '../../src/data/results.js';
import { Problems } from '../../src/data/problems.js';

const gt = (id: number, categoryId: number, bbox: Box, extra: Partial<GroundTruth> = {}): GroundTruth => ({ id, imageId: 1, categoryId, bbox, area: bbox[2] * bbox[3], iscrowd: false, ...extra });
const det = (categoryId: number, bbox: Box, score: number): Detection => ({ categoryId, bbox, score });

test('size bins follow sqrt(w*h) with edges 12, 24, 48', (t) => {
  t.deepEqual(SIZE_BINS.map((b) => b.label), ['<12', '12-24', '24-48', '>=48']);
  t.is(sizeBin([0, 0, 11.9, 11.9]), 0);
  t.is(sizeBin([0, 0, 12, 12]), 1);
  t.is(sizeBin([0, 0, 6, 24]), 1); // sqrt(144) = 12
  t.is(sizeBin([0, 0, 47, 49]), 1 + 1);
  t.is(sizeBin([0, 0, 48, 48]), 3);
});

test('a box of the wrong class: class-aware AP 0, class-agnostic AP 1, matched with the class wrong', (t) => {
  const gts = [gt(1, 1, [10, 10, 30, 30])];
  const dets = [det(2, [10, 10, 30, 30], 0.9)];
  const ev = new CocoEvaluator([1, 2], gts);
  const bd = new BreakdownEvaluator([1, 2], gts);
  ev.addImage(1, dets);
  bd.addImage(1, dets);
  t.is(ev.summarize().metrics.AP, 0);
  const b = bd.summarize();
  t.true(Math.abs(b.agnostic.AP - 1) < 1e-12 && Math.abs(b.agnostic.AP50 - 1) < 1e-12, `${b.agnostic.AP}`); // tp / (tp + eps)
  const bin = b.bySize[sizeBin([0, 0, 30, 30])];
  t.deepEqual([bin.objects, bin.recall, bin.classAccuracy, bin.share], [1, 1, 0, 1]);
  t.true(Number.isNaN(b.bySize[0].recall) && Number.isNaN(b.bySize[0].classAccuracy));
});

test('size bins: greedy matching in score order at IoU 0.5, crowds and unknown categories left out', (t) => {
  const gts = [
    gt(1, 1, [0, 0, 10, 10]), // < 12
    gt(2, 2, [50, 50, 10, 10]), // < 12, missed
    gt(3, 1, [100, 100, 60, 60]), // >= 48
    gt(4, 1, [200, 200, 20, 20], { iscrowd: true }), // not counted
    gt(5, 9, [300, 300, 20, 20]), // category not evaluated
  ];
  const dets = [
    det(1, [0, 0, 10, 10], 0.5), // matches gt 1, right class
    det(2, [0, 0, 10, 9], 0.9), // higher score: takes gt 1 first (IoU 0.9), wrong class
    det(2, [100, 100, 60, 30], 0.8), // IoU 0.5 with gt 3: matched (>= 0.5), wrong class
    det(9, [300, 300, 20, 20], 0.99), // unknown category: ignored
  ];
  const bd = new BreakdownEvaluator([1, 2], gts);
  bd.addImage(1, dets);
  const b = bd.summarize();
  t.deepEqual(b.bySize.map((x) => x.objects), [2, 0, 0, 1]);
  t.is(b.bySize[0].recall, 0.5);
  t.is(b.bySize[0].classAccuracy, 0); // gt 1 went to the class-2 detection of score 0.9
  t.is(b.bySize[3].recall, 1);
  t.is(b.bySize[3].classAccuracy, 0);
  t.is(b.bySize[0].share, 2 / 3);
});

test('class-agnostic metrics are COCOeval with one category; on a one-category set they equal the class-aware ones', (t) => {
  const doc = JSON.parse(readFileSync(join(process.cwd(), 'test', 'fixtures', 'coco', 'mixed.json'), 'utf8'));
  const problems = new Problems(true);
  const ds = parseCocoDataset(doc.gt, 'mixed.json', '/nonexistent', problems);
  const byImage = parseCocoResults(doc.results, 'mixed.json', ds, problems);
  const cats = ds.categories.map((c) => c.id);
  const bd = new BreakdownEvaluator(cats, ds.annotations);
  const one = new CocoEvaluator([7], ds.annotations.map((g) => ({ ...g, categoryId: 7 })));
  const aware = new CocoEvaluator(cats, ds.annotations);
  for (const img of ds.images) {
    const d = byImage.get(img.id) ?? [];
    bd.addImage(img.id, d);
    one.addImage(img.id, d.map((x) => ({ ...x, categoryId: 7 })));
    aware.addImage(img.id, d);
  }
  const agn = bd.summarize().agnostic;
  t.deepEqual(agn, one.summarize().metrics);

  const single = ds.annotations.filter((g) => g.categoryId === cats[0]);
  const bd1 = new BreakdownEvaluator([cats[0]], single);
  const ev1 = new CocoEvaluator([cats[0]], single);
  for (const img of ds.images) {
    const d = (byImage.get(img.id) ?? []).filter((x) => x.categoryId === cats[0]);
    bd1.addImage(img.id, d);
    ev1.addImage(img.id, d);
  }
  t.deepEqual(bd1.summarize().agnostic, ev1.summarize().metrics);
});
