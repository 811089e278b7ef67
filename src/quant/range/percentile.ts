import type { StreamingHistogram } from '../histogram.js';
import type { Range } from './types.js';

/**
 * The central `percentile` % of the values: lo at (100 - p) %, hi at p % of the calibration
 * histogram (onnxruntime's percentile calibrator takes p of |x|; two-sided keeps asymmetric
 * activations such as GELU outputs tight on their short side).
 */
export function percentileRange(h: StreamingHistogram, percentile = 99.99): Range {
  if (!(percentile > 50 && percentile <= 100)) throw new Error(`percentile ${percentile} is not in (50, 100]`);
  if (!h.count) return { lo: 0, hi: 0 };
  return { lo: h.quantile(1 - percentile / 100), hi: h.quantile(percentile / 100) };
}
