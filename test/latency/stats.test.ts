import test from 'ava';
import { linearFit, linearFitRelative, quantile, rmspe, spearman, summarize, withinShare } from '../../src/latency/stats.js';
import { sharedFactor } from '../../src/latency/validate.js';

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

test('validation: errors that share one factor are recognised as the machine speed, other errors are not', (t) => {
  const predicted = [2, 3, 5, 8, 13, 21, 34];
  // a uniformly slower machine: every subnet -79% (predicted = 0.21 x measured), a little noise
  const noise = [1, 1.03, 0.98, 1.01, 0.97, 1.02, 1];
  const slow = predicted.map((p, i) => (p / 0.21) * noise[i]);
  const s = sharedFactor(predicted, slow, spearman(predicted, slow));
  t.truthy(s);
  t.true(Math.abs(s!.factor - 1 / 0.21) < 0.01 * (1 / 0.21), `factor ${s!.factor}`);
  t.is(s!.within10, 1);
  t.true(s!.rmspe < 0.03);
  // right scale: nothing to say
  t.is(sharedFactor(predicted, predicted.map((p, i) => p * noise[i]), 1), undefined);
  // errors that are not one factor: half the subnets x2, half x5
  const mixed = predicted.map((p, i) => p * (i % 2 ? 2 : 5));
  t.is(sharedFactor(predicted, mixed, spearman(predicted, mixed)), undefined);
  // ranked wrong: not a matter of speed
  t.is(sharedFactor(predicted, slow, 0.5), undefined);
});
