/**
 * Entropy calibration as TensorRT introduced it (and onnxruntime's calibrator follows): on the
 * histogram of |x|, every threshold from `levels` bins up is tried; the reference distribution P
 * is the histogram clipped at the threshold (the clipped mass added to its last bin), the
 * candidate Q is the unclipped part merged into `levels` bins and spread back evenly over the
 * bins that were non-zero; the threshold with the least KL(P || Q) wins. Symmetric: the range is
 * [-T, T], cut to the observed [min, max].
 */
import type { StreamingHistogram } from '../histogram.js';
import type { Range } from './types.js';

/** KL(P || Q) of two non-negative vectors, each normalised; a P bin with Q = 0 costs a large constant. */
function kl(p: Float64Array, q: Float64Array, n: number): number {
  let sp = 0;
  let sq = 0;
  for (let i = 0; i < n; i++) {
    sp += p[i];
    sq += q[i];
  }
  if (sp === 0 || sq === 0) return Infinity;
  let d = 0;
  for (let i = 0; i < n; i++) {
    if (p[i] === 0) continue;
    const pi = p[i] / sp;
    const qi = q[i] / sq;
    d += qi > 0 ? pi * Math.log(pi / qi) : pi * 20; // log(1 / 2e-9): a hole where P has mass
  }
  return d;
}

/** The threshold bin count (of the folded |x| histogram) with the least divergence. */
export function entropyThresholdBins(fold: Float64Array, levels = 128): number {
  const H = fold.length;
  if (H <= levels) return H;
  const p = new Float64Array(H);
  const q = new Float64Array(H);
  let total = 0;
  for (let i = 0; i < H; i++) total += fold[i];
  let bestI = H;
  let best = Infinity;
  for (let i = levels; i <= H; i++) {
    let outliers = 0;
    for (let j = i; j < H; j++) outliers += fold[j];
    for (let j = 0; j < i; j++) p[j] = fold[j];
    p[i - 1] += outliers;
    // merge fold[0..i) into `levels` groups, spread each group's mass over its non-zero bins
    const per = i / levels;
    for (let k = 0; k < levels; k++) {
      const start = Math.floor(k * per);
      const end = k === levels - 1 ? i : Math.floor((k + 1) * per);
      let mass = 0;
      let nz = 0;
      for (let j = start; j < end; j++) {
        mass += fold[j];
        if (fold[j] !== 0) nz++;
      }
      for (let j = start; j < end; j++) q[j] = fold[j] !== 0 ? mass / nz : 0;
    }
    const d = kl(p, q, i);
    if (d < best) {
      best = d;
      bestI = i;
    }
    if (total === 0) break;
  }
  return bestI;
}

export function entropyRange(h: StreamingHistogram, levels = 128): Range {
  if (!h.count) return { lo: 0, hi: 0 };
  if (h.range === 0) return { lo: h.min, hi: h.max };
  const i = entropyThresholdBins(h.folded(), levels);
  const t = i * h.binWidth;
  return { lo: Math.max(h.min, -t), hi: Math.min(h.max, t) };
}
