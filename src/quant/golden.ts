/**
 * One-dimensional minimisation of an error that is locally convex in its argument (the
 * clipping scale of a quantizer, a power exponent): a coarse scan brackets the best region,
 * golden-section search refines inside the bracket. The scan guards against the small local
 * minima a discrete quantizer's error has far from the optimum.
 */
export interface Minimum {
  x: number;
  fx: number;
  evaluations: number;
}

const INV_PHI = (Math.sqrt(5) - 1) / 2;

/** Golden-section search for a minimum of f on [a, b], to an interval of width tol. */
export function goldenSection(f: (x: number) => number, a: number, b: number, tol = 1e-4, maxIter = 100): Minimum {
  let evaluations = 0;
  const ev = (x: number) => {
    evaluations++;
    return f(x);
  };
  let c = b - INV_PHI * (b - a);
  let d = a + INV_PHI * (b - a);
  let fc = ev(c);
  let fd = ev(d);
  for (let i = 0; i < maxIter && b - a > tol; i++) {
    if (fc <= fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - INV_PHI * (b - a);
      fc = ev(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + INV_PHI * (b - a);
      fd = ev(d);
    }
  }
  return fc <= fd ? { x: c, fx: fc, evaluations } : { x: d, fx: fd, evaluations };
}

export interface ScanOptions {
  /** Points of the coarse scan over [lo, hi], ends included (default 12). */
  scan?: number;
  tol?: number;
  /** Points that are always evaluated (e.g. the unclipped range), kept when best. */
  also?: number[];
}

/** Coarse scan of [lo, hi], then golden section between the best point's neighbours. */
export function minimizeScalar(f: (x: number) => number, lo: number, hi: number, opts: ScanOptions = {}): Minimum {
  const n = Math.max(3, opts.scan ?? 12);
  const xs = Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
  const fs = xs.map(f);
  let k = 0;
  for (let i = 1; i < n; i++) if (fs[i] < fs[k]) k = i;
  const g = goldenSection(f, xs[Math.max(0, k - 1)], xs[Math.min(n - 1, k + 1)], opts.tol ?? (hi - lo) * 1e-4);
  let best: Minimum = fs[k] < g.fx ? { x: xs[k], fx: fs[k], evaluations: 0 } : g;
  let evaluations = n + g.evaluations;
  for (const x of opts.also ?? []) {
    const fx = f(x);
    evaluations++;
    if (fx <= best.fx) best = { x, fx, evaluations: 0 };
  }
  return { x: best.x, fx: best.fx, evaluations };
}
