import { Rng } from '../detr/weights.js';
import type { TimedSession } from './runtime.js';
import { summarize, type Summary } from './stats.js';

export interface MeasureOptions {
  /** Untimed runs per subject before timing. */
  warmup: number;
  /** Timed runs per subject (the median of these is kept). */
  runs: number;
  /** Re-measure a subject whose (q3 - q1) / median is above this. */
  maxSpread: number;
  /** At most this many re-measurements per subject. */
  retries: number;
  seed?: number;
  /** Called after every timed round with the number of runs done and to do. */
  onRound?: (done: number, total: number) => void;
}

export const DEFAULT_MEASURE: MeasureOptions = { warmup: 5, runs: 30, maxSpread: 0.1, retries: 2 };

export interface Measurement extends Summary {
  /** Re-measurements that were needed. */
  retries: number;
  /** The timings (ms) the summary was made from. */
  samples: number[];
}

async function rounds(sessions: TimedSession[], runs: number, rng: Rng, onRun: () => void): Promise<number[][]> {
  const samples = sessions.map(() => [] as number[]);
  const order = sessions.map((_, i) => i);
  for (let r = 0; r < runs; r++) {
    // a fresh shuffled order every round, so drift and cache effects spread over all subjects
    rng.shuffle(order);
    for (const k of order) {
      const t0 = performance.now();
      await sessions[k].run();
      samples[k].push(performance.now() - t0);
    }
    onRun();
  }
  return samples;
}

/**
 * Times several sessions interleaved: warm-up, then `runs` rounds in which every session runs
 * once, in shuffled order. Sessions whose spread is too wide are measured again (interleaved
 * among themselves); the measurement with the smaller spread is kept.
 */
export async function measureInterleaved(sessions: TimedSession[], opts: MeasureOptions = DEFAULT_MEASURE): Promise<Measurement[]> {
  const rng = new Rng(opts.seed ?? 1);
  for (let w = 0; w < opts.warmup; w++) for (const s of sessions) await s.run();
  let done = 0;
  const total = opts.runs * sessions.length;
  const tick = () => {
    done += sessions.length;
    opts.onRound?.(Math.min(done, total), total);
  };
  const first = await rounds(sessions, opts.runs, rng, tick);
  const result: Measurement[] = first.map((s) => ({ ...summarize(s), retries: 0, samples: s }));
  for (let attempt = 1; attempt <= opts.retries; attempt++) {
    const noisy = result.map((m, i) => (m.spread > opts.maxSpread ? i : -1)).filter((i) => i >= 0);
    if (!noisy.length) break;
    const again = await rounds(noisy.map((i) => sessions[i]), opts.runs, rng, () => {});
    noisy.forEach((i, k) => {
      const m = summarize(again[k]);
      if (m.spread < result[i].spread) result[i] = { ...m, retries: attempt, samples: again[k] };
      else result[i].retries = attempt;
    });
  }
  return result;
}
