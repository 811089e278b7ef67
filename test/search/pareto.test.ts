import test from 'ava';
import { fitAccuracyPredictor } from '../../src/search/accuracy-predictor.js';
import { beats, bestUnderBudget, paretoFront } from '../../src/search/pareto.js';

const P = (latency: number, accuracy: number) => ({ latency, accuracy });

test('front: dominated points out, fastest first, accuracy strictly rising', (t) => {
  const pts = [P(10, 0.5), P(5, 0.3), P(7, 0.2), P(12, 0.45), P(20, 0.6), P(3, 0.1), P(8, 0.5)];
  // (7, .2) is beaten by (5, .3); (12, .45) by (10, .5); (10, .5) by (8, .5): as accurate, faster
  t.deepEqual(paretoFront(pts), [5, 1, 6, 4]);
  t.deepEqual(paretoFront([]), []);
  t.deepEqual(paretoFront([P(1, 0)]), [0]);
});

test('front: ties are broken by index, deterministically', (t) => {
  // exact duplicates: the first one stays
  t.deepEqual(paretoFront([P(5, 0.4), P(5, 0.4), P(9, 0.6)]), [0, 2]);
  t.deepEqual(paretoFront([P(9, 0.6), P(5, 0.4), P(5, 0.4)]), [1, 0]);
  // same latency: the more accurate; same accuracy: the faster
  t.deepEqual(paretoFront([P(5, 0.3), P(5, 0.4)]), [1]);
  t.deepEqual(paretoFront([P(6, 0.4), P(5, 0.4)]), [1]);
  // every accuracy equal (an untrained supernet): the fastest alone
  t.deepEqual(paretoFront([P(3, 0), P(1, 0), P(2, 0), P(1, 0)]), [1]);
  // non-finite values are left out
  t.deepEqual(paretoFront([P(NaN, 1), P(2, 0.1), P(3, Infinity)]), [1]);
  t.true(beats(P(1, 1), 0, P(1, 1), 1));
  t.false(beats(P(1, 1), 1, P(1, 1), 0));
  t.false(beats(P(1, 0.5), 0, P(2, 0.6), 1));
});

test('budget: the most accurate point within it, or none', (t) => {
  const pts = [P(10, 0.5), P(5, 0.3), P(20, 0.6), P(3, 0.1), P(9, 0.5)];
  t.is(bestUnderBudget(pts, 100), 2);
  t.is(bestUnderBudget(pts, 19.99), 4); // (9, .5) is as accurate as (10, .5) and faster
  t.is(bestUnderBudget(pts, 9), 4); // within means <=
  t.is(bestUnderBudget(pts, 8.9), 1);
  t.is(bestUnderBudget(pts, 3), 3);
  t.is(bestUnderBudget(pts, 2.9), undefined);
});

test('accuracy predictor: offset fit, leave-one-out error, margin floor and safety', (t) => {
  const none = fitAccuracyPredictor([]);
  t.is(none.margin, Infinity);
  t.is(none.predict(0.3), 0.3);
  const few = fitAccuracyPredictor([{ subset: 0.3, full: 0.32 }, { subset: 0.4, full: 0.42 }]);
  t.is(few.margin, Infinity, 'below minPairs nothing is ruled out');
  const pairs = [
    { subset: 0.3, full: 0.33 },
    { subset: 0.4, full: 0.42 },
    { subset: 0.5, full: 0.53 },
    { subset: 0.6, full: 0.62 },
  ];
  const p = fitAccuracyPredictor(pairs, { floor: 0.001, safety: 2 });
  t.true(Math.abs(p.offset - 0.025) < 1e-12);
  t.true(Math.abs(p.predict(0.7) - 0.725) < 1e-12);
  // each difference is 0.005 from the mean; left out, 4/3 of that
  t.true(Math.abs(p.maxLooError! - 0.005 * (4 / 3)) < 1e-12);
  t.true(Math.abs(p.margin - 2 * 0.005 * (4 / 3)) < 1e-12);
  t.is(fitAccuracyPredictor(pairs, { floor: 0.05 }).margin, 0.05);
  // a subset score of -1 (no ground truth in the subset) is not a pair
  t.is(fitAccuracyPredictor([...pairs, { subset: -1, full: 0.4 }]).pairs, 4);
});
