/**
 * snc lut validate's measurement: every sampled subnet measured end to end, the default subnet
 * in every group (the noise floor), and the LUT's reference blocks in every group, which give
 * the same measurements at the LUT's speed.
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../src/detr/spec.js';
import { loadSupernetDir } from '../../src/detr/supernet.js';
import { loadDevice } from '../../src/latency/device.js';
import { LatencyPredictor } from '../../src/latency/predictor.js';
import { profile } from '../../src/latency/profiler.js';
import { groupedMedians, validateLut } from '../../src/latency/validate.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const net = loadSupernetDir(join(root, 'test/fixtures/parity'));
const device = loadDevice('ort-cpu-1t');
const tmp = mkdtempSync(join(tmpdir(), 'snc-validate-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));

test('groupedMedians divides each group\'s samples by its factor before the median', (t) => {
  // a subject timed in a group at 2x the speed-1 time and in another at the LUT's speed
  const subjects = [
    [
      { group: 0, samples: [20, 22, 24] },
      { group: 1, samples: [10, 11, 12] },
    ],
    [{ group: 1, samples: [5] }],
  ];
  t.deepEqual(groupedMedians(subjects, [2, 1]), [11, 5]);
  // without the factors the slow group would set the median
  t.deepEqual(groupedMedians(subjects, [1, 1]), [16, 5]);
});

test('a validation measures every sampled subnet and, at the LUT\'s speed, by the LUT\'s reference blocks in every group', async (t) => {
  const lut = await profile(net, device, { out: join(tmp, 'l.json'), measure: { runs: 3, warmup: 0, maxSpread: 1e9 }, group: 8, passes: 1, calibrationSamples: 2 });
  t.truthy(lut.drift, 'a new profile has a drift reference');
  const report = await validateLut(net, device, lut, { samples: 5, seed: 2, measure: { runs: 2, warmup: 0 }, group: 2, passes: 2 });
  t.is(report.samples.length, 5);
  const p = new LatencyPredictor(lut, net.spec.architecture);
  for (const s of report.samples) {
    t.true(s.measuredMs > 0, s.config);
    t.true(Math.abs(s.errorPct - ((s.predictedMs - s.measuredMs) / s.measuredMs) * 100) < 1e-9);
  }
  for (const s of report.samples) t.is(s.predictedMs, p.predict(parseConfig(s.config)));
  // 5 subnets in groups of 2, 2 passes: 6 groups, each with the default subnet and the references
  t.is(report.noiseFloor.medians.length, 6);
  const at = report.atLutSpeed!;
  t.deepEqual(at.references, [...new Set([lut.drift!.reference, ...(lut.calibration!.references ?? [])])]);
  t.is(at.groupFactors.length, 6);
  t.true(at.groupFactors.every((f) => f > 0));
  t.true(at.within10 >= 0 && at.within10 <= 1 && at.rmspe >= 0);
});
