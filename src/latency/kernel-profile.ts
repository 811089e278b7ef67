/**
 * onnxruntime's own per-node profiling: run a model with `enableProfiling`, read the Chrome
 * trace it writes (onnxruntime-node: a file; onnxruntime-web: printed when profiling ends), and
 * return every kernel of the optimised graph (after fusion and layout transforms) with its op
 * type, input and output shapes and its median time over the runs.
 */
import fs, { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SncError } from '../errors.js';
import type { Device } from './device.js';
import { checkAvailable, openSession, type ModelInput, type TimedSession } from './runtime.js';
import { quantile } from './stats.js';

/** A tensor shape as the profile states it; dtype as onnxruntime names it ('float', 'int64', ...). */
export interface TypedShape {
  dtype: string;
  dims: number[];
}

/** One kernel execution in one run. */
export interface KernelEvent {
  /** Node name in the optimised graph. */
  node: string;
  /** Op type, with '.nchwc' appended for the NCHWc layout kernels onnxruntime substitutes. */
  op: string;
  inputs: TypedShape[];
  outputs: TypedShape[];
  provider: string;
  /** Microseconds. */
  dur: number;
  /** Index of the run (model_run event) it belongs to, in time order. */
  run: number;
}

/** One kernel of the optimised graph with its times over the runs. */
export interface KernelTiming {
  node: string;
  op: string;
  inputs: TypedShape[];
  outputs: TypedShape[];
  provider: string;
  /** Position in execution order. */
  index: number;
  /** Executions per run (1 outside loops). */
  calls: number;
  medianUs: number;
  samplesUs: number[];
}

export interface ProfiledModel {
  kernels: KernelTiming[];
  /** Medians (µs) of the whole profiled runs (model_run events): profiling adds overhead to these. */
  runMedianUs: number;
  runs: number;
}

interface TraceEvent {
  cat?: string;
  name?: string;
  ts?: number;
  dur?: number;
  args?: Record<string, unknown>;
}

function shapes(v: unknown): TypedShape[] {
  if (!Array.isArray(v)) return [];
  const out: TypedShape[] = [];
  for (const o of v) {
    if (!o || typeof o !== 'object') continue;
    for (const [dtype, dims] of Object.entries(o as Record<string, unknown>)) out.push({ dtype, dims: Array.isArray(dims) ? dims.map(Number) : [] });
  }
  return out;
}

/**
 * Parses onnxruntime's profile (a Chrome-trace JSON array): the `_kernel_time` events of
 * category Node, each assigned to the model_run that contains it.
 */
