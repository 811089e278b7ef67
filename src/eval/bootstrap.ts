/**
 * The evaluation's own sampling error: a bootstrap over images of AP (and AP50), computed from
 * the per-image matching results a CocoEvaluator already holds, without running any model again.
 *
 * Each of B resamples draws n images with replacement from the n evaluated (a seeded PRNG, so a
 * given seed gives the same numbers; the same seed for every subnet gives paired resamples). An
 * image drawn c times counts c times: its detections' true and false positives and its ground
 * truths are weighted by c. That is COCOeval.accumulate on the set with the image duplicated c
 * times (area 'all', maxDets 100), up to the order among detections of equal score, which
 * changes neither cumulative end points nor the interpolated precision. Per resample, AP is the
 * mean over the IoU thresholds, recall thresholds and categories with ground truth in it, as
 * summarize does.
 *
 * Cost per resample: one pass over the kept detections per IoU threshold (the score order is
 * sorted once per category), plus 101 interpolation points per threshold and category.
 */
import { AREA_RANGES, IOU_THRESHOLDS, RECALL_THRESHOLDS, pairwiseSum, stableDescending, type CocoEvaluator } from './coco-eval.js';

export const DEFAULT_BOOTSTRAP_SAMPLES = 200;
export const DEFAULT_BOOTSTRAP_SEED = 1;

/** Spread of one metric over the resamples. */
export interface MetricSpread {
  /** Standard deviation over the resamples (n − 1 in the denominator). */
  std: number;
  /** The 5th and 95th percentiles (a 90% percentile interval). */
  lo90: number;
  hi90: number;
}

export interface BootstrapSpread {
  samples: number;
  seed: number;
  AP: MetricSpread;
  AP50: MetricSpread;
  /**
   * Each resample's AP and AP50 in draw order, over `images` images (sorted by id). Two subnets
   * bootstrapped with the same seed on the same images draw the same images in every resample:
   * the differences of their resamples give the sampling error of their difference
   * (differenceSpread). Kept in the evaluation cache; reports drop it (withoutResamples).
   */
  resamples?: { images: number; AP: number[]; AP50: number[] };
}

/** The spread of one subnet's metric minus another's, as sampled by the bootstrap. */
export interface DifferenceSpread extends MetricSpread {
  /** From paired resamples (the same images drawn for both); else from the two spreads as if independent (wider: errors on shared images correlate). */
  paired: boolean;
}

/** The 90% two-sided normal quantile, for the unpaired interval. */
const Z90 = 1.6448536269514722;

/**
 * The sampling error of `b[metric] - a[metric]`: over paired resamples when both carry theirs
 * (same seed, same resample count, same images), else sqrt(std_a^2 + std_b^2) with a normal
 * 90% interval around `value`, the measured difference. Null when either has no spread.
 */
export function differenceSpread(a: BootstrapSpread | null | undefined, b: BootstrapSpread | null | undefined, metric: 'AP' | 'AP50', value: number): DifferenceSpread | null {
  if (!a || !b) return null;
  const ra = a.resamples, rb = b.resamples;
  if (ra && rb && a.seed === b.seed && ra.images === rb.images && ra[metric].length === rb[metric].length && ra[metric].length > 1)
    return { ...spreadOf(rb[metric].map((v, i) => v - ra[metric][i])), paired: true };
  const std = Math.sqrt(a[metric].std ** 2 + b[metric].std ** 2);
  return { std, lo90: value - Z90 * std, hi90: value + Z90 * std, paired: false };
}

/** The spread without its resamples (for reports and printed JSON). */
export function withoutResamples<T extends BootstrapSpread | null | undefined>(s: T): T {
  if (!s || !s.resamples) return s;
  const { resamples: _, ...rest } = s;
  return rest as T;
}

export interface BootstrapOptions {
  samples?: number;
  seed?: number;
}

/** mulberry32: a small seeded 32-bit generator, uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Linear-interpolated quantile of sorted values (numpy's default). */
function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const i = Math.floor(pos);
  const f = pos - i;
  return i + 1 < sorted.length ? sorted[i] + f * (sorted[i + 1] - sorted[i]) : sorted[i];
}

export function spreadOf(values: readonly number[]): MetricSpread {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const v = n > 1 ? values.reduce((a, b) => a + (b - mean) * (b - mean), 0) / (n - 1) : 0;
  const s = [...values].sort((a, b) => a - b);
  return { std: Math.sqrt(v), lo90: quantile(s, 0.05), hi90: quantile(s, 0.95) };
}

const T = IOU_THRESHOLDS.length;
const R = RECALL_THRESHOLDS.length;
const AT = AREA_RANGES.length * T;
const EPS = 2.220446049250313e-16;

/** One category's detections over all images, in score order (area 'all'). */
interface CategoryTable {
  /** Image index (into the evaluator's sorted image ids) per detection, score order. */
  image: Int32Array;
  /** [N x T] flags at area 'all', score order. */
  flags: Uint8Array;
  /** Per image index: ground truths not ignored at area 'all'. */
  notIgnored: Int32Array;
}

