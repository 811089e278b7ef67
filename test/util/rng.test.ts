import test from 'ava';
import { StreamRng } from '../../src/util/rng.js';

test('the same key gives the same stream, other keys other streams', (t) => {
  const a = new StreamRng('k:1');
  const b = new StreamRng('k:1');
  const c = new StreamRng('k:2');
  const xs = Array.from({ length: 100 }, () => a.u32());
  t.deepEqual(Array.from({ length: 100 }, () => b.u32()), xs);
  const ys = Array.from({ length: 100 }, () => c.u32());
  t.true(xs.filter((x, i) => x === ys[i]).length < 3);
});

test('draws stay in their ranges and are roughly uniform', (t) => {
  const r = new StreamRng('range');
  const counts = [0, 0, 0, 0, 0, 0];
  let sum = 0;
  for (let i = 0; i < 60000; i++) {
    const v = r.next();
    t.true(v >= 0 && v < 1);
    sum += v;
    counts[r.int(0, 5)]++;
    const u = r.uniform(3, 4);
    if (u < 3 || u >= 4) t.fail(`uniform ${u}`);
    const l = r.logUniform(2, 8);
    if (l < 2 || l > 8) t.fail(`logUniform ${l}`);
  }
  t.true(Math.abs(sum / 60000 - 0.5) < 0.01);
  for (const c of counts) t.true(Math.abs(c - 10000) < 500, String(counts));
  t.is(r.weighted([0, 1, 0]), 1);
});
