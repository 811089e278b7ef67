/**
 * Whether a latency budget can be met at all on a LUT: the fastest subnet of the grid and its
 * predicted latency. `snc search` and `snc build` refuse a budget under it before searching.
 */
import { configKey, enumerateConfigs, untrainedKnobs } from '../detr/spec.js';
import type { Supernet } from '../detr/supernet.js';
import type { Lut } from '../latency/lut.js';
import { LatencyPredictor } from '../latency/predictor.js';

export interface Fastest {
  key: string;
  predictedMs: number;
}

/**
 * The subnet of the grid with the smallest predicted latency on the LUT, among those a search
 * considers (subnets with untrained knob values only when `includeUntrained`).
 */
export function fastestSubnet(net: Supernet, lut: Lut, includeUntrained = false): Fastest {
  const p = new LatencyPredictor(lut, net.spec.architecture);
  let best: Fastest = { key: '', predictedMs: Infinity };
  for (const c of enumerateConfigs(net.spec.knobs, net.spec.architecture)) {
    if (!includeUntrained && untrainedKnobs(net.spec, c).length) continue;
    const ms = p.predict(c);
    if (ms < best.predictedMs) best = { key: configKey(c), predictedMs: ms };
  }
  return best;
}

/** The smallest budget (ms, rounded up to 0.01) that the fastest subnet meets. */
export function smallestBudget(f: Fastest): number {
  return Math.ceil(f.predictedMs * 100) / 100;
}
