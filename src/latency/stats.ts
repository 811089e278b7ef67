/** Order statistics with linear interpolation (numpy's default "linear" method). */
export function quantile(sorted: readonly number[], q: number): number {
  if (!sorted.length) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export interface Summary {
  median: number;
  q1: number;
  q3: number;
  /** (q3 - q1) / median: the spread torch.utils.benchmark warns about above 0.1. */
  spread: number;
  n: number;
}

export function summarize(samples: readonly number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  const median = quantile(s, 0.5);
  const q1 = quantile(s, 0.25);
  const q3 = quantile(s, 0.75);
  return { median, q1, q3, spread: median > 0 ? (q3 - q1) / median : 0, n: s.length };
}

function ranks(xs: readonly number[]): number[] {
  const idx = xs.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const r = new Array<number>(xs.length);
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && idx[j + 1][0] === idx[i][0]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) r[idx[k][1]] = avg;
    i = j + 1;
  }
  return r;
}

export function pearson(a: readonly number[], b: readonly number[]): number {
  const n = a.length;
  const ma = a.reduce((s, v) => s + v, 0) / n;
  const mb = b.reduce((s, v) => s + v, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** Spearman rank correlation (average ranks for ties). */
export function spearman(a: readonly number[], b: readonly number[]): number {
  return pearson(ranks(a), ranks(b));
}

/** Root-mean-square percentage error of predictions against measurements. */
export function rmspe(predicted: readonly number[], measured: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < measured.length; i++) s += ((predicted[i] - measured[i]) / measured[i]) ** 2;
  return Math.sqrt(s / measured.length);
}

/** Share of predictions within ±tol (relative) of the measurement. */
export function withinShare(predicted: readonly number[], measured: readonly number[], tol: number): number {
  let k = 0;
  for (let i = 0; i < measured.length; i++) if (Math.abs(predicted[i] - measured[i]) <= tol * measured[i]) k++;
  return k / measured.length;
}

/** Least-squares fit y = a x + b. */
export function linearFit(x: readonly number[], y: readonly number[]): { a: number; b: number } {
  const n = x.length;
  const mx = x.reduce((s, v) => s + v, 0) / n;
  const my = y.reduce((s, v) => s + v, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
  }
  const a = sxx > 0 ? sxy / sxx : 1;
  return { a, b: my - a * mx };
}

/** Fit y = a x + b minimising relative error: weighted least squares with weights 1/y². */
export function linearFitRelative(x: readonly number[], y: readonly number[]): { a: number; b: number } {
  let sw = 0;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < x.length; i++) {
    const w = 1 / (y[i] * y[i]);
    sw += w;
    sx += w * x[i];
    sy += w * y[i];
    sxx += w * x[i] * x[i];
    sxy += w * x[i] * y[i];
  }
  const det = sw * sxx - sx * sx;
  if (Math.abs(det) < 1e-30) return { a: sy / sx, b: 0 };
  return { a: (sw * sxy - sx * sy) / det, b: (sxx * sy - sx * sxy) / det };
}
