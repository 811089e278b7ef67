import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configKey, parseConfig, type SubnetConfig } from '../../src/detr/spec.js';
import { loadSupernetDir } from '../../src/detr/supernet.js';
import { readLut } from '../../src/latency/lut.js';
import { LatencyPredictor } from '../../src/latency/predictor.js';
import { checkSpeed, pickReferences, speedFactor } from '../../src/latency/speed-check.js';
import { fakeTimer } from '../helpers/fake-timer.js';
import { scaledLut } from '../helpers/scaled-lut.js';
import { smallSupernet } from '../helpers/small-supernet.js';

const tmp = mkdtempSync(join(tmpdir(), 'snc-speed-test-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));

test('references: evenly spaced by predicted latency, near the budget when enough are, never an excluded one', (t) => {
  const ms = [9, 1, 5, 3, 7, 2, 8, 4, 6, 10];
  // sorted by ms: indices 1,5,3,7,2,8,4,0,6,9 (ms 1..10); 4 evenly spaced: ms 1, 4, 7, 10
  t.deepEqual(pickReferences(ms, 4), [1, 7, 4, 9]);
  t.deepEqual(pickReferences(ms, 1), [2]);
  // within a factor of 2 of 4 ms: ms 2..8; three of them: 2, 5, 8
  t.deepEqual(pickReferences(ms, 3, { aroundMs: 4 }).map((i) => ms[i]), [2, 5, 8]);
  // too few near 30 ms: the whole grid
  t.deepEqual(pickReferences(ms, 2, { aroundMs: 30 }).map((i) => ms[i]), [1, 10]);
  t.deepEqual(pickReferences(ms, 2, { exclude: new Set([1, 9]) }).map((i) => ms[i]), [2, 9]);
  t.deepEqual(pickReferences([3, 1], 5), [1, 0]);
  t.throws(() => pickReferences(ms, 0), { message: /references 0 is not an integer >= 1/ });
});

test('the speed factor is the median of measured over predicted', (t) => {
  t.is(speedFactor([10, 20, 40], [11, 30, 40]), 1.1);
  t.is(Math.round(speedFactor([10, 10], [12, 14]) * 1e9) / 1e9, 1.3);
});

test('a speed check measures the machine against the LUT: a LUT ten times too slow gets a factor ten times smaller', async (t) => {
  const small = smallSupernet(join(tmp, 'small'));
  const net = loadSupernetDir(small.dir);
  const lut = readLut(small.luts[0]);
  // a machine that runs every subnet 2x as long as the LUT predicts (injected: the test checks the logic, not this machine)
  const seen: SubnetConfig[][] = [];
  const time = fakeTimer(lut, 2, seen);
  const real = await checkSpeed(net, lut.device, lut, { references: 3, time });
  const slow = await checkSpeed(net, lut.device, scaledLut(lut, 10), { references: 3, time, exclude: [real.references[0].key] });
  t.is(real.device, 'ort-cpu-1t');
  t.is(real.references.length, 3);
  t.deepEqual(seen[0].map(configKey), real.references.map((r) => r.key), 'the references are what was timed');
  t.false(slow.references.some((r) => r.key === real.references[0].key));
  const p = new LatencyPredictor(lut, net.spec.architecture);
  for (const r of real.references) {
    t.is(r.predictedMs, p.predict(parseConfig(r.key, net.spec.default)));
    t.true(Math.abs(r.measuredMs - 2 * r.predictedMs) < 1e-9);
    t.is(r.ratio, r.measuredMs / r.predictedMs);
  }
  t.is(real.factor, speedFactor(real.references.map((r) => r.predictedMs), real.references.map((r) => r.measuredMs)));
  t.true(Math.abs(real.factor - 2) < 1e-9, `factor ${real.factor}`);
  t.true(real.ratioRange[0] <= real.factor && real.factor <= real.ratioRange[1]);
  t.true(Math.abs(slow.factor - 0.2) < 1e-9, `factor ${slow.factor} with the LUT x10`);
});

test('a speed check on this machine times real sessions of the references', async (t) => {
  // only what load cannot change: the figures exist and agree with each other
  const small = smallSupernet(join(tmp, 'small-real'));
  const net = loadSupernetDir(small.dir);
  const lut = readLut(small.luts[0]);
  const real = await checkSpeed(net, lut.device, lut, { references: 2, measure: { runs: 3, warmup: 1, minSeconds: 0 } });
  t.is(real.references.length, 2);
  for (const r of real.references) t.true(r.measuredMs > 0 && r.spread >= 0 && r.ratio === r.measuredMs / r.predictedMs);
  t.true(real.factor > 0 && real.ratioRange[0] <= real.factor && real.factor <= real.ratioRange[1]);
});
