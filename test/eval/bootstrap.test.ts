import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bootstrapAp, differenceSpread, seededRandom, spreadOf, unweightedAp, withoutResamples } from '../../src/eval/bootstrap.js';
import { CocoEvaluator, type Detection, type GroundTruth } from '../../src/eval/coco-eval.js';
import { parseCocoDataset } from '../../src/data/coco.js';
import { parseCocoResults } from '../../src/data/results.js';
import { Problems } from '../../src/data/problems.js';

function fixture(name: string): CocoEvaluator {
  const doc = JSON.parse(readFileSync(join(process.cwd(), 'test', 'fixtures', 'coco', name), 'utf8'));
  const problems = new Problems(true);
  const ds = parseCocoDataset(doc.gt, name, '/nonexistent', problems);
  const byImage = parseCocoResults(doc.results, name, ds, problems);
  const ev = new CocoEvaluator(ds.categories.map((c) => c.id), ds.annotations);
  for (const img of ds.images) ev.addImage(img.id, byImage.get(img.id) ?? []);
  return ev;
}

/** A random set: n images of 1-8 objects of 3 classes, detections jittered, some wrong or spurious; `better` adds an exact, confident detection of the first object of every third image. */
function randomSet(n: number, seed: number, better = false): CocoEvaluator {
  const rand = seededRandom(seed);
  const gts: GroundTruth[] = [];
  const dets = new Map<number, Detection[]>();
  let id = 1;
  for (let img = 1; img <= n; img++) {
    const d: Detection[] = [];
    const k = 1 + Math.floor(rand() * 8);
    for (let i = 0; i < k; i++) {
      const w = 5 + rand() * 80;
      const h = 5 + rand() * 80;
      const x = rand() * 200;
      const y = rand() * 200;
      const c = 1 + Math.floor(rand() * 3);
      gts.push({ id: id++, imageId: img, categoryId: c, bbox: [x, y, w, h], area: w * h, iscrowd: false });
      if (rand() < 0.8) {
        const j = () => (rand() - 0.5) * 0.4;
        d.push({ categoryId: rand() < 0.7 ? c : 1 + Math.floor(rand() * 3), bbox: [x + j() * w, y + j() * h, w * (1 + j()), h * (1 + j())], score: rand() });
      }
    }
    for (let i = 0; i < 3; i++) d.push({ categoryId: 1 + Math.floor(rand() * 3), bbox: [rand() * 200, rand() * 200, 10 + rand() * 50, 10 + rand() * 50], score: rand() * 0.5 });
    const first = gts.find((g) => g.imageId === img)!;
    if (better && img % 3 === 0) d.push({ categoryId: first.categoryId, bbox: [...first.bbox], score: 0.99 });
    dets.set(img, d);
  }
  const ev = new CocoEvaluator([1, 2, 3], gts);
  for (let img = 1; img <= n; img++) ev.addImage(img, dets.get(img)!);
  return ev;
}

test('every image weighted once gives summarize()\'s AP and AP50', (t) => {
  for (const ev of [fixture('mixed.json'), fixture('dense.json'), fixture('crowds.json'), fixture('ties.json'), randomSet(60, 3)]) {
    const m = ev.summarize().metrics;
    const u = unweightedAp(ev);
    t.true(Math.abs(u.AP - m.AP) < 1e-12, `AP ${u.AP} vs ${m.AP}`);
    t.true(Math.abs(u.AP50 - m.AP50) < 1e-12, `AP50 ${u.AP50} vs ${m.AP50}`);
  }
});

test('identical images: zero spread', (t) => {
  const gts: GroundTruth[] = [];
  const ev0: [number, Detection[]][] = [];
  for (let img = 1; img <= 30; img++) {
    gts.push({ id: 2 * img, imageId: img, categoryId: 1, bbox: [10, 10, 20, 20], area: 400, iscrowd: false });
    gts.push({ id: 2 * img + 1, imageId: img, categoryId: 2, bbox: [50, 50, 30, 10], area: 300, iscrowd: false });
    ev0.push([img, [
      { categoryId: 1, bbox: [11, 10, 20, 21], score: 0.9 },
      { categoryId: 2, bbox: [100, 100, 5, 5], score: 0.8 },
      { categoryId: 2, bbox: [50, 52, 30, 10], score: 0.3 },
    ]]);
  }
  const ev = new CocoEvaluator([1, 2], gts);
  for (const [img, d] of ev0) ev.addImage(img, d);
  const s = bootstrapAp(ev, { samples: 50 });
  const ap = ev.summarize().metrics.AP;
  t.is(s.AP.std, 0);
  t.true(Math.abs(s.AP.lo90 - ap) < 1e-12 && Math.abs(s.AP.hi90 - ap) < 1e-12);
  t.is(s.AP50.std, 0);
});

