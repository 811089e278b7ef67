import test from 'ava';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  CocoEvaluator,
  IOU_THRESHOLDS,
  METRIC_NAMES,
  RECALL_THRESHOLDS,
  boxIou,
  pairwiseSum,
  type Box,
  type CocoMetrics,
  type Detection,
  type GroundTruth,
} from '../../src/eval/coco-eval.js';
import { parseCocoDataset } from '../../src/data/coco.js';
import { parseCocoResults } from '../../src/data/results.js';
import { Problems } from '../../src/data/problems.js';

const FIXTURES = join(process.cwd(), 'test', 'fixtures', 'coco');
const EPS = 2.220446049250313e-16;

type G = Partial<GroundTruth> & { bbox: Box };
type D = Partial<Detection> & { bbox: Box; score: number; imageId?: number };

/** Evaluates hand-written ground truths and detections (image 1, category 1 unless given). */
function evaluate(gts: G[], dets: D[], opts: { categories?: number[]; images?: number[] } = {}) {
  const gt: GroundTruth[] = gts.map((g, i) => ({ id: i + 1, imageId: 1, categoryId: 1, area: g.bbox[2] * g.bbox[3], iscrowd: false, ...g }));
  const images = opts.images ?? [...new Set([...gt.map((g) => g.imageId), ...dets.map((d) => d.imageId ?? 1)])];
  const ev = new CocoEvaluator(opts.categories ?? [1], gt);
  for (const img of images)
    ev.addImage(img, dets.filter((d) => (d.imageId ?? 1) === img).map((d) => ({ categoryId: d.categoryId ?? 1, bbox: d.bbox, score: d.score })));
  return ev.summarize();
}

function expectMetrics(t: import('ava').ExecutionContext, got: CocoMetrics, want: Partial<CocoMetrics>) {
  for (const [k, v] of Object.entries(want)) t.true(Math.abs(got[k as keyof CocoMetrics] - v!) < 1e-12, `${k}: got ${got[k as keyof CocoMetrics]}, want ${v}`);
}

test('thresholds are numpy linspace values, to the bit', (t) => {
  const ref = JSON.parse(readFileSync(join(FIXTURES, 'thresholds.json'), 'utf8'));
  t.deepEqual([...IOU_THRESHOLDS], ref.iouThrs);
  t.deepEqual([...RECALL_THRESHOLDS], ref.recThrs);
});

test('box IoU is maskUtils.iou: union is the detection area for a crowd', (t) => {
  const o = boxIou([[0, 0, 10, 10], [5, 0, 10, 10], [20, 20, 1, 1]], [[0, 0, 10, 10], [0, 0, 100, 100]], [false, true]);
  // rows are detections: [d0 g0, d0 crowd, d1 g0, d1 crowd, d2 g0, d2 crowd]
  t.deepEqual([...o], [1, 100 / 100, 50 / 150, 100 / 100, 0, 1 / 1]);
});

test('perfect detections: 1 everywhere, -1 for area ranges without ground truth', (t) => {
  const m = evaluate([{ bbox: [10, 10, 50, 50] }], [{ bbox: [10, 10, 50, 50], score: 0.9 }]).metrics;
  expectMetrics(t, m, { AP: 1, AP50: 1, AP75: 1, APs: -1, APm: 1, APl: -1, AR1: 1, AR10: 1, AR100: 1, ARs: -1, ARm: 1, ARl: -1 });
});

test('IoU thresholds .50:.05:.95: a match needs IoU >= t', (t) => {
  // IoU exactly 0.75: matched at .50 .55 .60 .65 .70 .75, not above
  let m = evaluate([{ bbox: [0, 0, 100, 100] }], [{ bbox: [0, 0, 100, 75], score: 0.9 }]).metrics;
  expectMetrics(t, m, { AP: 0.6, AP50: 1, AP75: 1, AR100: 0.6 });
  m = evaluate([{ bbox: [0, 0, 100, 100] }], [{ bbox: [0, 0, 100, 74], score: 0.9 }]).metrics;
  expectMetrics(t, m, { AP: 0.5, AP50: 1, AP75: 0, AR100: 0.5 });
});

