/**
 * A baseline for `snc check --baseline FILE`: the previous build's latency per device at the
 * LUT's speed. Read from an earlier check's full result (`<build>/check.json`, format snc-check)
 * or from the benchmark JSON that `snc check --json` writes (and benchmark-tracking actions keep):
 * `[{ "name": "<device> latency at the LUT speed", "unit": "ms", "value": 13.2, "range": "± 0.19", ... }]`.
 * The baseline is a measurement too: besides its median it keeps the upper bound of its interval
 * (check.json's `interval.hi`, or the benchmark entry's value + its range), and a regression is
 * judged against that bound (check.ts `decide`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { SncError } from '../errors.js';
import { BENCHMARK_SUFFIX } from './outputs.js';

export interface Baseline {
  source: string;
  /** Device folder name -> its latency at the LUT's speed (ms). */
  values: Record<string, number>;
  /** Device folder name -> the upper bound of its interval (ms); the median when none is known. */
  upper: Record<string, number>;
}

/** The half-width of a benchmark entry's "± 0.194" range; null when absent or unbounded. */
function rangeHalf(range: unknown): number | null {
  if (typeof range !== 'string') return null;
  const m = /^\s*±\s*([0-9.]+(?:e[-+]?\d+)?)\s*$/i.exec(range);
  return m ? Number(m[1]) : null;
}

export function parseBaseline(doc: unknown, source: string): Baseline {
  const values: Record<string, number> = {};
  const upper: Record<string, number> = {};
  const ok = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;
  if (Array.isArray(doc)) {
    for (const e of doc as { name?: unknown; value?: unknown; unit?: unknown; range?: unknown }[]) {
      if (typeof e?.name !== 'string' || !ok(e.value)) throw new SncError(`${source}: every entry of a benchmark baseline needs a "name" and a "value" > 0 (ms); got ${JSON.stringify(e).slice(0, 80)}`);
      if (e.unit !== undefined && e.unit !== 'ms') throw new SncError(`${source}: entry '${e.name}' has unit ${JSON.stringify(e.unit)}; valid: ms`);
      const name = e.name.endsWith(BENCHMARK_SUFFIX) ? e.name.slice(0, -BENCHMARK_SUFFIX.length) : e.name;
      values[name] = e.value;
      upper[name] = e.value + (rangeHalf(e.range) ?? 0);
    }
  } else if (doc && typeof doc === 'object' && (doc as { format?: unknown }).format === 'snc-check') {
    for (const d of (doc as { devices?: { name?: unknown; interval?: { median?: unknown; hi?: unknown } }[] }).devices ?? [])
      if (typeof d?.name === 'string' && ok(d.interval?.median)) {
        values[d.name] = d.interval!.median as number;
        upper[d.name] = ok(d.interval!.hi) ? Math.max(d.interval!.hi, values[d.name]) : values[d.name];
      }
  } else throw new SncError(`${source}: not a baseline; valid: a check result (check.json, format snc-check) or the benchmark JSON of snc check --json`);
  if (!Object.keys(values).length) throw new SncError(`${source}: the baseline holds no device's latency`);
  return { source, values, upper };
}

export function readBaseline(path: string): Baseline {
  if (!existsSync(path)) throw new SncError(`--baseline ${path} does not exist (give the check.json or the --json file of an earlier snc check)`);
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new SncError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  return parseBaseline(doc, path);
}