function tables(ev: CocoEvaluator, imageIndex: Map<number, number>, images: number): CategoryTable[] {
  return ev.imageResults().map((list) => {
    const E = [...list].sort((a, b) => a.imageId - b.imageId);
    const N = E.reduce((s, e) => s + e.scores.length, 0);
    const scores = new Float64Array(N);
    const img = new Int32Array(N);
    const rawFlags = new Uint8Array(N * T);
    const notIgnored = new Int32Array(images);
    let off = 0;
    for (const e of E) {
      const ii = imageIndex.get(e.imageId)!;
      notIgnored[ii] = e.notIgnored[0];
      for (let d = 0; d < e.scores.length; d++) {
        scores[off + d] = e.scores[d];
        img[off + d] = ii;
        for (let t = 0; t < T; t++) rawFlags[(off + d) * T + t] = e.flags[d * AT + t]; // area 0 = 'all'
      }
      off += e.scores.length;
    }
    const order = stableDescending(scores);
    const image = new Int32Array(N);
    const flags = new Uint8Array(N * T);
    order.forEach((o, j) => {
      image[j] = img[o];
      for (let t = 0; t < T; t++) flags[j * T + t] = rawFlags[o * T + t];
    });
    return { image, flags, notIgnored };
  });
}

/**
 * AP and AP50 of one weighting of the images: per category, weighted COCOeval.accumulate at area
 * 'all' and maxDets 100; -1 entries (no ground truth) left out of the mean, as summarize does.
 */
function weightedAp(cats: readonly CategoryTable[], w: Int32Array, rc: Float64Array, pr: Float64Array, prec: Float64Array): { AP: number; AP50: number } {
  const all: number[] = [];
  const at50: number[] = [];
  for (const c of cats) {
    let npig = 0;
    for (let i = 0; i < w.length; i++) npig += w[i] * c.notIgnored[i];
    if (npig === 0) continue;
    const N = c.image.length;
    for (let t = 0; t < T; t++) {
      let tps = 0;
      let fps = 0;
      let n = 0;
      for (let j = 0; j < N; j++) {
        const wj = w[c.image[j]];
        if (wj === 0) continue;
        const f = c.flags[j * T + t];
        if (f & 2) continue;
        if (f & 1) tps += wj;
        else fps += wj;
        rc[n] = tps / npig;
        pr[n] = tps / (fps + tps + EPS);
        n++;
      }
      for (let j = n - 1; j > 0; j--) if (pr[j] > pr[j - 1]) pr[j - 1] = pr[j];
      let pi = 0;
      for (let r = 0; r < R; r++) {
        const thr = RECALL_THRESHOLDS[r];
        while (pi < n && rc[pi] < thr) pi++;
        prec[r] = pi < n ? pr[pi] : 0;
      }
      for (let r = 0; r < R; r++) all.push(prec[r]);
      if (t === 0) for (let r = 0; r < R; r++) at50.push(prec[r]);
    }
  }
  const mean = (v: number[]) => (v.length ? pairwiseSum(v) / v.length : -1);
  return { AP: mean(all), AP50: mean(at50) };
}

/**
 * Bootstrap over the evaluator's images of AP and AP50 (area all, maxDets 100). Call after every
 * image is added; the evaluator is only read.
 */
export function bootstrapAp(ev: CocoEvaluator, opts: BootstrapOptions = {}): BootstrapSpread {
  const samples = opts.samples ?? DEFAULT_BOOTSTRAP_SAMPLES;
  const seed = opts.seed ?? DEFAULT_BOOTSTRAP_SEED;
  if (!Number.isInteger(samples) || samples < 1) throw new Error(`bootstrap samples must be a positive integer, got ${samples}`);
  const ids = ev.imageIds();
  const n = ids.length;
  const imageIndex = new Map(ids.map((id, i) => [id, i]));
  const cats = tables(ev, imageIndex, n);
  const maxN = cats.reduce((m, c) => Math.max(m, c.image.length), 0);
  const rc = new Float64Array(maxN);
  const pr = new Float64Array(maxN);
  const prec = new Float64Array(R);
  const rand = seededRandom(seed);
  const w = new Int32Array(n);
  const ap: number[] = [];
  const ap50: number[] = [];
  for (let b = 0; b < samples; b++) {
    w.fill(0);
    for (let i = 0; i < n; i++) w[Math.floor(rand() * n)]++;
    const r = weightedAp(cats, w, rc, pr, prec);
    ap.push(r.AP);
    ap50.push(r.AP50);
  }
  const round = (v: number) => Math.round(v * 1e6) / 1e6;
  return { samples, seed, AP: spreadOf(ap), AP50: spreadOf(ap50), resamples: { images: n, AP: ap.map(round), AP50: ap50.map(round) } };
}

/** AP and AP50 with every image weighted once: equal to summarize()'s AP and AP50 (a check of this module). */
export function unweightedAp(ev: CocoEvaluator): { AP: number; AP50: number } {
  const ids = ev.imageIds();
  const cats = tables(ev, new Map(ids.map((id, i) => [id, i])), ids.length);
  const maxN = cats.reduce((m, c) => Math.max(m, c.image.length), 0);
  return weightedAp(cats, new Int32Array(ids.length).fill(1), new Float64Array(maxN), new Float64Array(maxN), new Float64Array(R));
}
