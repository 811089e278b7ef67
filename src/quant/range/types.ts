/** A clipping range [lo, hi] for one tensor. */
export interface Range {
  lo: number;
  hi: number;
}

export const RANGE_METHODS = ['minmax', 'percentile', 'entropy', 'mse'] as const;
export type RangeMethod = (typeof RANGE_METHODS)[number];
