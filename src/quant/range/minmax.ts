import type { StreamingHistogram } from '../histogram.js';
import type { Range } from './types.js';

/** The observed minimum and maximum over every calibration image. */
export function minMaxRange(h: StreamingHistogram): Range {
  return h.count ? { lo: h.min, hi: h.max } : { lo: 0, hi: 0 };
}
