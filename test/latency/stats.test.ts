import test from 'ava';
import { linearFit, linearFitRelative, quantile, rmspe, spearman, summarize, withinShare } from '../../src/latency/stats.js';

test('quantiles interpolate linearly like numpy', (t) => {
  t.is(quantile([1, 2, 3, 4], 0.5), 2.5);
  t.is(quantile([1, 2, 3, 4], 0.25), 1.75);
  const s = summarize([4, 1, 3, 2, 100]);
  t.is(s.median, 3);
  t.is(s.q1, 2);
  t.is(s.q3, 4);
  t.is(s.spread, 2 / 3);
});

test('spearman: monotone is 1, reversed is -1, ties get average ranks', (t) => {
  t.is(spearman([1, 2, 3, 4], [10, 20, 30, 1000]), 1);
  t.is(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  t.true(Math.abs(spearman([1, 2, 2, 3], [1, 2, 3, 4]) - 0.9486832980505138) < 1e-12); // scipy.stats.spearmanr
});

test('error figures', (t) => {
  t.true(Math.abs(rmspe([110, 90], [100, 100]) - 0.1) < 1e-12);
  t.is(withinShare([109, 89, 100], [100, 100, 100], 0.1), 2 / 3);
});

test('fits recover a line exactly', (t) => {
  const x = [1, 2, 5, 9];
  const y = x.map((v) => 1.5 * v + 0.25);
  for (const f of [linearFit(x, y), linearFitRelative(x, y)]) {
    t.true(Math.abs(f.a - 1.5) < 1e-9);
    t.true(Math.abs(f.b - 0.25) < 1e-9);
  }
});
