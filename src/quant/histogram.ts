/**
 * Streaming statistics of one tensor over many calibration images, in memory independent of
 * the image count: running min, max, count, and a histogram symmetric about zero whose range
 * doubles when a value falls outside it (pairs of bins merge, so re-binning is exact and the
 * bin count stays fixed).
 */
export class StreamingHistogram {
  min = Infinity;
  max = -Infinity;
  count = 0;
  /** The histogram covers [-range, range). 0 until the first non-zero value. */
  range = 0;
  readonly counts: Float64Array;

  constructor(readonly bins = 2048) {
    if (!Number.isInteger(bins) || bins < 8 || bins % 4 !== 0) throw new Error(`histogram bins ${bins} is not a multiple of 4 >= 8`);
    this.counts = new Float64Array(bins);
  }

  get binWidth(): number {
    return (2 * this.range) / this.bins;
  }

  /** Centre of bin i. */
  centre(i: number): number {
    return -this.range + (i + 0.5) * this.binWidth;
  }

  /** Doubles the range until it covers |x| < need: bins 2k and 2k + 1 merge into bin bins/4 + k. */
  private grow(need: number): void {
    if (this.range === 0) {
      this.range = need;
      return;
    }
    const n = this.bins;
    while (this.range <= need) {
      const merged = new Float64Array(n);
      for (let i = 0; i < n; i++) merged[n / 4 + (i >> 1)] += this.counts[i];
      this.counts.set(merged);
      this.range *= 2;
    }
  }

  add(data: ArrayLike<number>): void {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (!(lo <= hi)) return; // empty or NaN
    this.min = Math.min(this.min, lo);
    this.max = Math.max(this.max, hi);
    this.count += data.length;
    const need = Math.max(Math.abs(lo), Math.abs(hi));
    if (need >= this.range && need > 0) this.grow(this.range === 0 ? need * (1 + 1e-6) : need);
    if (this.range === 0) {
      this.counts[this.bins / 2] += data.length; // all zeros
      return;
    }
    const k = this.bins / (2 * this.range);
    const last = this.bins - 1;
    for (let i = 0; i < data.length; i++) {
      const b = Math.floor((data[i] + this.range) * k);
      this.counts[b < 0 ? 0 : b > last ? last : b]++;
    }
  }

  /** The value below which a share q (0..1) of the values lie, interpolated inside its bin. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const target = q * this.count;
    let acc = 0;
    for (let i = 0; i < this.bins; i++) {
      const c = this.counts[i];
      if (acc + c >= target && c > 0) {
        const x = -this.range + (i + (target - acc) / c) * this.binWidth;
        return Math.min(this.max, Math.max(this.min, x));
      }
      acc += c;
    }
    return this.max;
  }

  /** Counts of |x| over [0, range) in bins/2 bins (bin j of the fold covers [j w, (j+1) w)). */
  folded(): Float64Array {
    const h = this.bins / 2;
    const out = new Float64Array(h);
    for (let j = 0; j < h; j++) out[j] = this.counts[h + j] + this.counts[h - 1 - j];
    return out;
  }
}
