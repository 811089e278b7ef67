import { SncError } from '../errors.js';
import { blockCounts } from '../detr/keys.js';
import type { Architecture, SubnetConfig } from '../detr/spec.js';
import type { Lut } from './lut.js';

/**
 * Predicts a subnet's latency from a LUT: the sum of its blocks' medians (each counted as
 * often as the subnet runs it, plus the per-run overhead), then the calibration a·sum + b.
 */
export class LatencyPredictor {
  private readonly medians = new Map<string, number>();
  readonly a: number;
  readonly b: number;

  constructor(readonly lut: Lut, private readonly arch: Architecture) {
    for (const [k, e] of Object.entries(lut.entries)) this.medians.set(k, e.median_ms);
    this.a = lut.calibration?.a ?? 1;
    this.b = lut.calibration?.b ?? 0;
  }

  /** Sum of block medians in ms (uncalibrated). */
  blockSum(c: SubnetConfig): number {
    let s = 0;
    for (const [k, n] of blockCounts(this.arch, c)) {
      const m = this.medians.get(k);
      if (m === undefined) throw new SncError(`lut: no entry for block '${k}' (config res=${c.resolution},patch=${c.patch},windows=${c.windows},layers=${c.layers},queries=${c.queries}); re-run snc profile for this supernet`);
      s += n * m;
    }
    return s;
  }

  /** Predicted end-to-end latency in ms. */
  predict(c: SubnetConfig): number {
    return this.a * this.blockSum(c) + this.b;
  }
}
