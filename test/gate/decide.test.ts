import test from 'ava';
import fc from 'fast-check';
import { medianInterval, minimumRepeats, repeatUntilDecided, verdictOf, worst } from '../../src/gate/decide.js';

test('medianInterval: order statistics with binomial coverage', (t) => {
  // n = 6: [x(1), x(6)] covers the median with 1 - 2/64
  t.like(medianInterval([5, 1, 3, 2, 6, 4], 0.95), { lo: 1, hi: 6, median: 3.5, n: 6 });
  t.is(medianInterval([1, 2, 3, 4, 5, 6], 0.95).coverage, 1 - 2 / 64);
  // n = 9: [x(2), x(8)] covers with 1 - 2 * 10/512 = 0.961
  t.like(medianInterval([9, 1, 8, 2, 7, 3, 6, 4, 5], 0.95), { lo: 2, hi: 8, median: 5 });
  // n = 5 cannot reach 95%: unbounded
  t.like(medianInterval([1, 2, 3, 4, 5], 0.95), { lo: -Infinity, hi: Infinity });
  t.is(minimumRepeats(0.95), 6);
  t.is(minimumRepeats(0.9), 5);
});

test('medianInterval: always contains the median, and one wild value moves at most one bound', (t) => {
  fc.assert(
    fc.property(fc.array(fc.double({ min: 1, max: 100, noNaN: true }), { minLength: 6, maxLength: 30 }), (xs) => {
      const iv = medianInterval(xs, 0.95);
      return iv.lo <= iv.median && iv.median <= iv.hi && iv.coverage >= 0.95;
    }),
  );
  const calm = [10, 10.1, 9.9, 10.05, 9.95, 10.02, 10.03, 9.97, 10];
  const wild = [...calm.slice(0, 8), 25];
  t.true(medianInterval(wild, 0.95).hi < 11);
});

test('verdictOf: fail only when the whole interval lies past the limit', (t) => {
  t.is(verdictOf({ lo: 12, hi: 14 }, 15), 'pass');
  t.is(verdictOf({ lo: 14, hi: 16 }, 15), 'inconclusive');
  t.is(verdictOf({ lo: 15.1, hi: 16 }, 15), 'fail');
  t.is(verdictOf({ lo: -Infinity, hi: Infinity }, 15), 'inconclusive');
  t.is(worst(['pass', 'inconclusive', 'pass']), 'inconclusive');
  t.is(worst(['inconclusive', 'fail']), 'fail');
  t.is(worst(['pass']), 'pass');
});

test('repeatUntilDecided: stops at the first conclusive decision, up to maxRepeats', async (t) => {
  const seq = [1, 1, 1, 1, 1, 1, 2, 2, 2];
  let calls = 0;
  const r = await repeatUntilDecided(
    async (i) => {
      calls++;
      return seq[i];
    },
    (v) => ({ verdict: v.length >= 8 ? 'pass' : 'inconclusive' }),
    { repeats: 6, maxRepeats: 12 },
  );
  t.is(calls, 8);
  t.is(r.values.length, 8);
  const never = await repeatUntilDecided(async () => 1, () => ({ verdict: 'inconclusive' }), { repeats: 3, maxRepeats: 5 });
  t.is(never.values.length, 5);
  t.is(never.decision.verdict, 'inconclusive');
});
