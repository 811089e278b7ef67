/**
 * The gate's decision from repeated measurements: a distribution-free confidence interval of the
 * median (order statistics), compared with a limit. A verdict is 'fail' only when the whole
 * interval lies past the limit, 'pass' when it lies within, and 'inconclusive' when it straddles
 * the limit (the machine was too noisy, or the model sits on the limit).
 *
 * The repeats of a shared machine are not normal: a slow phase of a few seconds moves one repeat
 * far while the others agree. The interval [x(k), x(n+1-k)] of the sorted repeats covers the
 * median with probability 1 − 2·P(Binomial(n, ½) < k) whatever the distribution, so one wild
 * repeat widens it (towards inconclusive) instead of failing the build.
 */

export type Verdict = 'pass' | 'fail' | 'inconclusive';

export interface Interval {
  median: number;
  lo: number;
  hi: number;
  /** The interval's coverage of the median (>= the confidence asked for, or the best n allows). */
  coverage: number;
  n: number;
}

/** P(Binomial(n, ½) <= k). */
function binomialCdfHalf(n: number, k: number): number {
  let term = 2 ** -n; // C(n, 0) / 2^n
  let s = 0;
  for (let i = 0; i <= k; i++) {
    s += term;
    term = (term * (n - i)) / (i + 1);
  }
  return s;
}

/**
 * The narrowest order-statistic interval [x(k), x(n+1-k)] covering the median with at least
 * `confidence`. With too few values for any such interval it is unbounded (−∞, ∞).
 */
export function medianInterval(values: readonly number[], confidence: number): Interval {
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  const median = n ? (n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2) : NaN;
  let best = 0;
  for (let k = 1; k <= Math.floor(n / 2); k++) {
    const coverage = 1 - 2 * binomialCdfHalf(n, k - 1);
    if (coverage >= confidence) best = k;
    else break;
  }
  if (!best) return { median, lo: -Infinity, hi: Infinity, coverage: 1, n };
  return { median, lo: s[best - 1], hi: s[n - best], coverage: 1 - 2 * binomialCdfHalf(n, best - 1), n };
}

/** Repeats needed before any interval of this confidence exists. */
export function minimumRepeats(confidence: number): number {
  for (let n = 1; ; n++) if (1 - 2 * binomialCdfHalf(n, 0) >= confidence) return n;
}

/** pass: the interval lies at or under the limit; fail: wholly above it; else inconclusive. */
export function verdictOf(iv: Pick<Interval, 'lo' | 'hi'>, limit: number): Verdict {
  if (iv.hi <= limit) return 'pass';
  if (iv.lo > limit) return 'fail';
  return 'inconclusive';
}

/** fail beats inconclusive beats pass. */
export function worst(verdicts: readonly Verdict[]): Verdict {
  if (verdicts.includes('fail')) return 'fail';
  if (verdicts.includes('inconclusive')) return 'inconclusive';
  return 'pass';
}

export interface SequentialOptions {
  /** Repeats before the first decision. */
  repeats: number;
  /** Repeats at most while the decision is inconclusive. */
  maxRepeats: number;
}

/**
 * Repeats `measure` until `decide` (given every value so far) is conclusive, from `repeats` up to
 * `maxRepeats`. Returns the values and the last decision.
 */
export async function repeatUntilDecided<T>(
  measure: (i: number) => Promise<number>,
  decide: (values: number[]) => { verdict: Verdict } & T,
  opts: SequentialOptions,
): Promise<{ values: number[]; decision: { verdict: Verdict } & T }> {
  const values: number[] = [];
  for (let i = 0; i < opts.repeats; i++) values.push(await measure(i));
  let decision = decide(values);
  while (decision.verdict === 'inconclusive' && values.length < opts.maxRepeats) {
    values.push(await measure(values.length));
    decision = decide(values);
  }
  return { values, decision };
}
