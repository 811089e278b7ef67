/**
 * The shape of LUT files, block (one supernet family) and op-level (any ONNX model): every field
 * a prediction reads is present, of its type and range. A LUT is data from disk: a median of
 * "fast", null or -3 would otherwise predict NaN or nonsense without a word.
 */
import { z } from 'zod';
import { bool, field, finite, list, natInt, nonEmptyText, nonNeg, object, posInt, posNum, record, text } from '../util/schema.js';

const header = {
  device: object({}),
  host: object({ cpu: text, cores: posInt, platform: text, arch: text }),
  runtime: object({ runtime: text, version: text }),
  complete: bool,
  profileSeconds: nonNeg,
};

export const BLOCK_LUT = object({
  ...header,
  supernet: object({ name: nonEmptyText, familyHash: nonEmptyText }),
  protocol: object({ warmup: natInt, runs: posInt, maxSpread: posNum, retries: natInt, group: posInt }),
  keys: natInt,
  entries: record(
    object({
      kind: text,
      median_ms: nonNeg,
      q1_ms: nonNeg,
      q3_ms: nonNeg,
      spread: nonNeg,
      runs: natInt,
      retries: natInt,
      passes: posInt.optional(),
      samples_ms: list(nonNeg).optional(),
    }),
  ),
  calibration: object({
    a: finite,
    b: finite,
    samples: list(object({ config: text, blockSumMs: nonNeg, measuredMs: nonNeg, spread: nonNeg, retries: natInt.optional() })),
    span: field((v) => typeof v === 'number' && v > 0 && v <= 1, 'a number in (0, 1]').optional(),
    references: list(text).optional(),
    speedFactors: list(nonNeg).optional(),
    seconds: nonNeg,
  }).optional(),
  drift: object({ reference: nonEmptyText, anchorMs: posNum, factors: list(posNum), centred: bool.optional() }).optional(),
});

export const OP_LUT = object({
  ...header,
  protocol: object({ warmup: natInt, runs: posInt, group: posInt }),
  models: list(object({ name: text, source: field((v) => v === 'zoo' || v === 'file', '"zoo" or "file"'), kernels: natInt, kernelSumUs: nonNeg, measuredMs: nonNeg, spread: nonNeg })),
  entries: record(object({ op: nonEmptyText, median_us: nonNeg, q1_us: nonNeg, q3_us: nonNeg, n: natInt, kernels: natInt })),
  calibration: object({ a: finite, b: finite, rmspe: nonNeg, rmspeAll: nonNeg, models: natInt }).optional(),
});

export type LutSchema = z.ZodType;
