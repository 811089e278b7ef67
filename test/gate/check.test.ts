import test from 'ava';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SncError } from '../../src/errors.js';
import { parseBaseline } from '../../src/gate/baseline.js';
import { check, decide, type OpenTimer } from '../../src/gate/check.js';
import { benchmarkJson, junitXml, markdownSummary } from '../../src/gate/outputs.js';
import { repeatOf } from '../../src/latency/relative.js';
import { exitCode } from '../../src/cli/check.js';
import { fakeBuild } from '../helpers/fake-build.js';

const tmp = mkdtempSync(join(tmpdir(), 'snc-check-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const dir = () => join(tmp, String(n++));

/**
 * A timer whose repeats measure the model at `model[i]` ms and the references at `drift[i]` times
 * their prediction: the machine's speed changes from repeat to repeat, the ratio does not.
 */
function scripted(model: number[], drift: number[]): { open: OpenTimer; calls: () => number } {
  let calls = 0;
  const references = [
    { key: 'a', predictedMs: 5 },
    { key: 'b', predictedMs: 10 },
    { key: 'c', predictedMs: 20 },
  ];
  const open: OpenTimer = async () => ({
    references,
    async repeat(_s, _runs, seed) {
      const i = seed - 1;
      calls++;
      const k = drift[i % drift.length];
      return repeatOf([{ median: model[i % model.length] * k, spread: 0.05, n: 8 }, ...references.map((r) => ({ median: r.predictedMs * k, spread: 0.05, n: 8 }))], references);
    },
    async release() {},
  });
  return { open, calls: () => calls };
}

test('a model well within its budget passes after the first repeats, whatever the machine speed', async (t) => {
  const { cfg } = fakeBuild(dir(), { budgetMs: 15, predictedMs: 13 });
  const timer = scripted([13, 13.2, 12.9, 13.1, 13, 12.8], [1, 1.4, 0.9, 1.6, 1.1, 1.25]);
  const r = await check({ cfg, mode: 'measure', openTimer: timer.open });
  t.is(timer.calls(), 6);
  t.is(r.verdict, 'pass');
  const d = r.devices[0];
  t.deepEqual(d.values.map((v) => +v.toFixed(6)), [13, 13.2, 12.9, 13.1, 13, 12.8]);
  t.like(d.interval, { lo: 12.8, hi: 13.2 });
  t.regex(d.message, /^ort-cpu-1t: 13\.00 ms at the LUT speed \(95% interval 12\.80-13\.20 ms over 6 repeats\); within the 15 ms budget: PASS$/);
  t.true(d.model.asBuilt);
  t.is(exitCode(r, false), 0);
});

test('a model over its budget fails; a model on its budget is inconclusive after maxRepeats', async (t) => {
  const over = fakeBuild(dir(), { budgetMs: 15, predictedMs: 13 });
  const r1 = await check({ cfg: over.cfg, mode: 'measure', openTimer: scripted([16, 16.5, 15.8, 16.2, 16.1, 15.9], [1.2]).open });
  t.is(r1.verdict, 'fail');
  t.is(r1.devices[0].budgetVerdict, 'fail');
  t.regex(r1.devices[0].message, /OVER the 15 ms budget: FAIL$/);
  t.is(exitCode(r1, false), 1);

  const edge = fakeBuild(dir(), { budgetMs: 15, predictedMs: 13, check: { maxRepeats: 9 } });
  const timer = scripted([14, 16, 14.5, 15.5, 14.8, 15.2], [1]);
  const r2 = await check({ cfg: edge.cfg, mode: 'measure', openTimer: timer.open });
  t.is(r2.verdict, 'inconclusive');
  t.is(timer.calls(), 9);
  t.is(exitCode(r2, false), 0);
  t.is(exitCode(r2, true), 3);
});

test('against a baseline: 20% slower is a regression even within the budget; unchanged passes', async (t) => {
  const b = fakeBuild(dir(), { budgetMs: 30, predictedMs: 13 });
  const baseline = { source: 'base.json', values: { 'ort-cpu-1t': 13 }, upper: { 'ort-cpu-1t': 13 } };
  const slow = await check({ cfg: b.cfg, mode: 'measure', baseline, openTimer: scripted([15.6, 15.8, 15.5, 15.7, 15.6, 15.4], [1.1, 1.3]).open });
  t.is(slow.verdict, 'fail');
  t.is(slow.devices[0].budgetVerdict, 'pass');
  t.is(slow.devices[0].regression!.verdict, 'fail');
  t.regex(slow.devices[0].message, /REGRESSION: \+20\.\d% \(\+18\.\d% to \+21\.\d%\) against the baseline's 13\.00 ms, over 14\.30 ms \(\+10%\): FAIL$/);
  const same = await check({ cfg: b.cfg, mode: 'measure', baseline, openTimer: scripted([13.1, 12.9, 13.3, 13, 12.8, 13.2], [1.5, 1]).open });
  t.is(same.verdict, 'pass');
});

test("a regression is judged against the baseline's upper bound: a baseline that read low does not make an ordinary reading fail", async (t) => {
  const b = fakeBuild(dir(), { budgetMs: 30, predictedMs: 9 });
  // the baseline's median read 9.09 ms, its interval reached 9.6 ms; this check reads 10.13 ms (+11.4%)
  const readings = [10.13, 10.05, 10.2, 10.1, 10.16, 10.12];
  const low = { source: 'base.json', values: { 'ort-cpu-1t': 9.09 }, upper: { 'ort-cpu-1t': 9.6 } };
  const r = await check({ cfg: b.cfg, mode: 'measure', baseline: low, openTimer: scripted(readings, [1]).open });
  t.is(r.devices[0].regression!.verdict, 'pass');
  t.is(r.devices[0].regression!.baselineHiMs, 9.6);
  t.regex(r.devices[0].message, /against the baseline's 9\.09 ms \(upper bound 9\.60 ms\), within 10\.56 ms \(its upper bound \+10%\)/);
  // the same readings against a baseline whose interval was tight (9.09 to 9.10 ms) are a regression
  const tight = { ...low, upper: { 'ort-cpu-1t': 9.1 } };
  const r2 = await check({ cfg: b.cfg, mode: 'measure', baseline: tight, openTimer: scripted(readings, [1]).open });
  t.is(r2.devices[0].regression!.verdict, 'fail');
});

test('predict mode judges the built prediction, and refuses a model that is not the one built', async (t) => {
  const b = fakeBuild(dir(), { budgetMs: 12, predictedMs: 13 });
  const r = await check({ cfg: b.cfg, mode: 'predict' });
  t.is(r.verdict, 'fail');
  t.deepEqual(r.devices[0].values, [13]);
  appendFileSync(b.modelPath, 'x');
  await t.throwsAsync(check({ cfg: b.cfg, mode: 'predict' }), { instanceOf: SncError, message: /is not the model snc build wrote/ });
});

test('decide: budget and regression verdicts combine, worst first', (t) => {
  const v = [10, 10, 10, 10, 10, 10];
  t.is(decide(v, 15, 0.95, null).verdict, 'pass');
  t.is(decide(v, 15, 0.95, { valueMs: 8, tolerance: 0.1 }).verdict, 'fail');
  t.is(decide(v, 9, 0.95, { valueMs: 10, tolerance: 0.1 }).verdict, 'fail');
  t.is(decide([9, 11, 9, 11, 9, 11], 15, 0.95, { valueMs: 9.5, tolerance: 0.1 }).verdict, 'inconclusive');
  // the limit moves with the baseline's upper bound: 10 ms against 8 ms (hi 9.5) x 1.1 = 10.45 passes
  t.is(decide(v, 15, 0.95, { valueMs: 8, hiMs: 9.5, tolerance: 0.1 }).verdict, 'pass');
  t.is(decide(v, 15, 0.95, { valueMs: 8, hiMs: Infinity, tolerance: 0.1 }).verdict, 'fail');
});

test('outputs: JUnit XML a test case per device, a markdown summary, benchmark JSON that reads back as a baseline', async (t) => {
  const b = fakeBuild(dir(), { budgetMs: 15, predictedMs: 13 });
  const r = await check({ cfg: b.cfg, mode: 'measure', openTimer: scripted([16, 16.5, 15.8, 16.2, 16.1, 15.9], [1]).open });
  const x = junitXml(r);
  t.regex(x, /<testsuites name="snc check" tests="1" failures="1" skipped="0"/);
  t.regex(x, /<testcase classname="snc\.check\.measure" name="ort-cpu-1t" time="[\d.]+">\n\s+<failure message="ort-cpu-1t: 16\.05 ms[^"]*" type="budget">/);
  const md = markdownSummary(r);
  t.regex(md, /^### snc check: ❌ fail/);
  t.regex(md, /\| ort-cpu-1t \| 15 ms \| 16\.05 \| 15\.80 to 16\.50 \| 6 \| - \| ❌ fail \|/);
  const j = benchmarkJson(r);
  t.like(j[0], { name: 'ort-cpu-1t latency at the LUT speed', unit: 'ms', value: 16.05, range: '± 0.450' });
  t.deepEqual(parseBaseline(JSON.parse(JSON.stringify(j)), 'b.json').values, { 'ort-cpu-1t': 16.05 });
  t.deepEqual(parseBaseline(JSON.parse(JSON.stringify(j)), 'b.json').upper, { 'ort-cpu-1t': 16.5 });
  t.deepEqual(parseBaseline(JSON.parse(JSON.stringify(r)), 'check.json').values, { 'ort-cpu-1t': 16.05 });
  t.deepEqual(parseBaseline(JSON.parse(JSON.stringify(r)), 'check.json').upper, { 'ort-cpu-1t': 16.5 });
  t.deepEqual(parseBaseline([{ name: 'x', unit: 'ms', value: 5 }], 'b.json').upper, { x: 5 });
  t.deepEqual(parseBaseline([{ name: 'x', unit: 'ms', value: 5, range: '± ∞' }], 'b.json').upper, { x: 5 });
  t.throws(() => parseBaseline({ hello: 1 }, 'x.json'), { instanceOf: SncError, message: /^x\.json: not a baseline/ });
});
