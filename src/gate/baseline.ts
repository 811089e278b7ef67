/**
 * A baseline for `snc check --baseline FILE`: the previous build's latency per device at the
 * LUT's speed. Read from an earlier check's full result (`<build>/check.json`, format snc-check)
 * or from the benchmark JSON that `snc check --json` writes (and benchmark-tracking actions keep):
 * `[{ "name": "<device> latency at the LUT speed", "unit": "ms", "value": 13.2, ... }]`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SncError } from '../errors.js';
import { BENCHMARK_SUFFIX } from './outputs.js';

export interface Baseline {
  source: string;
  /** Device folder name -> its latency at the LUT's speed (ms). */
  values: Record<string, number>;
}

export function parseBaseline(doc: unknown, source: string): Baseline {
  const values: Record<string, number> = {};
  const ok = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;
  if (Array.isArray(doc)) {
    for (const e of doc as { name?: unknown; value?: unknown; unit?: unknown }[]) {
      if (typeof e?.name !== 'string' || !ok(e.value)) throw new SncError(`${source}: every entry of a benchmark baseline needs a "name" and a "value" > 0 (ms); got ${JSON.stringify(e).slice(0, 80)}`);
      if (e.unit !== undefined && e.unit !== 'ms') throw new SncError(`${source}: entry '${e.name}' has unit ${JSON.stringify(e.unit)}; valid: ms`);
      values[e.name.endsWith(BENCHMARK_SUFFIX) ? e.name.slice(0, -BENCHMARK_SUFFIX.length) : e.name] = e.value;
    }
  } else if (doc && typeof doc === 'object' && (doc as { format?: unknown }).format === 'snc-check') {
    for (const d of (doc as { devices?: { name?: unknown; interval?: { median?: unknown } }[] }).devices ?? [])
      if (typeof d?.name === 'string' && ok(d.interval?.median)) values[d.name] = d.interval!.median as number;
  } else throw new SncError(`${source}: not a baseline; valid: a check result (check.json, format snc-check) or the benchmark JSON of snc check --json`);
  if (!Object.keys(values).length) throw new SncError(`${source}: the baseline holds no device's latency`);
  return { source, values };
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