test('the 90% interval holds the point estimate; seeded resamples are reproducible, other seeds differ', (t) => {
  const ev = randomSet(120, 7);
  const m = ev.summarize().metrics;
  const a = bootstrapAp(ev, { samples: 100, seed: 5 });
  const b = bootstrapAp(ev, { samples: 100, seed: 5 });
  const c = bootstrapAp(ev, { samples: 100, seed: 6 });
  t.deepEqual(a, b);
  t.notDeepEqual(a.AP, c.AP);
  t.true(a.AP.std > 0);
  t.true(a.AP.lo90 <= m.AP && m.AP <= a.AP.hi90, `${a.AP.lo90} <= ${m.AP} <= ${a.AP.hi90}`);
  t.true(a.AP50.lo90 <= m.AP50 && m.AP50 <= a.AP50.hi90);
  // the spread shrinks with more images (about as 1/sqrt(n))
  const big = bootstrapAp(randomSet(480, 7), { samples: 100, seed: 5 });
  t.true(big.AP.std < a.AP.std, `${big.AP.std} < ${a.AP.std}`);
  t.is(a.samples, 100);
  t.is(a.seed, 5);
});

test('spreadOf: sample standard deviation and numpy-style percentiles', (t) => {
  const s = spreadOf([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  t.true(Math.abs(s.std - Math.sqrt(11)) < 1e-12);
  t.is(s.lo90, 1.5);
  t.is(s.hi90, 10.5);
  t.throws(() => bootstrapAp(randomSet(3, 1), { samples: 0 }), { message: /samples must be a positive integer, got 0/ });
});

test('paired resamples: a subnet against itself differs by exactly 0; against a better one the error is below the independent estimate', (t) => {
  const a = bootstrapAp(randomSet(150, 3), { samples: 100, seed: 2 });
  const b = bootstrapAp(randomSet(150, 3, true), { samples: 100, seed: 2 });
  t.is(a.resamples!.images, 150);
  t.is(a.resamples!.AP.length, 100);
  const self = differenceSpread(a, a, 'AP', 0)!;
  t.true(self.paired);
  t.deepEqual([self.std, self.lo90, self.hi90], [0, 0, 0]);
  const mA = randomSet(150, 3).summarize().metrics.AP, mB = randomSet(150, 3, true).summarize().metrics.AP;
  t.true(mB > mA, `${mB} > ${mA}`);
  const d = differenceSpread(a, b, 'AP', mB - mA)!;
  const independent = Math.sqrt(a.AP.std ** 2 + b.AP.std ** 2);
  t.true(d.paired);
  t.true(d.std > 0 && d.std < 0.8 * independent, `paired ${d.std} against independent ${independent}: the same images are hard for both`);
  t.true(d.lo90 > 0, 'the better set is separated from the other');
  // another seed draws other images: not paired, the independent estimate around the measured rise
  const c = bootstrapAp(randomSet(150, 3, true), { samples: 100, seed: 3 });
  const u = differenceSpread(a, c, 'AP', mB - mA)!;
  t.false(u.paired);
  t.true(Math.abs(u.std - Math.sqrt(a.AP.std ** 2 + c.AP.std ** 2)) < 1e-15);
  t.true(Math.abs(u.hi90 - (mB - mA) - ((mB - mA) - u.lo90)) < 1e-12, 'symmetric around the rise');
  t.false(differenceSpread(withoutResamples(a), b, 'AP50', 0)!.paired, 'a spread without its resamples (an older cache entry)');
  t.is(differenceSpread(null, b, 'AP', 0), null);
  t.is(withoutResamples(a).resamples, undefined);
  t.deepEqual(withoutResamples(a).AP, a.AP);
  t.truthy(a.resamples, 'withoutResamples leaves its argument as it was');
});
