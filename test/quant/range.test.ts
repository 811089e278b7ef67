import test from 'ava';
import { goldenSection, minimizeScalar } from '../../src/quant/golden.js';
import { activationGrid, affineParams, fakeQuant, weightGrid } from '../../src/quant/grid.js';
import { StreamingHistogram } from '../../src/quant/histogram.js';
import { entropyRange } from '../../src/quant/range/entropy.js';
import { minMaxRange } from '../../src/quant/range/minmax.js';
import { clipError, histogramMse, mseClip, mseRange } from '../../src/quant/range/mse.js';
import { percentileRange } from '../../src/quant/range/percentile.js';
import { gaussian, laplace, uniform } from './samples.js';

const hist = (...batches: Float32Array[]) => {
  const h = new StreamingHistogram(2048);
  for (const b of batches) h.add(b);
  return h;
};

test('golden section finds the minimum of a convex function in few evaluations', (t) => {
  const m = goldenSection((x) => (x - 0.3) ** 2, 0, 1, 1e-5);
  t.true(Math.abs(m.x - 0.3) < 1e-4);
  t.true(m.evaluations < 40);
  const s = minimizeScalar((x) => Math.abs(x - 0.71) + 0.01 * Math.sin(40 * x) ** 2, 0, 1);
  t.true(Math.abs(s.x - 0.71) < 0.01, `${s.x}`);
});

test('the histogram keeps min, max and count, and re-bins exactly when its range doubles', (t) => {
  const a = uniform(10000, -1, 1, 1);
  const b = uniform(10000, -3.5, 3.5, 2);
  const h = hist(a, b);
  t.is(h.count, 20000);
  t.is(h.min, Math.min(...a, ...b));
  t.is(h.max, Math.max(...a, ...b));
  t.true(h.range >= 3.5 && h.range < 8.1);
  // every value lies in the bin direct binning at the final range gives it
  const direct = new Float64Array(h.bins);
  for (const x of [...a, ...b]) direct[Math.min(h.bins - 1, Math.floor(((x + h.range) * h.bins) / (2 * h.range)))]++;
  t.deepEqual(Array.from(h.counts), Array.from(direct));
  t.is(h.counts.reduce((s, c) => s + c, 0), 20000);
});

test('memory does not grow with the number of batches', (t) => {
  const h = new StreamingHistogram(512);
  for (let i = 0; i < 50; i++) h.add(gaussian(1000, 1 + i / 10, i + 1));
  t.is(h.counts.length, 512);
  t.is(h.count, 50000);
});

test('min-max is the observed range', (t) => {
  const h = hist(Float32Array.of(-2, 0.5, 3));
  t.deepEqual(minMaxRange(h), { lo: -2, hi: 3 });
});

test('percentile cuts the tails of a uniform distribution where they are', (t) => {
  const r = percentileRange(hist(uniform(200000, -1, 1, 3)), 99);
  t.true(Math.abs(r.hi - 0.98) < 0.01, `${r.hi}`);
  t.true(Math.abs(r.lo + 0.98) < 0.01, `${r.lo}`);
  t.throws(() => percentileRange(hist(uniform(10)), 40));
});

test('entropy calibration ignores rare outliers and keeps a uniform range whole', (t) => {
  const g = gaussian(200000, 1, 4);
  g[0] = 60;
  g[1] = -55;
  const r = entropyRange(hist(g));
  t.true(r.hi > 2 && r.hi < 12, `${r.hi}`);
  t.true(r.lo < -2 && r.lo > -12, `${r.lo}`);
  const u = entropyRange(hist(uniform(200000, -1, 1, 5)));
  t.true(u.hi > 0.95, `${u.hi}`);
});

/** The clip a dense scan of the exact error finds (the reference for the golden-section search). */
function scanClip(values: Float32Array, bits: number): number {
  const g = weightGrid(bits);
  let m = 0;
  for (const v of values) m = Math.max(m, Math.abs(v));
  let best = m;
  let bestE = Infinity;
  for (let k = 1; k <= 400; k++) {
    const c = (m * k) / 400;
    const e = clipError(values, c, g);
    if (e < bestE) {
      bestE = e;
      best = c;
    }
  }
  return best;
}

test('MSE clipping of weights: Gaussian and Laplace optima as in the literature, uniform unclipped', (t) => {
  const n = 100000;
  const g = gaussian(n, 1, 6);
  const l = laplace(n, 1, 7);
  // Banner et al. (ACIQ), 4 bits: Gaussian 2.55 sigma, Laplace 5.03 b (for 16 levels; 15 here)
  const cg = mseClip(g, weightGrid(4)).clip;
  const cl = mseClip(l, weightGrid(4)).clip;
  t.true(Math.abs(cg - 2.55) / 2.55 < 0.1, `gaussian 4-bit clip ${cg}`);
  t.true(Math.abs(cl - 5.03) / 5.03 < 0.12, `laplace 4-bit clip ${cl}`);
  // 8 bits: Laplace 9.89 b
  const cl8 = mseClip(l, weightGrid(8)).clip;
  t.true(Math.abs(cl8 - 9.89) / 9.89 < 0.12, `laplace 8-bit clip ${cl8}`);
  // the search agrees with a dense scan of the exact error
  for (const [v, bits] of [[g, 4], [l, 3]] as const) {
    const s = scanClip(v, bits);
    const c = mseClip(v, weightGrid(bits)).clip;
    t.true(clipError(v, c, weightGrid(bits)) <= clipError(v, s, weightGrid(bits)) * 1.01, `${bits} bits: ${c} vs scan ${s}`);
  }
  // uniform on [-1, 1] with 15 levels: 15 equal cells, the outer level at their centre, 14/15
  const cu = mseClip(uniform(n, -1, 1, 8), weightGrid(4));
  t.true(Math.abs(cu.alpha - 14 / 15) < 0.01, `uniform alpha ${cu.alpha}`);
});

test('MSE clipping on the calibration histogram matches the optimum on the samples', (t) => {
  const l = laplace(200000, 1, 9);
  const h = hist(l);
  const g = weightGrid(4);
  const r = mseRange(h, { ...g, dtype: 'int8' });
  t.true(Math.abs(r.hi - 5.03) / 5.03 < 0.15, `${r.hi}`);
  t.true(r.evaluations < 60);
  // the histogram's error estimate is close to the error on the samples themselves
  const p = affineParams(r.lo, r.hi, g);
  let e = 0;
  for (const x of l) e += (x - fakeQuant(x, p)) ** 2;
  const est = histogramMse(h, p);
  t.true(Math.abs(est - e) / e < 0.05, `estimate ${est} vs ${e}`);
  // 8-bit activations of a ReLU-like (one-sided) distribution keep their zero side
  const relu = Float32Array.from(gaussian(100000, 1, 10), (x) => Math.max(0, x));
  const a = mseRange(hist(relu), activationGrid('uint8'));
  t.is(a.lo, 0);
  t.true(a.hi > 2.5 && a.hi <= Math.max(...relu));
});
