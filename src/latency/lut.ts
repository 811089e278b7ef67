/**
 * The latency lookup table of one supernet family on one device: the median time of every
 * distinct block, the per-run overhead, and a calibration fitted on whole subnets.
 * Documented in docs/lut.md.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SncError } from '../errors.js';
import { sha256 } from '../detr/supernet.js';
import type { SupernetSpec, SubnetConfig } from '../detr/spec.js';
import { fsError, writeFileAtomic } from '../util/fs.js';
import { checkWith } from '../util/schema.js';
import { checkDevice, type Device } from './device.js';
import { BLOCK_LUT } from './lut-schema.js';
import { hostDifferences, hostInfo, type HostInfo } from './host.js';
import type { RuntimeVersions } from './runtime.js';

export interface LutEntry {
  kind: string;
  median_ms: number;
  q1_ms: number;
  q3_ms: number;
  /** (q3 - q1) / median. */
  spread: number;
  runs: number;
  retries: number;
  /** Passes merged into this entry (absent in LUTs from before passes). */
  passes?: number;
  /** The timings the entry was made from. */
  samples_ms?: number[];
}

export interface CalibrationSample {
  config: string;
  blockSumMs: number;
  measuredMs: number;
  spread: number;
  /** Times it was measured again because its spread was over the protocol's maxSpread. */
  retries?: number;
}

/** measured ≈ a · (sum of block medians) + b, fitted on a few whole subnets. */
export interface Calibration {
  a: number;
  b: number;
  samples: CalibrationSample[];
  /** The cheaper share of the grid the samples were drawn from (absent: 1, the whole grid). */
  span?: number;
  /** Blocks timed in the same rounds, whose LUT medians bring each round to the LUT's speed. */
  references?: string[];
  /** The machine's median speed factor (measured / LUT) in each timing of the calibration. */
  speedFactors?: number[];
  /** Wall time the calibration took. */
  seconds: number;
}

export interface Lut {
  format: 'snc-lut';
  version: 1;
  device: Device;
  host: HostInfo;
  runtime: RuntimeVersions;
  supernet: { name: string; familyHash: string };
  protocol: { warmup: number; warmupMs?: number; runs: number; maxSpread: number; retries: number; group: number; passes?: number };
  /** Every key the supernet's grid needs; `complete` once all are measured and calibrated. */
  keys: number;
  complete: boolean;
  profileSeconds: number;
  createdAt: string;
  updatedAt: string;
  entries: Record<string, LutEntry>;
  calibration?: Calibration;
  /** The block timed in every group of the profile, which brings every group to one speed (absent in LUTs from before it). */
  drift?: DriftReference;
}

/**
 * A shared machine's speed moves by 15-40% for seconds to minutes (2 threads on 2 vCPUs with
 * hypervisor steal), so blocks timed in different groups were timed at different speeds. One
 * block (`reference`) is timed in every group as well; each group's samples are divided by its
 * factor, the reference's median in that group over `anchorMs` (its median in the first group),
 * so the entries are all at one speed; once every block is timed they are moved to the median
 * group's speed (`centred`). The calibration maps that speed to whole subnets.
 */
export interface DriftReference {
  reference: string;
  anchorMs: number;
  /** Every group's factor, in the order timed (what the machine's speed did). */
  factors: number[];
  /** Set once every block is timed and the entries were moved to the median group's speed (centreDrift). */
  centred?: boolean;
}

/**
 * Identity of a supernet family for latency: architecture and knob grid, not weight values
 * (latency does not depend on them), so retrained weights keep their LUTs.
 */
export function familyHash(spec: SupernetSpec): string {
  return shortHash(sortedJson(familyOf(spec)));
}

const familyOf = (spec: SupernetSpec) => ({ architecture: spec.architecture, knobs: spec.knobs });
const shortHash = (text: string) => sha256(new TextEncoder().encode(text)).slice(0, 16);

/**
 * Whether a LUT's family hash names `spec`'s family: the hash above, or the one LUTs profiled
 * before it carry (the same fields serialised in the order they were written, so a supernet.json
 * and a preset naming one family in another key order had different hashes).
 */
export function isFamily(hash: string, spec: SupernetSpec): boolean {
  return hash === familyHash(spec) || hash === shortHash(JSON.stringify(familyOf(spec)));
}