export function parseProfile(text: string, source = 'profile'): KernelEvent[] {
  let events: TraceEvent[];
  try {
    events = JSON.parse(text);
  } catch (e) {
    throw new SncError(`${source}: not an onnxruntime profile (${(e as Error).message})`);
  }
  if (!Array.isArray(events)) throw new SncError(`${source}: not an onnxruntime profile (expected a JSON array of trace events)`);
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run' && typeof e.ts === 'number').map((e) => [e.ts!, e.ts! + (e.dur ?? 0)] as const);
  runs.sort((a, b) => a[0] - b[0]);
  const runOf = (ts: number): number => {
    // the last run that started at or before ts (kernels start after their run does)
    let lo = 0;
    let hi = runs.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (runs[mid][0] <= ts) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
  const out: KernelEvent[] = [];
  for (const e of events) {
    if (e.cat !== 'Node' || typeof e.name !== 'string' || !e.name.endsWith('_kernel_time')) continue;
    const args = e.args ?? {};
    const node = e.name.slice(0, -'_kernel_time'.length);
    const opName = String(args.op_name ?? '');
    out.push({
      node,
      op: opName + (node.endsWith('_nchwc') ? '.nchwc' : ''),
      inputs: shapes(args.input_type_shape),
      outputs: shapes(args.output_type_shape),
      provider: String(args.provider ?? ''),
      dur: Number(e.dur ?? 0),
      run: runOf(Number(e.ts ?? 0)),
    });
  }
  return out;
}

/**
 * Groups kernel events by node over the runs from `skipRuns` on: one KernelTiming per node of
 * the optimised graph, in execution order, with the median of its times.
 */
export function kernelTimings(events: KernelEvent[], skipRuns = 0): KernelTiming[] {
  const byNode = new Map<string, KernelTiming>();
  const runs = new Set<number>();
  let index = 0;
  for (const e of events) {
    if (e.run < skipRuns) continue;
    runs.add(e.run);
    let k = byNode.get(e.node);
    if (!k) byNode.set(e.node, (k = { node: e.node, op: e.op, inputs: e.inputs, outputs: e.outputs, provider: e.provider, index: index++, calls: 1, medianUs: 0, samplesUs: [] }));
    k.samplesUs.push(e.dur);
  }
  const out = [...byNode.values()];
  for (const k of out) {
    k.medianUs = quantile([...k.samplesUs].sort((a, b) => a - b), 0.5);
    k.calls = Math.max(1, Math.round(k.samplesUs.length / Math.max(1, runs.size)));
  }
  return out;
}

/**
 * Whether kernel-level profiling of this device's runtime is possible; throws an SncError naming
 * why not. onnxruntime-node's cpu provider writes its profile to a file; onnxruntime-web's wasm
 * engine prints it to the process's standard output when profiling ends, where snc captures it
 * (single-threaded wasm only: with threads the kernels run in workers). GPU providers' profiles
 * time kernel launches on the host, not the kernels on the device.
 */
export function checkProfilable(device: Device): void {
  if (device.runtime === 'onnxruntime-web') {
    if (device.threads !== 1)
      throw new SncError(`device ${device.name}: op-level tables support onnxruntime-web with 1 thread only (threads is ${device.threads}); use ort-wasm-1t, or an onnxruntime-node cpu device`);
    return;
  }
  if (device.executionProvider !== 'cpu')
    throw new SncError(
      `device ${device.name}: op-level tables support the cpu provider of onnxruntime-node (and single-threaded onnxruntime-web wasm), not ${device.executionProvider}: onnxruntime's profile times ${device.executionProvider} kernels as the host sees them (launches), not on the device; valid devices are e.g. ort-cpu-1t, ort-cpu-2t or ort-wasm-1t`,
    );
}

/**
 * Runs fn (synchronous) and returns what it wrote to file descriptor 1 through fs.writeSync,
 * which is where onnxruntime-web's wasm engine prints its profile under Node; nothing of it
 * reaches the real standard output.
 */
function captureStdout(fn: () => void): string {
  const original = fs.writeSync;
  let text = '';
  const patched = function (this: unknown, fd: number, data: unknown, ...rest: unknown[]): number {
    if (fd === 1) {
      const s = typeof data === 'string' ? data : Buffer.from(data as Uint8Array).toString('utf8');
      text += s;
      return Buffer.byteLength(s);
    }
    return (original as (...a: unknown[]) => number).call(this, fd, data, ...rest);
  };
  fs.writeSync = patched as typeof fs.writeSync;
  syncBuiltinESMExports();
  try {
    fn();
  } finally {
    fs.writeSync = original;
    syncBuiltinESMExports();
  }
  return text;
}

export interface ProfileRunOptions {
  /** Profiled runs whose kernels are dropped (warm-up). */
  warmup: number;
  /** Profiled runs that are kept. */
  runs: number;
  /** What the model is called in errors (its file). */
  source?: string;
}

/** A session with onnxruntime's profiler on; `finish` ends it and returns its kernels. */
export interface ProfiledSession extends TimedSession {
  /** Ends profiling, releases the session, reads and removes the profile; drops the first `skipRuns` runs. */
  finish(skipRuns: number): Promise<ProfiledModel>;
}

/** Opens a session of the device's runtime with onnxruntime's profiler on, writing to a fresh temporary folder. */
export async function openProfiledSession(device: Device, bytes: Uint8Array, inputs: ModelInput[], source?: string): Promise<ProfiledSession> {
  checkProfilable(device);
  if (device.runtime === 'onnxruntime-web') return openWebProfiledSession(device, bytes, inputs, source);
  const dir = mkdtempSync(join(tmpdir(), 'snc-ort-profile-'));
  let session: Awaited<ReturnType<typeof openSession>>;
  try {
    session = await openSession(device, bytes, inputs, { profilePrefix: join(dir, 'ort'), source });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    try {
      await session.release();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  return {
    run: () => session.run(),
    release,
    async finish(skipRuns: number): Promise<ProfiledModel> {
      try {
        session.endProfiling();
        const files = readdirSync(dir).filter((f) => f.startsWith('ort') && f.endsWith('.json'));
        if (files.length !== 1) throw new Error(`onnxruntime wrote ${files.length} profile files to ${dir}, expected 1`);
        return profiledModel(readFileSync(join(dir, files[0]), 'utf8'), files[0], skipRuns);
      } finally {
        await release();
      }
    },
  };
}

function profiledModel(text: string, source: string, skipRuns: number): ProfiledModel {
  const events = parseProfile(text, source);
  const runTimes = (JSON.parse(text) as TraceEvent[])
    .filter((e) => e.cat === 'Session' && e.name === 'model_run')
    .map((e) => Number(e.dur ?? 0))
    .slice(skipRuns)
    .sort((a, b) => a - b);
  return { kernels: kernelTimings(events, skipRuns), runMedianUs: quantile(runTimes, 0.5), runs: runTimes.length };
}

async function openWebProfiledSession(device: Device, bytes: Uint8Array, inputs: ModelInput[], source?: string): Promise<ProfiledSession> {
  const session = await openSession(device, bytes, inputs, { profilePrefix: 'snc', source });
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    await session.release();
  };
  return {
    run: () => session.run(),
    release,
    async finish(skipRuns: number): Promise<ProfiledModel> {
      try {
        const out = captureStdout(() => session.endProfiling());
        const a = out.indexOf('[');
        const b = out.lastIndexOf(']');
        if (a < 0 || b < a) throw new Error(`onnxruntime-web printed no profile when profiling ended (${out.length} characters)`);
        return profiledModel(out.slice(a, b + 1), `${device.name} profile`, skipRuns);
      } finally {
        await release();
      }
    },
  };
}

/**
 * Runs a model alone (back to back) in the device's runtime with onnxruntime's profiler on and
 * returns its kernels.
 */
export async function profileModel(device: Device, bytes: Uint8Array, inputs: ModelInput[], opts: ProfileRunOptions): Promise<ProfiledModel> {
  checkProfilable(device);
  await checkAvailable(device);
  const s = await openProfiledSession(device, bytes, inputs, opts.source);
  try {
    for (let i = 0; i < opts.warmup + opts.runs; i++) await s.run();
  } catch (e) {
    await s.release();
    throw e;
  }
  return s.finish(opts.warmup);
}
