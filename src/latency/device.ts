import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SncError, choices } from '../errors.js';

export type RuntimeName = 'onnxruntime-node' | 'onnxruntime-web';
export type ExecutionProvider = 'cpu' | 'wasm' | 'cuda' | 'webgpu';
export type Precision = 'fp32' | 'int8';
export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

/** A device descriptor (devices/<name>.json): which runtime runs models and how. */
export interface Device {
  name: string;
  description?: string;
  runtime: RuntimeName;
  executionProvider: ExecutionProvider;
  threads: number;
  precision: Precision;
  graphOptimizationLevel: GraphOptimizationLevel;
}

const RUNTIMES: Record<RuntimeName, ExecutionProvider[]> = {
  'onnxruntime-node': ['cpu', 'cuda', 'webgpu'],
  'onnxruntime-web': ['wasm'],
};
const LEVELS: GraphOptimizationLevel[] = ['disabled', 'basic', 'extended', 'all'];
const PRECISIONS: Precision[] = ['fp32', 'int8'];

/** The devices/ folder shipped with snc. */
export function devicesDir(): string {
  return fileURLToPath(new URL('../../../devices/', import.meta.url));
}

export function listDevices(): string[] {
  return readdirSync(devicesDir())
    .filter((f) => f.endsWith('.json'))
    .map((f) => basename(f, '.json'))
    .sort();
}

export function checkDevice(d: Device, source: string): Device {
  const bad = (why: string): never => {
    throw new SncError(`${source}: ${why}`);
  };
  if (typeof d.name !== 'string' || !d.name) bad('name is required');
  if (!RUNTIMES[d.runtime]) bad(`runtime ${JSON.stringify(d.runtime)} is not supported; valid runtimes are ${choices(Object.keys(RUNTIMES))}`);
  if (!RUNTIMES[d.runtime].includes(d.executionProvider))
    bad(`executionProvider ${JSON.stringify(d.executionProvider)} is not one of ${d.runtime}'s: ${choices(RUNTIMES[d.runtime])}`);
  if (!Number.isInteger(d.threads) || d.threads < 1) bad(`threads ${JSON.stringify(d.threads)} is not a positive integer`);
  if (!PRECISIONS.includes(d.precision)) bad(`precision ${JSON.stringify(d.precision)} is not one of ${choices(PRECISIONS)}`);
  if (!LEVELS.includes(d.graphOptimizationLevel)) bad(`graphOptimizationLevel ${JSON.stringify(d.graphOptimizationLevel)} is not one of ${choices(LEVELS)}`);
  return d;
}

/** Loads a device by name (from devices/) or from a descriptor file path. */
export function loadDevice(ref: string): Device {
  const path = ref.endsWith('.json') && existsSync(ref) ? ref : join(devicesDir(), `${ref}.json`);
  if (!existsSync(path)) throw new SncError(`device: '${ref}' is not a known device; valid devices are ${choices(listDevices())} (or a descriptor .json file)`);
  let d: Device;
  try {
    d = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new SncError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  return checkDevice(d, path);
}