/** JSON with every object's keys sorted: one text for one value, whatever order its keys were written in. */
function sortedJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${sortedJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/**
 * Reads any snc LUT file, block (one supernet family) or op-level (any ONNX model), and checks
 * the header both kinds share. `make` names the command that makes the missing file.
 */
export function readLutFile<T extends { entries: object; device: Device }>(path: string, make: string): T & { kind?: string } {
  if (!existsSync(path)) throw new SncError(`lut: ${path} does not exist (make one with ${make})`);
  let lut: T & { format?: unknown; version?: unknown; kind?: string };
  try {
    lut = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new SncError(`${path}: ${(e as NodeJS.ErrnoException).code ? fsError(e, 'read', path).message : `not valid JSON (${(e as Error).message})`}`);
  }
  if (lut === null || typeof lut !== 'object' || lut.format !== 'snc-lut' || lut.version !== 1)
    throw new SncError(`${path}: not an snc LUT (format ${JSON.stringify(lut?.format)}, version ${JSON.stringify(lut?.version)})`);
  if (typeof lut.entries !== 'object' || lut.entries === null || typeof lut.device?.name !== 'string') throw new SncError(`${path}: LUT has no entries or no device`);
  return lut;
}

/** Where an unfinished LUT for `out` is kept until it is complete: beside it, `<name>.partial.json`. */
export function partialLutPath(out: string): string {
  return out.endsWith('.json') ? `${out.slice(0, -'.json'.length)}.partial.json` : `${out}.partial`;
}

/** Whether the file at `path` is a LUT marked complete (false for anything else). */
export function lutIsComplete(path: string): boolean {
  try {
    return JSON.parse(readFileSync(path, 'utf8'))?.complete === true;
  } catch {
    return false;
  }
}

/** Writes any snc LUT atomically, entries sorted by key so that diffs stay readable. */
export function writeLutFile<T extends { entries: Record<string, unknown> }>(path: string, lut: T): void {
  const entries: Record<string, unknown> = {};
  for (const k of Object.keys(lut.entries).sort()) entries[k] = lut.entries[k];
  writeFileAtomic(path, JSON.stringify({ ...lut, entries, updatedAt: new Date().toISOString() }, null, 1) + '\n');
}

export function readLut(path: string): Lut {
  const lut = readLutFile<Lut>(path, 'snc profile');
  if (lut.kind === 'ops') throw new SncError(`${path}: is an op-level LUT (snc lut ops), not a block LUT of a supernet; predict ONNX models with it: snc predict --lut ${path} --model X.onnx`);
  checkWith(BLOCK_LUT, lut, path);
  checkDevice(lut.device, `${path}: device`);
  return lut;
}

export function writeLut(path: string, lut: Lut): void {
  writeLutFile(path, lut);
}

export interface UseCheck {
  /** The device the LUT is about to be used for (measured against), if any. */
  device?: Device;
  /** Use it anyway on another device or host. */
  allowOtherDevice?: boolean;
  /** The machine it is about to be used on (default: this one, hostInfo()). */
  host?: HostInfo;
  spec?: SupernetSpec;
}

/** Refuses a LUT measured on another device/host or for another supernet family, naming the difference. */
export function checkLutUse(lut: Lut, source: string, use: UseCheck): void {
  if (use.spec && !isFamily(lut.supernet.familyHash, use.spec))
    throw new SncError(`${source}: LUT was profiled for supernet family '${lut.supernet.name}' (${lut.supernet.familyHash}), not '${use.spec.name}' (${familyHash(use.spec)}); profile this supernet with snc profile`);
  if (!use.device || use.allowOtherDevice) return;
  const diffs = hostDifferences(lut.host, use.host ?? hostInfo());
  if (use.device.name !== lut.device.name) diffs.unshift(`device ${lut.device.name} vs ${use.device.name}`);
  if (diffs.length) throw new SncError(`${source}: LUT was measured on another device (${diffs.join('; ')}); pass --allow-other-device to use it anyway`);
}

export function lutCoverage(lut: Lut, needed: Iterable<string>): string[] {
  const missing: string[] = [];
  for (const k of needed) if (!lut.entries[k]) missing.push(k);
  return missing;
}

export type { SubnetConfig };
