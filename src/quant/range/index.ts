import { SncError, choices } from '../../errors.js';
import type { QuantGrid } from '../grid.js';
import type { StreamingHistogram } from '../histogram.js';
import { entropyRange } from './entropy.js';
import { minMaxRange } from './minmax.js';
import { mseRange } from './mse.js';
import { percentileRange } from './percentile.js';
import { RANGE_METHODS, type Range, type RangeMethod } from './types.js';

export { RANGE_METHODS, type Range, type RangeMethod };

export function checkRangeMethod(m: string): RangeMethod {
  if (!(RANGE_METHODS as readonly string[]).includes(m)) throw new SncError(`quantize: --ranges ${JSON.stringify(m)} is not a range method; valid methods are ${choices(RANGE_METHODS)}`);
  return m as RangeMethod;
}

/** An activation's clipping range from its calibration statistics. */
export function activationRange(h: StreamingHistogram, method: RangeMethod, g: QuantGrid, opts: { percentile?: number } = {}): Range {
  switch (method) {
    case 'minmax':
      return minMaxRange(h);
    case 'percentile':
      return percentileRange(h, opts.percentile);
    case 'entropy':
      return entropyRange(h);
    case 'mse': {
      const r = mseRange(h, g);
      return { lo: r.lo, hi: r.hi };
    }
  }
}
