/**
 * The reader fuzz suite, longer: `node dist/bench/fuzz.js [--runs N] [--seed S] [--only NAME]`.
 * Prints per reader the cases run, how many were accepted and refused, the slowest case and the
 * wall time; exits 1 with fast-check's smallest failing case if a reader crashes, answers
 * something other than one SncError line, or leaves a file behind.
 */
import { parseArgs } from 'node:util';
import { fuzz, TARGETS } from '../test/fuzz/readers.js';

const { values } = parseArgs({ options: { runs: { type: 'string' }, seed: { type: 'string' }, only: { type: 'string' } } });
const runs = Number(values.runs ?? 2000);
const seed = Number(values.seed ?? Date.now() % 2 ** 31);
const targets = TARGETS.filter((t) => !values.only || t.name === values.only);
if (!targets.length) throw new Error(`--only ${values.only}: no such reader; readers are ${TARGETS.map((t) => t.name).join(', ')}`);
console.log(`seed ${seed}, ${runs} cases per reader`);
console.log('reader'.padEnd(18), 'cases'.padStart(7), 'accepted'.padStart(9), 'refused'.padStart(8), 'slowest'.padStart(10), 'wall'.padStart(8));
let failed = false;
for (const t of targets) {
  const t0 = performance.now();
  try {
    const o = await fuzz(t, runs, seed);
    console.log(t.name.padEnd(18), String(o.cases).padStart(7), String(o.accepted).padStart(9), String(o.refused).padStart(8), `${o.slowestMs.toFixed(1)} ms`.padStart(10), `${((performance.now() - t0) / 1000).toFixed(1)} s`.padStart(8));
  } catch (e) {
    failed = true;
    console.log(`${t.name}: FAILED\n${(e as Error).message}`);
  }
}
process.exit(failed ? 1 : 0);