test('101-point interpolated precision, made monotone from the right; a second hit on one object is a false positive', (t) => {
  // 2 objects; ranked TP, duplicate (FP), TP: rc .5 .5 1, pr 1 .5 .667 -> 1 up to recall .50, 2/3 after
  const gts: G[] = [{ bbox: [0, 0, 100, 100] }, { bbox: [200, 200, 100, 100] }];
  const m = evaluate(gts, [
    { bbox: [0, 0, 100, 100], score: 0.9 },
    { bbox: [0, 0, 100, 100], score: 0.8 },
    { bbox: [200, 200, 100, 100], score: 0.7 },
  ]).metrics;
  const ap = (51 * 1 + 50 * (2 / (1 + 2 + EPS))) / 101;
  expectMetrics(t, m, { AP: ap, AP50: ap, AR100: 1 });
  // FP ranked above the only TP: the precision 1/2 is carried back to recall 0
  const m2 = evaluate([{ bbox: [0, 0, 100, 100] }], [{ bbox: [300, 300, 50, 50], score: 0.9 }, { bbox: [0, 0, 100, 100], score: 0.8 }]).metrics;
  expectMetrics(t, m2, { AP: 0.5, AR1: 0, AR10: 1 });
});

test('an image without detections still counts its ground truth', (t) => {
  const m = evaluate([{ bbox: [0, 0, 50, 50], imageId: 1 }, { bbox: [0, 0, 50, 50], imageId: 2 }], [{ bbox: [0, 0, 50, 50], score: 0.5, imageId: 1 }], { images: [1, 2] }).metrics;
  expectMetrics(t, m, { AP: 51 / 101, AR100: 0.5 });
});

test('maxDets 1/10/100 count per image and category, highest scores first', (t) => {
  const fps: D[] = Array.from({ length: 10 }, (_, i) => ({ bbox: [200 + 5 * i, 200, 10, 10], score: 0.9 - i * 0.01 }));
  let m = evaluate([{ bbox: [0, 0, 50, 50] }], [...fps, { bbox: [0, 0, 50, 50], score: 0.1 }]).metrics;
  expectMetrics(t, m, { AR1: 0, AR10: 0, AR100: 1 });
  // the 101st detection is cut
  const many: D[] = Array.from({ length: 100 }, (_, i) => ({ bbox: [200 + i, 200, 10, 10], score: 0.9 }));
  m = evaluate([{ bbox: [0, 0, 50, 50] }], [...many, { bbox: [0, 0, 50, 50], score: 0.1 }]).metrics;
  expectMetrics(t, m, { AR100: 0, AP: 0 });
  // the limit is per category: each category keeps its own top 1
  m = evaluate(
    [{ bbox: [0, 0, 50, 50], categoryId: 1 }, { bbox: [100, 100, 50, 50], categoryId: 2 }],
    [{ bbox: [0, 0, 50, 50], score: 0.3, categoryId: 1 }, { bbox: [100, 100, 50, 50], score: 0.2, categoryId: 2 }],
    { categories: [1, 2] },
  ).metrics;
  expectMetrics(t, m, { AR1: 1 });
});

test("area ranges use the annotation's area; a boundary area is in both ranges", (t) => {
  // bbox 40x40 = 1600 (medium) but area 900: small
  let m = evaluate([{ bbox: [0, 0, 40, 40], area: 900 }], [{ bbox: [0, 0, 40, 40], score: 0.9 }]).metrics;
  expectMetrics(t, m, { APs: 1, APm: -1, ARs: 1, ARm: -1 });
  m = evaluate([{ bbox: [0, 0, 40, 40], area: 32 ** 2 }], [{ bbox: [0, 0, 40, 40], score: 0.9 }]).metrics;
  expectMetrics(t, m, { APs: 1, APm: 1, APl: -1 });
  m = evaluate([{ bbox: [0, 0, 200, 200], area: 96 ** 2 }], [{ bbox: [0, 0, 200, 200], score: 0.9 }]).metrics;
  expectMetrics(t, m, { APs: -1, APm: 1, APl: 1 });
});

