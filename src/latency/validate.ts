/**
 * Proof of a LUT: sample subnets, measure each end to end on the device (interleaved, in
 * groups that each also hold the same reference model, so drift and noise are visible), and
 * compare with the predictions.
 */
import { buildSubnet } from '../detr/model.js';
import { configKey, enumerateConfigs, type SubnetConfig } from '../detr/spec.js';
import type { Supernet } from '../detr/supernet.js';
import { Rng } from '../detr/weights.js';
import { encodeModel } from '../export/onnx-writer.js';
import type { Device } from './device.js';
import type { Lut } from './lut.js';
import { DEFAULT_MEASURE, measureInterleaved, type MeasureOptions } from './measure.js';
import { LatencyPredictor } from './predictor.js';
import { openSession } from './runtime.js';
import { rmspe, spearman, withinShare } from './stats.js';

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
  /** The same model measured once per group: how much its medians scatter. */
  noiseFloor: { config: string; medians: number[]; rmspe: number; maxDeviation: number };
  measureSeconds: number;
}

export interface ValidateOptions {
  samples: number;
  seed?: number;
  measure?: Partial<MeasureOptions>;
  /** Sessions open at once (the reference model is added to each group). */
  group?: number;
  onProgress?: (done: number, total: number, etaSeconds: number) => void;
}

export function sampleConfigs(net: Supernet, n: number, seed: number): SubnetConfig[] {
  const all = enumerateConfigs(net.spec.knobs);
  if (n >= all.length) return all;
  const rng = new Rng(seed);
  const idx = all.map((_, i) => i);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx.slice(0, n).map((i) => all[i]);
}

export async function validateLut(net: Supernet, device: Device, lut: Lut, opts: ValidateOptions): Promise<ValidationReport> {
  const predictor = new LatencyPredictor(lut, net.spec.architecture);
  const measure: MeasureOptions = { ...DEFAULT_MEASURE, ...opts.measure };
  const configs = sampleConfigs(net, opts.samples, opts.seed ?? 1);
  const reference = net.spec.default;
  const refBytes = encodeModel(buildSubnet(net, reference));
  const group = Math.max(1, opts.group ?? 8);
  const measured: { median: number; spread: number }[] = [];
  const refMedians: number[] = [];
  const t0 = performance.now();
  for (let g = 0; g < configs.length; g += group) {
    const batch = configs.slice(g, g + group);
    const sessions = [];
    const image = (c: SubnetConfig) => [{ name: 'image', dims: [1, 3, c.resolution, c.resolution], dtype: 'float32' as const }];
    for (const c of batch) sessions.push(await openSession(device, encodeModel(buildSubnet(net, c)), image(c)));
    sessions.push(await openSession(device, refBytes, image(reference)));
    const ms = await measureInterleaved(sessions, { ...measure, seed: (opts.seed ?? 1) + g });
    await Promise.all(sessions.map((s) => s.release()));
    ms.slice(0, batch.length).forEach((m) => measured.push({ median: m.median, spread: m.spread }));
    refMedians.push(ms[batch.length].median);
    const done = Math.min(g + group, configs.length);
    const elapsed = (performance.now() - t0) / 1000;
    opts.onProgress?.(done, configs.length, (elapsed / done) * (configs.length - done));
  }
  const predicted = configs.map((c) => predictor.predict(c));
  const meas = measured.map((m) => m.median);
  const refCentre = [...refMedians].sort((a, b) => a - b)[Math.floor(refMedians.length / 2)];
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
    noiseFloor: {
      config: configKey(reference),
      medians: refMedians,
      rmspe: rmspe(refMedians.map(() => refCentre), refMedians),
      maxDeviation: Math.max(...refMedians.map((m) => Math.abs(m - refCentre) / refCentre)),
    },
    measureSeconds: (performance.now() - t0) / 1000,
  };
}
