/**
 * Timing a model against reference subnets whose LUT latency is known, so that the machine's
 * speed *now* divides out (speed-check.ts, bench/budget-check.ts): in every repeat the model and
 * the references run interleaved, the speed factor k is the median of the references' measured /
 * predicted, and the model's latency at the LUT's speed is its measured median / k. A shared
 * machine's drift (this project's VM: a 13 ms subnet reads 12.7-20 ms in 3-s windows) moves the
 * model and its references together, so the ratio holds where the raw time does not.
 */
import { configKey, enumerateConfigs, type SubnetConfig } from '../detr/spec.js';
import type { Supernet } from '../detr/supernet.js';
import { exportSubnet } from '../detr/export-subnet.js';
import type { Device } from './device.js';
import type { Lut } from './lut.js';
import { DEFAULT_MEASURE, measureInterleaved, type Measurement, type MeasureOptions } from './measure.js';
import { subnetInputs } from './model-inputs.js';
import { LatencyPredictor } from './predictor.js';
import { openSession, type ModelInput, type TimedSession } from './runtime.js';
import { pickReferences, speedFactor } from './speed-check.js';

/** A model to time against the references. */
export interface RelativeSubject {
  bytes: Uint8Array;
  inputs: ModelInput[];
}

export interface RelativeReference {
  key: string;
  predictedMs: number;
}

export interface RelativeRepeat {
  /** Measured median of the subject (ms). */
  measuredMs: number;
  /** (q3 − q1) / median of the subject's runs. */
  spread: number;
  /** The references' measured medians (ms), in the order of `references`. */
  referencesMs: number[];
  /** Median of the references' measured / predicted. */
  factor: number;
  /** measuredMs / factor: the subject at the LUT's speed. */
  atLutSpeedMs: number;
  /** Rounds timed in this repeat. */
  rounds: number;
}

export interface RelativeOptions {
  /** Reference subnets (default 6). */
  references?: number;
  /** Take references among subnets predicted within a factor of 2 of this (ms), when there are enough. */
  aroundMs?: number;
  /** Configs never taken as references (the subject's own config). */
  exclude?: readonly string[];
}

/** The reference subnets for a subject: evenly spaced by predicted latency (pickReferences). */
export function chooseReferences(net: Supernet, lut: Lut, opts: RelativeOptions = {}): { configs: SubnetConfig[]; references: RelativeReference[] } {
  const predictor = new LatencyPredictor(lut, net.spec.architecture);
  const grid = enumerateConfigs(net.spec.knobs, net.spec.architecture);
  const predicted = grid.map((c) => predictor.predict(c));
  const excluded = new Set(opts.exclude ?? []);
  const idx = pickReferences(predicted, opts.references ?? 6, {
    aroundMs: opts.aroundMs,
    exclude: new Set(grid.map((c, i) => (excluded.has(configKey(c)) ? i : -1)).filter((i) => i >= 0)),
  });
  return { configs: idx.map((i) => grid[i]), references: idx.map((i) => ({ key: configKey(grid[i]), predictedMs: predicted[i] })) };
}

/** One repeat's figures from the measurements of the subject (first) and the references. */
export function repeatOf(ms: readonly Pick<Measurement, 'median' | 'spread' | 'n'>[], references: readonly RelativeReference[]): RelativeRepeat {
  const refMs = ms.slice(1).map((m) => m.median);
  const factor = speedFactor(references.map((r) => r.predictedMs), refMs);
  return { measuredMs: ms[0].median, spread: ms[0].spread, referencesMs: refMs, factor, atLutSpeedMs: ms[0].median / factor, rounds: ms[0].n };
}

/** Open sessions of a subject and its references on one device, timed repeat after repeat. */
export class RelativeTimer {
  private constructor(
    private readonly sessions: TimedSession[],
    readonly references: RelativeReference[],
    private warm = false,
  ) {}

  static async open(net: Supernet, device: Device, lut: Lut, subject: RelativeSubject, opts: RelativeOptions = {}): Promise<RelativeTimer> {
    const { configs, references } = chooseReferences(net, lut, opts);
    const sessions: TimedSession[] = [];
    try {
      sessions.push(await openSession(device, subject.bytes, subject.inputs));
      for (const c of configs) sessions.push(await openSession(device, exportSubnet(net, c), subnetInputs(c)));
    } catch (e) {
      await Promise.all(sessions.map((s) => s.release()));
      throw e;
    }
    return new RelativeTimer(sessions, references);
  }

  /** Times one repeat: at least `runs` interleaved rounds and at least `seconds`. */
  async repeat(seconds: number, runs: number, seed: number, onRound?: MeasureOptions['onRound']): Promise<RelativeRepeat> {
    const ms = await measureInterleaved(this.sessions, {
      ...DEFAULT_MEASURE,
      warmup: this.warm ? 1 : DEFAULT_MEASURE.warmup,
      runs,
      minSeconds: seconds,
      retries: 0,
      seed,
      onRound,
    });
    this.warm = true;
    return repeatOf(ms, this.references);
  }

  async release(): Promise<void> {
    await Promise.all(this.sessions.map((s) => s.release()));
  }
}
