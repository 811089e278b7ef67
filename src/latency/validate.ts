/**
 * Proof of a LUT: sample subnets, measure each end to end on the device (interleaved, in
 * groups that each also hold the same reference model, so drift and noise are visible), and
 * compare with the predictions.
 */
import { configKey, enumerateConfigs, type SubnetConfig } from '../detr/spec.js';
import type { Supernet } from '../detr/supernet.js';
import { Rng } from '../detr/weights.js';
import { buildSubnet } from '../detr/model.js';
import { deviceModelBytes } from './precision.js';
import type { Device } from './device.js';
import type { Lut } from './lut.js';
import { DEFAULT_MEASURE, measureInterleaved, type MeasureOptions } from './measure.js';
import { subnetInputs } from './model-inputs.js';
import { LatencyPredictor } from './predictor.js';
import { blockItems } from './profiler.js';
import { openSession } from './runtime.js';
import { rmspe, spearman, summarize, withinShare } from './stats.js';

export interface ValidationSample {
  config: string;
  predictedMs: number;
  measuredMs: number;
  spread: number;
  errorPct: number;
}

export interface ValidationReport {
  device: string;
  supernet: string;
  lutFamilyHash: string;
  samples: ValidationSample[];
  rmspe: number;
  within10: number;
  spearman: number;
  /** Set when the errors share one factor (see sharedFactor). */
  sharedFactor?: SharedFactor;
  /**
   * The same measurements at the LUT's speed, where the LUT has reference blocks (its drift
   * reference and its calibration's): those blocks are timed in every group as well, and each
   * group's samples are divided by the group's factor, the median over the references of their
   * median there over their LUT median. What the LUT predicts once `snc lut speed` has measured
   * the machine's speed of the moment: the drift between groups and the offset from the
   * profile's speed taken out, the noise within a group left in.
   */
  atLutSpeed?: { references: string[]; factor: number; groupFactors: number[]; rmspe: number; within10: number; spearman: number };
  /** The default subnet measured in every group of every pass: how much its medians scatter. */
  noiseFloor: { config: string; medians: number[]; rmspe: number; maxDeviation: number };
  measureSeconds: number;
}

/** When a LUT's errors are one factor: the machine runs uniformly faster or slower than the LUT's. */
export interface SharedFactor {
  /** Median of measured / predicted: this machine's time for a LUT millisecond. */
  factor: number;
  /** RMSPE and share within ±10% of the predictions times the factor. */
  rmspe: number;
  within10: number;
}

/**
 * The factor the errors share, when they share one: the predictions rank the subnets as measured
 * (Spearman >= 0.9) and are off by more than 10% at the median, but times the median ratio their
 * RMSPE is under 20% and under half of what it was. A busy machine's noise stays in that 20%. A LUT's shape carried over and its scale did not: another or a
 * busier host, which `snc lut speed` measures. Undefined otherwise.
 */
export function sharedFactor(predicted: readonly number[], measured: readonly number[], rank: number): SharedFactor | undefined {
  if (predicted.length < 3 || rank < 0.9) return undefined;
  const ratios = measured.map((m, i) => m / predicted[i]).sort((a, b) => a - b);
  const factor = ratios[Math.floor(ratios.length / 2)];
  if (!(Math.abs(factor - 1) > 0.1)) return undefined;
  const scaled = predicted.map((p) => p * factor);
  const after = rmspe(scaled, measured);
  if (!(after < 0.2 && after < rmspe(predicted, measured) / 2)) return undefined;
  return { factor, rmspe: after, within10: withinShare(scaled, measured, 0.1) };
}

/** One subject's samples from one group of the validation. */
export interface GroupSamples {
  group: number;
  samples: readonly number[];
}

/** Each subject's median once every group's samples are divided by that group's speed factor. */
export function groupedMedians(subjects: readonly (readonly GroupSamples[])[], factors: readonly number[]): number[] {
  return subjects.map((gs) => summarize(gs.flatMap((g) => g.samples.map((v) => v / factors[g.group]))).median);
}

/** The validation's figures once every group is brought to the LUT's speed. */
function atSpeed(predicted: number[], steady: number[], references: string[], groupFactors: number[]): NonNullable<ValidationReport['atLutSpeed']> {
  return { references, factor: summarize(groupFactors).median, groupFactors, rmspe: rmspe(predicted, steady), within10: withinShare(predicted, steady, 0.1), spearman: spearman(predicted, steady) };
}

export interface ValidateOptions {
  samples: number;
  seed?: number;
  measure?: Partial<MeasureOptions>;
  /** Sessions open at once (the reference model is added to each group). */
  group?: number;
  /**
   * Each subnet's runs are split over this many passes, each pass with the subnets shuffled
   * into new groups: a transient slowdown of the machine then hits a minority of any subnet's
   * runs, which the median discards, instead of all the runs of one group.
   */
  passes?: number;
  onProgress?: (done: number, total: number, etaSeconds: number) => void;
}

