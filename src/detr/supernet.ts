import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SncError, choices } from '../errors.js';
import { readSafetensors, writeSafetensors } from '../onnx/safetensors.js';
import { ensureDir, fsError, writeFileAtomic } from '../util/fs.js';
import { PRESETS } from './presets.js';
import { checkSpec, type SupernetSpec } from './spec.js';
import { Weights, seededWeights } from './weights.js';

/** A loaded supernet: its description and its one set of shared weights. */
export interface Supernet {
  spec: SupernetSpec;
  weights: Weights;
  /** Folder it was loaded from. */
  dir: string;
}

export function cacheDir(): string {
  return process.env.SNC_CACHE_DIR ?? join(homedir(), '.cache', 'snc');
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Reads and checks a supernet.json. */
export function readSpec(specPath: string): SupernetSpec {
  let spec: SupernetSpec;
  try {
    spec = JSON.parse(readFileSync(specPath, 'utf8'));
  } catch (e) {
    throw new SncError(`${specPath}: not valid JSON (${(e as Error).message})`);
  }
  return checkSpec(spec, specPath);
}

/** Loads a supernet folder (supernet.json + weights.safetensors). */
export function loadSupernetDir(dir: string): Supernet {
  const specPath = join(dir, 'supernet.json');
  const weightsPath = join(dir, 'weights.safetensors');
  if (!existsSync(specPath)) throw new SncError(`supernet: ${dir} has no supernet.json (a supernet is a folder with supernet.json and weights.safetensors, or one of the presets ${choices(Object.keys(PRESETS))})`);
  const spec = readSpec(specPath);
  if (!existsSync(weightsPath)) throw new SncError(`supernet: ${dir} has no weights.safetensors`);
  const bytes = readFileSync(weightsPath);
  const st = readSafetensors(weightsPath);
  const weights = Weights.check(st.tensors, spec.architecture, sha256(bytes), weightsPath);
  return { spec, weights, dir: resolve(dir) };
}

/** Writes a supernet folder atomically, file by file. */
export function saveSupernetDir(dir: string, spec: SupernetSpec, tensors: Map<string, import('../onnx/tensor.js').Tensor>): void {
  writeSafetensors(join(dir, 'weights.safetensors'), tensors, { format: 'snc-supernet' });
  writeFileAtomic(join(dir, 'supernet.json'), JSON.stringify(spec, null, 2) + '\n');
}

/**
 * Writes a new supernet folder as a whole: spec and weights are checked, both files go to a
 * temporary folder beside `dir`, which is then renamed to `dir`, so `dir` never holds half a
 * supernet. An existing `dir` (other than an empty folder) is replaced only with `force`.
 */
export function writeSupernetDir(dir: string, spec: SupernetSpec, tensors: Map<string, import('../onnx/tensor.js').Tensor>, opts: { force?: boolean } = {}): void {
  const target = resolve(dir);
  checkSpec(spec, join(target, 'supernet.json'));
  Weights.check(tensors, spec.architecture, '', join(target, 'weights.safetensors'));
  const exists = existsSync(target);
  const emptyDir = exists && statSync(target).isDirectory() && readdirSync(target).length === 0;
  if (exists && !emptyDir && !opts.force) throw new SncError(`${dir} already exists; pass --force to replace it`);
  ensureDir(dirname(target));
  const stamp = `${process.pid}.${Math.random().toString(36).slice(2)}`;
  const tmp = `${target}.${stamp}.tmp`;
  const old = `${target}.${stamp}.old`;
  try {
    mkdirSync(tmp);
    writeSafetensors(join(tmp, 'weights.safetensors'), tensors, { format: 'snc-supernet' }); // streamed: no copy of the weights
    writeFileSync(join(tmp, 'supernet.json'), JSON.stringify(spec, null, 2) + '\n');
    if (exists) renameSync(target, old);
    renameSync(tmp, target);
  } catch (e) {
    if (existsSync(old) && !existsSync(target)) renameSync(old, target);
    rmSync(tmp, { recursive: true, force: true });
    throw fsError(e, 'write', dir);
  }
  rmSync(old, { recursive: true, force: true });
}

/**
 * Materialises a preset's seeded weights in the cache on first use. Presets are for latency
 * work: their weights are random, never trained, and never committed.
 */
export function presetDir(name: string): string {
  const preset = PRESETS[name];
  const specHash = sha256(new TextEncoder().encode(JSON.stringify(preset.spec))).slice(0, 8);
  const dir = join(cacheDir(), 'presets', `${name}-seed${preset.seed}-${specHash}`);
  if (!existsSync(join(dir, 'supernet.json')))
    try {
      saveSupernetDir(dir, preset.spec, seededWeights(preset.spec.architecture, preset.seed));
    } catch (e) {
      if (e instanceof SncError) throw new SncError(`supernet: preset '${name}' is made in the cache on first use: ${e.message}; set SNC_CACHE_DIR to a writable folder`);
      throw e;
    }
  return dir;
}

/** The package's models/ folder: trained supernets shipped with snc (models/<preset name>/). */
export const EMBEDDED_MODELS = fileURLToPath(new URL('../../../models/', import.meta.url));

/** The trained supernet shipped for a preset name, when the package has one. */
export function embeddedDir(name: string): string | undefined {
  const dir = join(EMBEDDED_MODELS, name);
  return PRESETS[name] && existsSync(join(dir, 'supernet.json')) ? dir : undefined;
}

/**
 * Resolves --supernet: a folder, or the name of a built-in preset. A preset with a trained
 * supernet under models/ (the embedded default, shapes-tiny) loads it; the others get seeded
 * random weights (for latency work only).
 */
export function loadSupernet(ref: string): Supernet {
  if (existsSync(ref) && statSync(ref).isDirectory()) return loadSupernetDir(ref);
  if (PRESETS[ref]) return loadSupernetDir(embeddedDir(ref) ?? presetDir(ref));
  throw new SncError(`supernet: '${ref}' is neither a folder nor a preset; give a supernet folder or one of ${choices(Object.keys(PRESETS))}`);
}