test('an unmatched detection outside the area range (w*h) is ignored in that range', (t) => {
  // a large FP ranked above a small TP: halves AP over all areas, ignored for small
  const m = evaluate([{ bbox: [0, 0, 20, 20] }], [{ bbox: [100, 100, 100, 100], score: 0.9 }, { bbox: [0, 0, 20, 20], score: 0.8 }]).metrics;
  expectMetrics(t, m, { AP: 0.5, APs: 1, APl: -1 });
});

test('a detection matched to an ignored ground truth (area out of range) is ignored', (t) => {
  // B is large (10000), A medium (2500). The det on B has area 9120 (medium) and IoU .912 with B.
  // medium: t <= .90 it matches B (ignored) -> ignored, AP 1; t = .95 it is an unmatched medium FP
  //   ranked first -> AP .5. Mean (9 + .5) / 10.
  // large: t <= .90 TP, AP 1; t = .95 both dets ignored (A's matches ignored A, B's is medium) -> 0.
  const m = evaluate(
    [{ bbox: [100, 100, 100, 100] }, { bbox: [0, 0, 50, 50] }],
    [{ bbox: [100, 100, 95, 96], score: 0.9 }, { bbox: [0, 0, 50, 50], score: 0.8 }],
  ).metrics;
  expectMetrics(t, m, { APm: 0.95, APl: 0.9 });
});

test('crowd regions: detections on them are ignored, IoU against the detection area', (t) => {
  const crowd: G = { bbox: [100, 100, 200, 200], iscrowd: true };
  const a: G = { bbox: [0, 0, 50, 50] };
  // three detections inside the crowd: all ignored, one crowd takes any number
  let m = evaluate([crowd, a], [
    { bbox: [110, 110, 20, 20], score: 0.95 },
    { bbox: [150, 150, 20, 20], score: 0.9 },
    { bbox: [200, 200, 20, 20], score: 0.85 },
    { bbox: [0, 0, 50, 50], score: 0.8 },
  ]).metrics;
  expectMetrics(t, m, { AP: 1, AR100: 1 });
  // 3/4 of a detection inside the crowd: IoU .75 -> ignored for t <= .75, an FP above
  m = evaluate([crowd, a], [{ bbox: [95, 100, 20, 20], score: 0.9 }, { bbox: [0, 0, 50, 50], score: 0.8 }]).metrics;
  expectMetrics(t, m, { AP: (6 * 1 + 4 * 0.5) / 10 });
  // a crowd alone is no ground truth: -1
  m = evaluate([crowd], [{ bbox: [110, 110, 20, 20], score: 0.9 }]).metrics;
  expectMetrics(t, m, { AP: -1, AR100: -1 });
});

test('ground truths: regular before crowd (stable), a regular match is kept over a crowd', (t) => {
  // crowd listed first, the regular object at the same place: the detection takes the regular one
  const m = evaluate([{ bbox: [0, 0, 100, 100], iscrowd: true }, { bbox: [0, 0, 100, 100] }], [{ bbox: [0, 0, 100, 100], score: 0.9 }]).metrics;
  expectMetrics(t, m, { AP: 1 });
});

