import type { Lut } from '../../src/latency/lut.js';

/** The LUT with every prediction `s` times as long: block medians and the calibration's offset scaled. */
export function scaledLut(lut: Lut, s: number): Lut {
  const entries = Object.fromEntries(Object.entries(lut.entries).map(([k, e]) => [k, { ...e, median_ms: e.median_ms * s }]));
  return { ...lut, entries, calibration: lut.calibration && { ...lut.calibration, b: lut.calibration.b * s } };
}
