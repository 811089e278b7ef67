/**
 * How fast this machine runs a LUT's subnets *now*, against the LUT's predictions.
 *
 * A LUT is profiled once per device, but a shared machine's speed drifts: this project's 2-core
 * VM runs for seconds or minutes at a time 10-60% slower than when its LUTs were profiled,
 * nearly uniformly over subnets (Spearman 0.99 against the predictions while every subnet is
 * 10-27% slower). A speed check times a few reference subnets of the supernet end to end,
 * interleaved, and takes the median of measured / predicted as the machine's speed factor:
 * predictions times the factor are predictions for this machine as it runs now. A search uses it to choose under a budget
 * (`snc search --speed-check`); it is also how a LUT carries over to another host of the same
 * kind without profiling it again.
 */
import { configKey, enumerateConfigs, type SubnetConfig } from '../detr/spec.js';
import type { Supernet } from '../detr/supernet.js';
import { SncError } from '../errors.js';
import { buildSubnet } from '../detr/model.js';
import { deviceModelBytes } from './precision.js';
import type { Device } from './device.js';
import type { Lut } from './lut.js';
import { DEFAULT_MEASURE, measureInterleaved, type MeasureOptions, type Measurement } from './measure.js';
import { subnetInputs } from './model-inputs.js';
import { LatencyPredictor } from './predictor.js';
import { openSession, type TimedSession } from './runtime.js';
import { quantile } from './stats.js';

export const DEFAULT_REFERENCES = 6;
/** Timing of the references goes on until it has taken this long (MeasureOptions.minSeconds). */
export const SPEED_CHECK_MIN_SECONDS = 3;

export interface SpeedCheckOptions {
  /** Reference subnets to time (default 6). */
  references?: number;
  /**
   * Take the references among the subnets predicted within a factor of 2 of this latency (ms),
   * when there are enough of them: drift is not quite uniform over sizes, and the factor matters
   * where a budget falls.
   */
  aroundMs?: number;
  /** Configs (configKey) never taken as references, e.g. the subnet being checked itself. */
  exclude?: readonly string[];
  measure?: Partial<MeasureOptions>;
  /** Called after every timed round. */
  onProgress?: (done: number, total: number) => void;
  /**
   * Times the reference subnets (default timeSubnets: export, open sessions on the device, time
   * them interleaved). Tests inject a machine of known speed here.
   */
  time?: SubnetTimer;
}

/** Times subnets on a device: one Measurement per config, in order. */
export type SubnetTimer = (net: Supernet, device: Device, configs: SubnetConfig[], measure: MeasureOptions) => Promise<Measurement[]>;

/** Exports each config, opens a session of it on `device` and times them interleaved. */
export const timeSubnets: SubnetTimer = async (net, device, configs, measure) => {
  const sessions: TimedSession[] = [];
  try {
    for (const c of configs) sessions.push(await openSession(device, deviceModelBytes(device, buildSubnet(net, c)), subnetInputs(c)));
    return await measureInterleaved(sessions, measure);
  } finally {
    await Promise.all(sessions.map((s) => s.release()));
  }
};

export interface SpeedReference {
  key: string;
  predictedMs: number;
  measuredMs: number;
  /** (q3 − q1) / median of its runs. */
  spread: number;
  /** measuredMs / predictedMs. */
  ratio: number;
}

export interface SpeedCheck {
  device: string;
  /** Median of the references' measured / predicted: this machine's time for a LUT millisecond, now. */
  factor: number;
  /** Smallest and largest reference ratio: how uniform the drift is over the references. */
  ratioRange: [number, number];
  references: SpeedReference[];
  /** When the check was made (ISO 8601). */
  at: string;
  seconds: number;
}

/**
 * Indices of `n` reference subnets from their predicted latencies: evenly spaced quantiles of
 * the candidates by predicted latency (ties by index), the candidates being those within a
 * factor of 2 of `aroundMs` when at least `n` are, else all. Excluded indices are never taken.
 */
export function pickReferences(predictedMs: readonly number[], n: number, opts: { aroundMs?: number; exclude?: ReadonlySet<number> } = {}): number[] {
  if (!(Number.isInteger(n) && n >= 1)) throw new SncError(`speed check: references ${n} is not an integer >= 1`);
  const all = predictedMs.map((_, i) => i).filter((i) => !opts.exclude?.has(i));
  const near = opts.aroundMs === undefined ? all : all.filter((i) => predictedMs[i] >= opts.aroundMs! / 2 && predictedMs[i] <= opts.aroundMs! * 2);
  const pool = (near.length >= n ? near : all).sort((a, b) => predictedMs[a] - predictedMs[b] || a - b);
  if (pool.length <= n) return pool;
  if (n === 1) return [pool[Math.floor((pool.length - 1) / 2)]];
  return Array.from({ length: n }, (_, i) => pool[Math.round((i * (pool.length - 1)) / (n - 1))]);
}

/** The median of measured / predicted over the references (the speed factor). */
export function speedFactor(predictedMs: readonly number[], measuredMs: readonly number[]): number {
  return quantile(measuredMs.map((m, i) => m / predictedMs[i]).sort((a, b) => a - b), 0.5);
}

/** Times reference subnets on `device` (which must run on this machine) against `lut`'s predictions. */
export async function checkSpeed(net: Supernet, device: Device, lut: Lut, opts: SpeedCheckOptions = {}): Promise<SpeedCheck> {
  const t0 = performance.now();
  const predictor = new LatencyPredictor(lut, net.spec.architecture);
  const configs = enumerateConfigs(net.spec.knobs, net.spec.architecture);
  const predicted = configs.map((c) => predictor.predict(c));
  const excluded = new Set(opts.exclude ?? []);
  const refs = pickReferences(predicted, opts.references ?? DEFAULT_REFERENCES, {
    aroundMs: opts.aroundMs,
    exclude: new Set(configs.map((c, i) => (excluded.has(configKey(c)) ? i : -1)).filter((i) => i >= 0)),
  });
  const time = opts.time ?? timeSubnets;
  const ms = await time(net, device, refs.map((i) => configs[i]), { ...DEFAULT_MEASURE, minSeconds: SPEED_CHECK_MIN_SECONDS, ...opts.measure, onRound: opts.onProgress });
  const references = refs.map((i, k) => ({
    key: configKey(configs[i]),
    predictedMs: predicted[i],
    measuredMs: ms[k].median,
    spread: ms[k].spread,
    ratio: ms[k].median / predicted[i],
  }));
  const ratios = references.map((r) => r.ratio);
  return {
    device: device.name,
    factor: speedFactor(references.map((r) => r.predictedMs), references.map((r) => r.measuredMs)),
    ratioRange: [Math.min(...ratios), Math.max(...ratios)],
    references,
    at: new Date().toISOString(),
    seconds: (performance.now() - t0) / 1000,
  };
}
