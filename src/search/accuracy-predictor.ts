/**
 * Predicts a subnet's accuracy on the whole validation set from its accuracy on a small subset
 * of it, with an error bound, from the subnets measured on both so far.
 *
 * The model is an offset: full ≈ subset + mean(full − subset). Every subnet is scored on the same
 * subset images, so what makes the subset easier or harder than the set shifts all of them alike;
 * an offset has no slope to extrapolate wrongly from a few subnets bunched near the front. The
 * bound is the larger of a floor (the caller's margin) and `safety` times the largest
 * leave-one-out error: each measured subnet predicted from the others alone, as an unmeasured one
 * is.
 */

export interface AccuracyPair {
  subset: number;
  full: number;
}

export interface AccuracyPredictor {
  /** mean(full − subset) over the pairs; 0 without pairs. */
  offset: number;
  /** Pairs the fit used. */
  pairs: number;
  /** Largest |leave-one-out error|; undefined with fewer than 2 pairs. */
  maxLooError?: number;
  /** The error bound used: max(floor, safety · maxLooError); Infinity with fewer than `minPairs` pairs. */
  margin: number;
  predict(subset: number): number;
}

export interface PredictorOptions {
  /** Smallest bound, in accuracy units (default 0.01). */
  floor?: number;
  /** Factor on the largest leave-one-out error (default 1.5). */
  safety?: number;
  /** Below this many pairs the bound is infinite: nothing can be ruled out yet (default 4). */
  minPairs?: number;
}

export function fitAccuracyPredictor(pairs: readonly AccuracyPair[], opts: PredictorOptions = {}): AccuracyPredictor {
  const floor = opts.floor ?? 0.01;
  const safety = opts.safety ?? 1.5;
  const minPairs = opts.minPairs ?? 4;
  const usable = pairs.filter((p) => Number.isFinite(p.subset) && Number.isFinite(p.full) && p.subset >= 0 && p.full >= 0);
  const n = usable.length;
  const d = usable.map((p) => p.full - p.subset);
  const sum = d.reduce((s, v) => s + v, 0);
  const offset = n ? sum / n : 0;
  let maxLooError: number | undefined;
  if (n >= 2) {
    maxLooError = 0;
    // leave-one-out error of the offset model: d_i − mean of the others = n/(n−1) · (d_i − mean)
    for (const v of d) maxLooError = Math.max(maxLooError, (Math.abs(v - offset) * n) / (n - 1));
  }
  const margin = n < minPairs ? Infinity : Math.max(floor, safety * (maxLooError ?? 0));
  return { offset, pairs: n, maxLooError, margin, predict: (s: number) => s + offset };
}
