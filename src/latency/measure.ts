import { Rng } from '../detr/weights.js';
import type { TimedSession } from './runtime.js';
import { summarize, type Summary } from './stats.js';

export interface MeasureOptions {
  /** Untimed runs per subject before timing (at most; see warmupMs). */
  warmup: number;
  /**
   * A subject's warm-up stops early once it has taken this long (at least one run is always
   * made): a subnet that runs for seconds is warm after one run, and five would cost minutes.
   */
  warmupMs?: number;
  /** Timed runs per subject (the median of these is kept); at least this many. */
  runs: number;
  /**
   * Keep timing rounds until they have also taken this long (seconds). A shared machine's speed
   * changes within seconds: 30 runs of a 13 ms model take 0.4 s, a snapshot of one phase, while
   * their median over a few seconds is steady. Default 0 (runs alone).
   */
  minSeconds?: number;
  /** Re-measure a subject whose (q3 - q1) / median is above this. */
  maxSpread: number;
  /** At most this many re-measurements per subject. */
  retries: number;
  seed?: number;
  /** Called after every timed round with the number of runs done and to do. */
  onRound?: (done: number, total: number) => void;
  /** The clock runs are timed with, in ms (default performance.now); tests inject a fake one. */
  clock?: () => number;
}

export const DEFAULT_MEASURE: MeasureOptions = { warmup: 5, warmupMs: 1000, runs: 30, maxSpread: 0.1, retries: 2 };

export interface Measurement extends Summary {
  /** Re-measurements that were needed. */
  retries: number;
  /** The timings (ms) the summary was made from. */
  samples: number[];
}

async function rounds(sessions: TimedSession[], runs: number, minSeconds: number, rng: Rng, now: () => number, onRun: () => void): Promise<number[][]> {
  const samples = sessions.map(() => [] as number[]);
  const order = sessions.map((_, i) => i);
  const until = now() + minSeconds * 1000;
  for (let r = 0; r < runs || now() < until; r++) {
    // a fresh shuffled order every round, so drift and cache effects spread over all subjects
    rng.shuffle(order);
    for (const k of order) {
      const t0 = now();
      await sessions[k].run();
      samples[k].push(now() - t0);
    }
    onRun();
  }
  return samples;
}

/** Up to `runs` untimed runs of every session, in turn; a session stops once its runs took `capMs`. */
async function warmUp(sessions: TimedSession[], runs: number, capMs: number, now: () => number): Promise<void> {
  const spent = sessions.map(() => 0);
  for (let w = 0; w < runs; w++)
    for (let k = 0; k < sessions.length; k++) {
      if (w > 0 && spent[k] >= capMs) continue;
      const t0 = now();
      await sessions[k].run();
      spent[k] += now() - t0;
    }
}

/**
 * Times several sessions interleaved: warm-up, then `runs` rounds (and more while the rounds
 * have taken less than `minSeconds`) in which every session runs once, in shuffled order.
 * Sessions whose spread is too wide are measured again (interleaved among themselves); the
 * measurement with the smaller spread is kept.
 */
export async function measureInterleaved(sessions: TimedSession[], opts: MeasureOptions = DEFAULT_MEASURE): Promise<Measurement[]> {
  const rng = new Rng(opts.seed ?? 1);
  const now = opts.clock ?? (() => performance.now());
  await warmUp(sessions, opts.warmup, opts.warmupMs ?? Infinity, now);
  let done = 0;
  const total = opts.runs * sessions.length;
  const tick = () => {
    done += sessions.length;
    opts.onRound?.(Math.min(done, total), total);
  };
  const minSeconds = opts.minSeconds ?? 0;
  const first = await rounds(sessions, opts.runs, minSeconds, rng, now, tick);
  const result: Measurement[] = first.map((s) => ({ ...summarize(s), retries: 0, samples: s }));
  for (let attempt = 1; attempt <= opts.retries; attempt++) {
    const noisy = result.map((m, i) => (m.spread > opts.maxSpread ? i : -1)).filter((i) => i >= 0);
    if (!noisy.length) break;
    const again = await rounds(noisy.map((i) => sessions[i]), opts.runs, minSeconds, rng, now, () => {});
    noisy.forEach((i, k) => {
      const m = summarize(again[k]);
      if (m.spread < result[i].spread) result[i] = { ...m, retries: attempt, samples: again[k] };
      else result[i].retries = attempt;
    });
  }
  return result;
}