export function sampleConfigs(net: Supernet, n: number, seed: number): SubnetConfig[] {
  const all = enumerateConfigs(net.spec.knobs, net.spec.architecture);
  if (n >= all.length) return all;
  const rng = new Rng(seed);
  const idx = all.map((_, i) => i);
  rng.shuffle(idx);
  return idx.slice(0, n).map((i) => all[i]);
}

export async function validateLut(net: Supernet, device: Device, lut: Lut, opts: ValidateOptions): Promise<ValidationReport> {
  const predictor = new LatencyPredictor(lut, net.spec.architecture);
  const measure: MeasureOptions = { ...DEFAULT_MEASURE, ...opts.measure };
  const configs = sampleConfigs(net, opts.samples, opts.seed ?? 1);
  const reference = net.spec.default;
  const refBytes = deviceModelBytes(device, buildSubnet(net, reference));
  const group = Math.max(1, opts.group ?? 8);
  const passes = Math.max(1, Math.min(opts.passes ?? 3, measure.runs));
  const runsPerPass = Math.ceil(measure.runs / passes);
  // each config's samples per group, with the group's index (at the LUT's speed: divided by the group's factor)
  const grouped: GroupSamples[][] = configs.map(() => []);
  const refMedians: number[] = [];
  const refKeys = [...new Set([...(lut.drift ? [lut.drift.reference] : []), ...(lut.calibration?.references ?? [])])];
  const refBlocks = blockItems(net, device, refKeys);
  const groupFactors: number[] = [];
  const rng = new Rng((opts.seed ?? 1) * 7 + 3);
  const t0 = performance.now();
  const totalGroups = passes * Math.ceil(configs.length / group);
  let doneGroups = 0;
  for (let pass = 0; pass < passes; pass++) {
    const order = configs.map((_, i) => i);
    rng.shuffle(order);
    for (let g = 0; g < order.length; g += group) {
      const batch = order.slice(g, g + group);
      const sessions = [];
      for (const i of batch) sessions.push(await openSession(device, deviceModelBytes(device, buildSubnet(net, configs[i])), subnetInputs(configs[i])));
      sessions.push(await openSession(device, refBytes, subnetInputs(reference)));
      for (const b of refBlocks) sessions.push(await openSession(device, b.build(), b.inputs));
      // no re-measuring inside a pass: the passes are the re-measurement
      const ms = await measureInterleaved(sessions, { ...measure, runs: runsPerPass, retries: 0, seed: (opts.seed ?? 1) + 1000 * pass + g });
      await Promise.all(sessions.map((s) => s.release()));
      batch.forEach((i, k) => grouped[i].push({ group: refMedians.length, samples: ms[k].samples }));
      refMedians.push(ms[batch.length].median);
      if (refBlocks.length) groupFactors.push(summarize(refKeys.map((key, j) => ms[batch.length + 1 + j].median / lut.entries[key].median_ms)).median);
      doneGroups++;
      const elapsed = (performance.now() - t0) / 1000;
      const done = Math.round((doneGroups / totalGroups) * configs.length);
      opts.onProgress?.(done, configs.length, (elapsed / doneGroups) * (totalGroups - doneGroups));
    }
  }
  const measured = grouped.map((gs) => summarize(gs.flatMap((g) => g.samples)));
  const predicted = configs.map((c) => predictor.predict(c));
  const meas = measured.map((m) => m.median);
  const refCentre = [...refMedians].sort((a, b) => a - b)[Math.floor(refMedians.length / 2)];
  const shared = sharedFactor(predicted, meas, spearman(predicted, meas));
  return {
    device: device.name,
    supernet: net.spec.name,
    lutFamilyHash: lut.supernet.familyHash,
    samples: configs.map((c, i) => ({
      config: configKey(c),
      predictedMs: predicted[i],
      measuredMs: meas[i],
      spread: measured[i].spread,
      errorPct: ((predicted[i] - meas[i]) / meas[i]) * 100,
    })),
    rmspe: rmspe(predicted, meas),
    within10: withinShare(predicted, meas, 0.1),
    spearman: spearman(predicted, meas),
    ...(shared ? { sharedFactor: shared } : {}),
    ...(refBlocks.length ? { atLutSpeed: atSpeed(predicted, groupedMedians(grouped, groupFactors), refKeys, groupFactors) } : {}),
    noiseFloor: {
      config: configKey(reference),
      medians: refMedians,
      rmspe: rmspe(refMedians.map(() => refCentre), refMedians),
      maxDeviation: Math.max(...refMedians.map((m) => Math.abs(m - refCentre) / refCentre)),
    },
    measureSeconds: (performance.now() - t0) / 1000,
  };
}
