import test from 'ava';
import { fuzz, TARGETS } from './readers.js';

/** Fixed seed and bounded counts: the same cases on every run (bench/fuzz.ts runs more). */
const SEED = 20261201;

for (const target of TARGETS)
  test(`fuzz ${target.name}: mutated and truncated inputs end normally or in one SncError line, and leave nothing behind`, async (t) => {
    const o = await fuzz(target, target.runs, SEED);
    t.is(o.cases, target.runs + 1);
    t.log(`${o.cases} cases: ${o.accepted} accepted, ${o.refused} refused`);
  });