test('mean over categories with ground truth; -1 categories left out', (t) => {
  const r = evaluate(
    [{ bbox: [0, 0, 50, 50], categoryId: 1 }, { bbox: [100, 100, 50, 50], categoryId: 2 }],
    [
      { bbox: [0, 0, 50, 50], score: 0.9, categoryId: 1 },
      { bbox: [200, 200, 50, 50], score: 0.9, categoryId: 3 }, // no ground truth: -1
      { bbox: [200, 200, 50, 50], score: 0.9, categoryId: 99 }, // not a category: not scored
    ],
    { categories: [1, 2, 3, 4] },
  );
  expectMetrics(t, r.metrics, { AP: 0.5, AR100: 0.5 });
  // precision of a hit is tp / (tp + fp + eps), so a perfect category is 1 - 2e-16, in pycocotools too
  t.deepEqual(r.perCategory.map((c) => Math.round(c.AP * 1e12) / 1e12), [1, 0, -1, -1]);
});

test('ties: stable by score, images in ascending id order, input order inside an image', (t) => {
  const gts: G[] = [{ bbox: [0, 0, 50, 50], imageId: 2 }];
  // equal scores in images 1 (FP) and 2 (TP): image 1 ranks first -> [FP, TP] -> AP .5
  let m = evaluate(gts, [{ bbox: [0, 0, 50, 50], score: 0.5, imageId: 2 }, { bbox: [300, 300, 50, 50], score: 0.5, imageId: 1 }], { images: [2, 1] }).metrics;
  expectMetrics(t, m, { AP: 0.5 });
  // the same with the images' ids swapped -> [TP, FP] -> AP 1
  m = evaluate([{ bbox: [0, 0, 50, 50], imageId: 1 }], [{ bbox: [0, 0, 50, 50], score: 0.5, imageId: 1 }, { bbox: [300, 300, 50, 50], score: 0.5, imageId: 2 }], { images: [2, 1] }).metrics;
  expectMetrics(t, m, { AP: 1 });
  // inside one image the input order decides
  const g1: G[] = [{ bbox: [0, 0, 50, 50] }];
  m = evaluate(g1, [{ bbox: [300, 300, 50, 50], score: 0.5 }, { bbox: [0, 0, 50, 50], score: 0.5 }]).metrics;
  expectMetrics(t, m, { AP: 0.5 });
  m = evaluate(g1, [{ bbox: [0, 0, 50, 50], score: 0.5 }, { bbox: [300, 300, 50, 50], score: 0.5 }]).metrics;
  expectMetrics(t, m, { AP: 1 });
});

test('no images or no ground truth at all: -1 everywhere', (t) => {
  const r = new CocoEvaluator([1, 2], []).summarize();
  t.deepEqual(r.stats, Array(12).fill(-1));
});

test('pairwise summation is numpy\'s', (t) => {
  // 0.1 summed 1000 times: numpy's pairwise sum differs from the naive loop
  const v = Array(1000).fill(0.1);
  let naive = 0;
  for (const x of v) naive += x;
  const pw = pairwiseSum(v);
  t.is(pw, 100.00000000000001); // np.add.reduce(np.full(1000, .1))
  t.not(pw, naive);
});

for (const file of readdirSync(FIXTURES).filter((f) => f.endsWith('.json') && f !== 'thresholds.json')) {
  test(`same twelve numbers as pycocotools: ${file}`, (t) => {
    const doc = JSON.parse(readFileSync(join(FIXTURES, file), 'utf8'));
    const problems = new Problems(true);
    const ds = parseCocoDataset(doc.gt, file, '/nonexistent', problems);
    const byImage = parseCocoResults(doc.results, file, ds, problems);
    const ev = new CocoEvaluator(ds.categories.map((c) => c.id), ds.annotations);
    // any order of adding images gives the same numbers
    for (const img of [...ds.images].reverse()) ev.addImage(img.id, byImage.get(img.id) ?? []);
    const got = ev.summarize().stats;
    let worst = 0;
    for (let i = 0; i < 12; i++) {
      const d = Math.abs(got[i] - doc.stats[i]);
      worst = Math.max(worst, d);
      t.true(d <= 1e-6, `${METRIC_NAMES[i]}: snc ${got[i]}, pycocotools ${doc.stats[i]}`);
    }
    t.log(`${file}: max |snc - pycocotools| = ${worst}`);
  });
}
