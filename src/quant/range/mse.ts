/**
 * MSE-optimal clipping (the seed paper on range estimation): the clipping range is the observed
 * one scaled by alpha in (0, 1]; the expected squared error of quantizing the calibration
 * distribution is locally convex in alpha, so a coarse scan and a golden-section search find its
 * minimum in a few dozen evaluations. On a histogram the values of a bin are taken as spread
 * evenly over it (a few points per bin); on weights the error is computed on the weights.
 */
import { minimizeScalar } from '../golden.js';
import { affineParams, fakeQuant, symmetricParams, type QuantGrid, type QuantParams } from '../grid.js';
import type { StreamingHistogram } from '../histogram.js';
import type { Range } from './types.js';

const POINTS_PER_BIN = 4;

/** Expected squared error of quantizing the histogram's distribution with parameters p. */
export function histogramMse(h: StreamingHistogram, p: QuantParams): number {
  let err = 0;
  const w = h.binWidth;
  for (let i = 0; i < h.bins; i++) {
    const c = h.counts[i];
    if (c === 0) continue;
    const left = -h.range + i * w;
    let e = 0;
    for (let k = 0; k < POINTS_PER_BIN; k++) {
      const x = left + ((k + 0.5) / POINTS_PER_BIN) * w;
      const d = x - fakeQuant(x, p);
      e += d * d;
    }
    err += (c * e) / POINTS_PER_BIN;
  }
  return err;
}

export interface MseResult extends Range {
  alpha: number;
  evaluations: number;
}

/** The range alpha·[min, max] with the least expected error on the grid. */
export function mseRange(h: StreamingHistogram, g: QuantGrid, minAlpha = 0.05): MseResult {
  if (!h.count || h.range === 0) return { lo: Math.min(0, h.min), hi: Math.max(0, h.max), alpha: 1, evaluations: 0 };
  const lo0 = Math.min(0, h.min);
  const hi0 = Math.max(0, h.max);
  const f = (a: number) => histogramMse(h, affineParams(a * lo0, a * hi0, g));
  const m = minimizeScalar(f, minAlpha, 1, { scan: 16, tol: 1e-4, also: [1] });
  return { lo: m.x * lo0, hi: m.x * hi0, alpha: m.x, evaluations: m.evaluations };
}

/** Squared error of symmetric quantization of `values` with clip c on grid g. */
export function clipError(values: ArrayLike<number>, c: number, g: QuantGrid): number {
  const p = symmetricParams(c, g);
  let e = 0;
  for (let i = 0; i < values.length; i++) {
    const d = values[i] - fakeQuant(values[i], p);
    e += d * d;
  }
  return e;
}

/** The MSE-optimal symmetric clip of a set of weights (one channel or a whole tensor). */
export function mseClip(values: ArrayLike<number>, g: QuantGrid, minAlpha = 0.05): { clip: number; alpha: number; evaluations: number } {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]));
  if (m === 0) return { clip: 0, alpha: 1, evaluations: 0 };
  const r = minimizeScalar((a) => clipError(values, a * m, g), minAlpha, 1, { scan: 16, tol: 1e-4, also: [1] });
  return { clip: r.x * m, alpha: r.x, evaluations: r.evaluations };
}
