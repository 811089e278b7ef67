/**
 * The build's step cache: every step of `snc build` is keyed by a hash of its inputs and records
 * its result and the files it wrote (with their SHA-256) in `<build>/.cache/<step>.json`. A step
 * whose key is unchanged and whose files are still there, unmodified, is not run again: a second
 * build with nothing changed runs none, and a changed budget redoes only that device's choice and
 * what follows from it (an export is keyed by the subnet it exports, so the same choice under
 * another budget is not exported again).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/fs.js';

export const STEP_CACHE_VERSION = 1;

/** JSON with object keys sorted, so that equal inputs hash equally. */
export function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, (x as Record<string, unknown>)[k]])) : x));
}

export function hashInputs(inputs: unknown): string {
  return createHash('sha256').update(stableJson(inputs)).digest('hex').slice(0, 32);
}

export function fileSha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export interface StepRecord<R = unknown> {
  version: number;
  step: string;
  key: string;
  /** What the key was computed from (for people reading the cache). */
  inputs: unknown;
  result: R;
  /** Files the step wrote and their SHA-256; the step is stale when one is missing or changed. */
  files: Record<string, string>;
  seconds: number;
  at: string;
}

export interface StepOutcome<R> {
  result: R;
  cached: boolean;
  seconds: number;
}

export class StepCache {
  constructor(readonly dir: string) {}

  private path(step: string): string {
    return join(this.dir, `${step.replace(/[^A-Za-z0-9._-]/g, '_')}.json`);
  }

  /** The record of `step` when its key is `key` and its files are unchanged; else undefined. */
  get<R>(step: string, key: string): StepRecord<R> | undefined {
    const p = this.path(step);
    if (!existsSync(p)) return undefined;
    let rec: StepRecord<R>;
    try {
      rec = JSON.parse(readFileSync(p, 'utf8'));
    } catch {
      return undefined;
    }
    if (rec.version !== STEP_CACHE_VERSION || rec.key !== key) return undefined;
    for (const [f, sha] of Object.entries(rec.files ?? {})) if (!existsSync(f) || fileSha256(f) !== sha) return undefined;
    return rec;
  }

  put<R>(rec: Omit<StepRecord<R>, 'version' | 'at'>): void {
    writeFileAtomic(this.path(rec.step), JSON.stringify({ version: STEP_CACHE_VERSION, ...rec, at: new Date().toISOString() }, null, 1) + '\n');
  }

  /**
   * Runs `run` unless the cache holds `step` with the same inputs. `run` returns its result and
   * the files it wrote.
   */
  async run<R>(step: string, inputs: unknown, run: () => Promise<{ result: R; files?: string[] }>, now: () => number = () => performance.now()): Promise<StepOutcome<R>> {
    const key = hashInputs(inputs);
    const hit = this.get<R>(step, key);
    if (hit) return { result: hit.result, cached: true, seconds: 0 };
    const t0 = now();
    const { result, files = [] } = await run();
    const seconds = (now() - t0) / 1000;
    this.put({ step, key, inputs, result, files: Object.fromEntries(files.map((f) => [f, fileSha256(f)])), seconds });
    return { result, cached: false, seconds };
  }
}
