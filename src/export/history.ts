/**
 * The history of `snc check` on a build folder (`<build>/check-history.json`, newest last, at most
 * HISTORY_LIMIT entries), which the build report draws per device.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/fs.js';

export const HISTORY_LIMIT = 200;

export interface HistoryDevice {
  name: string;
  budgetMs: number;
  /** The model at the LUT's speed: median and confidence interval (ms). */
  valueMs: number;
  loMs: number;
  hiMs: number;
  verdict: string;
  /** The baseline's value for this device (ms), when one was given. */
  baselineMs: number | null;
  /** The regression limit (ms): the baseline's upper bound x (1 + tolerance), when a baseline was given (absent in older histories). */
  limitMs?: number | null;
}

export interface HistoryEntry {
  at: string;
  mode: string;
  verdict: string;
  baseline: string | null;
  devices: HistoryDevice[];
}

export function historyPath(buildDir: string): string {
  return join(buildDir, 'check-history.json');
}

/** The entries so far; an unreadable file counts as none. */
export function readHistory(buildDir: string): HistoryEntry[] {
  const p = historyPath(buildDir);
  if (!existsSync(p)) return [];
  try {
    const doc = JSON.parse(readFileSync(p, 'utf8'));
    return Array.isArray(doc?.entries) ? doc.entries : [];
  } catch {
    return [];
  }
}

export function appendHistory(buildDir: string, e: HistoryEntry): HistoryEntry[] {
  const entries = [...readHistory(buildDir), e].slice(-HISTORY_LIMIT);
  // JSON has no Infinity: an unbounded interval is stored as null and read back as ±∞
  writeFileAtomic(historyPath(buildDir), JSON.stringify({ format: 'snc-check-history', version: 1, entries }, null, 1) + '\n');
  return entries;
}
