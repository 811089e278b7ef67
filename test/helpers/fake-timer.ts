import type { SubnetConfig } from '../../src/detr/spec.js';
import type { Lut } from '../../src/latency/lut.js';
import type { Measurement } from '../../src/latency/measure.js';
import { LatencyPredictor } from '../../src/latency/predictor.js';
import type { SubnetTimer } from '../../src/latency/speed-check.js';
import { summarize } from '../../src/latency/stats.js';

/**
 * A machine of known speed for the speed check: every subnet runs `factor` times as long as `lut`
 * predicts (three runs around that median). Tests of the logic use it instead of the machine
 * they run on, whose speed changes with load.
 */
export function fakeTimer(lut: Lut, factor: number, seen: SubnetConfig[][] = []): SubnetTimer {
  return async (net, _device, configs, measure) => {
    seen.push(configs);
    measure.onRound?.(configs.length, configs.length);
    const p = new LatencyPredictor(lut, net.spec.architecture);
    return configs.map((c): Measurement => {
      const ms = p.predict(c) * factor;
      const samples = [ms * 0.99, ms, ms * 1.01];
      return { ...summarize(samples), retries: 0, samples };
    });
  };
}
