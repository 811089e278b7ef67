import test from 'ava';
import { prefetchMap } from '../../src/util/prefetch.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('results come in input order with at most depth calls in flight', async (t) => {
  let inFlight = 0;
  let most = 0;
  const out: number[] = [];
  for await (const v of prefetchMap([5, 1, 4, 2, 3, 0, 6], async (x) => {
    inFlight++;
    most = Math.max(most, inFlight);
    await sleep(x * 2);
    inFlight--;
    return x * 10;
  }, 3))
    out.push(v);
  t.deepEqual(out, [50, 10, 40, 20, 30, 0, 60]);
  t.is(most, 3);
});

test('a rejection surfaces when its item is reached, earlier results first', async (t) => {
  const out: number[] = [];
  await t.throwsAsync(async () => {
    for await (const v of prefetchMap([1, 2, 3], async (x) => {
      if (x === 2) throw new Error('two');
      return x;
    }, 4))
      out.push(v);
  }, { message: 'two' });
  t.deepEqual(out, [1]);
});
