/**
 * Op-level latency tables for any ONNX model (docs/lut.md, "Op-level tables for any ONNX
 * model"). Built from onnxruntime's own per-node profiling of real runs: every kernel of the
 * optimised graph (fused kernels count as one) is keyed by op type and input/output shapes and
 * keeps its median time. A model the table has never seen is predicted by discovering its
 * kernels in one profiled run, looking each up (exact key, else interpolated among kernels of
 * the same kind with similar shapes, else a global per-element fit), summing, and applying a
 * calibration fitted on whole models measured without the profiler.
 */
import { SncError } from '../errors.js';
import { decodeModel } from '../onnx/reader.js';
import type { Device } from './device.js';
import { hostDifferences, hostInfo, type HostInfo } from './host.js';
import { checkProfilable, openProfiledSession, profileModel, type KernelTiming, type ProfiledModel, type ProfiledSession, type TypedShape } from './kernel-profile.js';
import { measureInterleaved, type Measurement } from './measure.js';
import { readLutFile, writeLutFile } from './lut.js';
import { modelInputs } from './model-inputs.js';
import { DEFAULT_ZOO, opZoo, type ZooOptions } from './op-zoo.js';
import { checkAvailable, openSession, runtimeVersion, type ModelInput, type RuntimeVersions, type TimedSession } from './runtime.js';
import { linearFitRelative, summarize } from './stats.js';
import { readFileSync } from 'node:fs';
import { checkWith } from '../util/schema.js';
import { checkDevice } from './device.js';
import { OP_LUT } from './lut-schema.js';

export interface OpLutEntry {
  op: string;
  median_us: number;
  q1_us: number;
  q3_us: number;
  /** Timed executions pooled into the median. */
  n: number;
  /** Kernels (in all models) that had this key. */
  kernels: number;
}

/** A whole model of the build: its kernel sum (profiled) and its end-to-end time (not profiled). */
export interface OpLutModel {
  name: string;
  source: 'zoo' | 'file';
  kernels: number;
  kernelSumUs: number;
  measuredMs: number;
  spread: number;
}

/** measured (ms) ≈ a · (sum of kernel medians, ms) + b. */
export interface OpCalibration {
  a: number;
  b: number;
  /** RMSPE of the fit on the models of 1 ms or more it was fitted on. */
  rmspe: number;
  /** RMSPE on all models, sub-millisecond ones included. */
  rmspeAll: number;
  models: number;
}

export interface OpLut {
  format: 'snc-lut';
  version: 1;
  kind: 'ops';
  device: Device;
  host: HostInfo;
  runtime: RuntimeVersions;
  /** Rounds: every model of a group runs once per round, profiled and not, in shuffled order. */
  protocol: { warmup: number; runs: number; group: number; zoo: Required<ZooOptions>; files: string[] };
  complete: boolean;
  profileSeconds: number;
  createdAt: string;
  updatedAt: string;
  models: OpLutModel[];
  entries: Record<string, OpLutEntry>;
  calibration?: OpCalibration;
}

// ---------------------------------------------------------------------------------------------
// Keys and kernel descriptions

const DTYPES: Record<string, string> = { float: '', int64: 'i64:', int32: 'i32:', bool: 'bool:', uint8: 'u8:', int8: 'i8:', double: 'f64:', float16: 'f16:' };

function shapeText(s: TypedShape): string {
  const prefix = DTYPES[s.dtype] ?? `${s.dtype}:`;
  return prefix + (s.dims.length ? s.dims.join('x') : '-');
}

function parseShape(t: string): TypedShape {
  const m = /^(?:([a-z0-9]+):)?(.*)$/.exec(t)!;
  const dtype = m[1] ? (Object.entries(DTYPES).find(([, p]) => p === `${m[1]}:`)?.[0] ?? m[1]) : 'float';
  return { dtype, dims: m[2] === '-' || m[2] === '' ? [] : m[2].split('x').map(Number) };
}

export interface KernelShape {
  op: string;
  inputs: TypedShape[];
  outputs: TypedShape[];
}

/** The table key of a kernel: op type (with .nchwc for NCHWc kernels), input and output shapes. */
export function kernelKey(k: KernelShape): string {
  return `${k.op}|in=${k.inputs.map(shapeText).join(',')}|out=${k.outputs.map(shapeText).join(',')}`;
}

export function parseKernelKey(key: string): KernelShape {
  const m = /^([^|]+)\|in=([^|]*)\|out=([^|]*)$/.exec(key);
  if (!m) throw new SncError(`op LUT: malformed key ${JSON.stringify(key)} (expected op|in=shapes|out=shapes)`);
  const list = (s: string) => (s ? s.split(',').map(parseShape) : []);
  return { op: m[1], inputs: list(m[2]), outputs: list(m[3]) };
}

const numel = (d: readonly number[]) => d.reduce((p, x) => p * x, 1);
const log2 = (v: number) => Math.log2(Math.max(1, v));
const CONV = new Set(['Conv', 'FusedConv', 'ConvTranspose', 'NhwcFusedConv', 'NhwcConv']);
const MATMUL = new Set(['MatMul', 'FusedMatMul', 'Gemm', 'FusedGemm', 'MatMulInteger', 'QLinearMatMul', 'MatMulIntegerToFloat', 'DynamicQuantizeMatMul', 'MatMulNBits']);

export interface KernelDescription {
  /** Interpolation classes, finest first: kernels of one class are timed alike as a function of work. */
  classes: string[];
  /** Multiply-accumulates for Conv/MatMul kinds, else the element count of the largest tensor. */
  work: number;
  /** True for Conv and MatMul kinds (work is MACs). */
  macs: boolean;
  /** Shape features (log2) for choosing neighbours. */
  features: number[];
}

/** Classes, work and shape features of a kernel, from its op type and shapes alone. */
export function describeKernel(k: KernelShape): KernelDescription {
  const base = k.op.replace(/\.nchwc$/, '');
  const x = k.inputs[0]?.dims ?? [];
  const y = k.outputs[0]?.dims ?? [];
  const uniq = (xs: string[]) => [...new Set(xs)];
  if (CONV.has(base) && x.length >= 3 && y.length === x.length) {
    const w = k.inputs[1]?.dims;
    const hasW = !!w && w.length === x.length;
    const cinPerGroup = hasW ? w![1] : x[1];
    const kernel = hasW ? w!.slice(2) : [];
    const ks = numel(kernel);
    const groups = hasW ? Math.max(1, Math.round(x[1] / Math.max(1, w![1]))) : 1;
    const kind = groups > 1 ? (w![1] === 1 ? 'dw' : 'grouped') : 'dense';
    const rgb = x[1] <= 4 ? '|rgb' : '';
    const stride = Math.max(1, Math.round(x[2] / Math.max(1, y[2])));
    const spatial = numel(y.slice(2));
    return {
      classes: uniq([`${k.op}|k${kernel.join('x') || '?'}|s${stride}|${kind}${rgb}`, `${k.op}|k${kernel.join('x') || '?'}|${kind}${rgb}`, `${k.op}|${kind}${rgb}`, `${k.op}|${kind}`, k.op, base]),
      work: numel(y) * cinPerGroup * Math.max(1, ks),
      macs: true,
      features: [log2(x[1]), log2(y[1]), log2(spatial), log2(ks)],
    };
  }
  if (MATMUL.has(base) && y.length >= 1) {
    const M = y.length >= 2 ? y[y.length - 2] : 1;
    const N = y[y.length - 1];
    const batch = numel(y) / Math.max(1, M * N);
    let K = x[x.length - 1] ?? 1;
    if (x.length >= 2 && x[x.length - 2] !== M && x[x.length - 1] === M) K = x[x.length - 2]; // transA
    return { classes: uniq([k.op, base, 'matmul']), work: numel(y) * K, macs: true, features: [log2(batch), log2(M), log2(K), log2(N)] };
  }
  let work = 1;
  for (const s of [...k.inputs, ...k.outputs]) work = Math.max(work, numel(s.dims));
  return { classes: uniq([k.op, base]), work, macs: false, features: [log2(work), log2(y[y.length - 1] ?? 1), y.length] };
}

// ---------------------------------------------------------------------------------------------
// Prediction

export type Lookup = 'exact' | 'interpolated' | 'fallback';

export interface KernelPrediction {
  key: string;
  op: string;
  node?: string;
  calls: number;
  us: number;
  how: Lookup;
  /** The class interpolated in, or 'elementwise-fit'. */
  basis?: string;
}

interface Point {
  key: string;
  x: number;
  y: number;
  f: number[];
}

/** Neighbours used per interpolation. */
const NEIGHBOURS = 8;
/** Pull of the local slope towards the class-wide slope (in weighted ln-work variance units). */
const SLOPE_PRIOR = 0.02;

export class OpPredictor {
  private readonly exact = new Map<string, number>();
  private readonly byClass = new Map<string, Point[]>();
  private readonly slopes = new Map<string, number>();
  private readonly elementwise: { a: number; b: number };
  readonly cal: { a: number; b: number };

  constructor(readonly lut: Pick<OpLut, 'entries' | 'calibration'>) {
    const ew: { n: number; t: number }[] = [];
    for (const [key, e] of Object.entries(lut.entries)) {
      this.exact.set(key, e.median_us);
      const d = describeKernel(parseKernelKey(key));
      const p: Point = { key, x: Math.log(d.work), y: Math.log(Math.max(1e-3, e.median_us)), f: d.features };
      for (const c of d.classes) {
        let list = this.byClass.get(c);
        if (!list) this.byClass.set(c, (list = []));
        list.push(p);
      }
      if (!d.macs) ew.push({ n: d.work, t: e.median_us });
    }
    for (const [c, pts] of this.byClass) this.slopes.set(c, classSlope(pts));
    const fit = ew.length >= 2 ? linearFitRelative(ew.map((p) => p.n), ew.map((p) => p.t)) : { a: 0, b: ew[0]?.t ?? 5 };
    this.elementwise = { a: Math.max(0, fit.a), b: Math.max(0.5, fit.b) };
    this.cal = { a: lut.calibration?.a ?? 1, b: lut.calibration?.b ?? 0 };
  }

  /** Predicted time (µs) of one kernel execution, and how it was found. */
  kernel(k: KernelShape): { us: number; how: Lookup; basis?: string } {
    const key = kernelKey(k);
    const hit = this.exact.get(key);
    if (hit !== undefined) return { us: hit, how: 'exact' };
    const d = describeKernel(k);
    for (const c of d.classes) {
      const pts = this.byClass.get(c);
      if (!pts?.length) continue;
      return { us: interpolate(pts, Math.log(d.work), d.features, this.slopes.get(c) ?? (d.macs ? 1 : 0.7)), how: 'interpolated', basis: c };
    }
    return { us: this.elementwise.b + this.elementwise.a * d.work, how: 'fallback', basis: 'elementwise-fit' };
  }

  /** Uncalibrated kernel sum (ms) and calibrated prediction (ms) of a list of kernels. */
  predictKernels(kernels: (KernelShape & { calls?: number; node?: string })[]): { kernelSumMs: number; predictedMs: number; kernels: KernelPrediction[] } {
    const out: KernelPrediction[] = [];
    let sum = 0;
    for (const k of kernels) {
      const r = this.kernel(k);
      const calls = k.calls ?? 1;
      sum += r.us * calls;
      out.push({ key: kernelKey(k), op: k.op, node: k.node, calls, us: r.us, how: r.how, basis: r.basis });
    }
    const kernelSumMs = sum / 1000;
    return { kernelSumMs, predictedMs: this.cal.a * kernelSumMs + this.cal.b, kernels: out };
  }
}

/** Slope of ln time on ln work over a whole class (least squares), clamped to [0, 1.2]. */
function classSlope(pts: Point[]): number {
  const n = pts.length;
  const xm = pts.reduce((s, p) => s + p.x, 0) / n;
  const ym = pts.reduce((s, p) => s + p.y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const p of pts) {
    sxx += (p.x - xm) ** 2;
    sxy += (p.x - xm) * (p.y - ym);
  }
  if (n < 2 || sxx < 1e-9) return NaN;
  return Math.min(1.2, Math.max(0, sxy / sxx));
}

/**
 * Local log-log regression: among the class's entries, the nearest in shape (log2 features)
 * are weighted by closeness, ln time is fitted against ln work (the slope pulled towards the
 * class-wide slope when the neighbours' work barely varies, and clamped to [0, 1.2]), and the
 * line is read at the kernel's work. With two entries it is piecewise-linear interpolation in
 * log-log space between them; beyond them it extrapolates along the clamped slope.
 */
export function interpolate(pts: readonly Point[], x: number, f: readonly number[], prior: number): number {
  const near = pts
    .map((p) => {
      let d = 0;
      for (let i = 0; i < f.length; i++) d += ((p.f[i] ?? 0) - f[i]) ** 2;
      return { p, d: Math.sqrt(d) };
    })
    .sort((a, b) => a.d - b.d)
    .slice(0, NEIGHBOURS);
  let sw = 0;
  let xm = 0;
  let ym = 0;
  for (const { p, d } of near) {
    const w = 1 / (d * d + 0.25);
    sw += w;
    xm += w * p.x;
    ym += w * p.y;
  }
  xm /= sw;
  ym /= sw;
  let sxx = 0;
  let sxy = 0;
  for (const { p, d } of near) {
    const w = 1 / (d * d + 0.25);
    sxx += w * (p.x - xm) ** 2;
    sxy += w * (p.x - xm) * (p.y - ym);
  }
  const s0 = Number.isFinite(prior) ? prior : 1;
  const lambda = SLOPE_PRIOR * sw;
  const slope = Math.min(1.2, Math.max(0, (sxy + lambda * s0) / (sxx + lambda)));
  return Math.exp(ym + slope * (x - xm));
}

// ---------------------------------------------------------------------------------------------
// Reading, writing, checking

export function isOpLut(v: unknown): v is OpLut {
  return !!v && typeof v === 'object' && (v as { kind?: unknown }).kind === 'ops';
}

/** Which kind of snc LUT a file is: 'ops' (op-level, any ONNX model) or 'blocks' (one supernet family). */
export function lutKind(path: string): 'ops' | 'blocks' {
  return readLutFile(path, 'snc profile, or snc lut ops for any ONNX model').kind === 'ops' ? 'ops' : 'blocks';
}

export function readOpLut(path: string): OpLut {
  const lut = readLutFile<OpLut>(path, 'snc lut ops --device NAME');
  if (lut.kind !== 'ops') throw new SncError(`${path}: is a block LUT of supernet '${(lut as { supernet?: { name?: string } }).supernet?.name ?? '?'}', not an op-level LUT; make one with snc lut ops --device NAME`);
  checkWith(OP_LUT, lut, path);
  checkDevice(lut.device, `${path}: device`);
  for (const key of Object.keys(lut.entries)) {
    let k: KernelShape;
    try {
      k = parseKernelKey(key);
    } catch (e) {
      throw new SncError(`${path}: ${(e as Error).message}`);
    }
    for (const s of [...k.inputs, ...k.outputs])
      if (!s.dims.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new SncError(`${path}: entry ${JSON.stringify(key)} has a shape that is not a list of sizes >= 0`);
  }
  return lut;
}

export function writeOpLut(path: string, lut: OpLut): void {
  writeLutFile(path, lut);
}

/** Refuses an op LUT measured on another device or host unless allowed, naming the difference. */
export function checkOpLutUse(lut: OpLut, source: string, use: { device?: Device; allowOtherDevice?: boolean }): void {
  if (!use.device || use.allowOtherDevice) return;
  const diffs = hostDifferences(lut.host, hostInfo());
  if (use.device.name !== lut.device.name) diffs.unshift(`device ${lut.device.name} vs ${use.device.name}`);
  if (diffs.length) throw new SncError(`${source}: LUT was measured on another device (${diffs.join('; ')}); pass --allow-other-device to use it anyway`);
}

// ---------------------------------------------------------------------------------------------
// Building

export interface OpLutBuildOptions {
  out: string;
  zoo?: ZooOptions;
  /** Extra ONNX files whose kernels join the table and whose end-to-end times join the calibration. */
  files?: string[];
  /** Timed rounds (default 20) after `warmup` rounds (default 3) whose kernels are dropped. */
  runs?: number;
  warmup?: number;
  /** Models timed together, interleaved. */
  group?: number;
  seed?: number;
  onProgress?: (p: { done: number; total: number; etaSeconds: number }) => void;
}

interface BuildModel {
  name: string;
  source: 'zoo' | 'file';
  bytes: () => Uint8Array;
  inputs: ModelInput[];
}

function readModelFile(path: string): { bytes: Uint8Array; inputs: ModelInput[] } {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch {
    throw new SncError(`cannot read ONNX model ${path}`);
  }
  return { bytes, inputs: modelInputs(decodeModel(bytes, path).graph, path) };
}

/**
 * Profiles the op zoo (and any extra models) on the device in groups: in every round each
 * model of the group runs once with onnxruntime's profiler on (every kernel timed) and once
 * without (end to end), in shuffled order. Kernel medians fill the table; the whole models'
 * kernel sums and end-to-end medians fit measured = a · kernelSum + b.
 */
export async function buildOpLut(device: Device, opts: OpLutBuildOptions): Promise<OpLut> {
  checkProfilable(device);
  await checkAvailable(device);
  const zoo = { ...DEFAULT_ZOO, ...opts.zoo };
  const runs = opts.runs ?? 20;
  const warmup = opts.warmup ?? 3;
  const group = opts.group ?? 8;
  const files = opts.files ?? [];
  const models: BuildModel[] = opZoo(zoo).map((m) => ({ name: m.name, source: 'zoo' as const, bytes: m.build, inputs: m.inputs }));
  for (const f of files) {
    const { bytes, inputs } = readModelFile(f);
    models.push({ name: f, source: 'file', bytes: () => bytes, inputs });
  }
  const now = new Date().toISOString();
  const lut: OpLut = {
    format: 'snc-lut',
    version: 1,
    kind: 'ops',
    device,
    host: hostInfo(),
    runtime: runtimeVersion(device),
    protocol: { warmup, runs, group, zoo, files },
    complete: false,
    profileSeconds: 0,
    createdAt: now,
    updatedAt: now,
    models: [],
    entries: {},
  };
  const pooled = new Map<string, { op: string; samples: number[]; kernels: number }>();
  const started = performance.now();
  for (let g0 = 0; g0 < models.length; g0 += group) {
    const batch = models.slice(g0, g0 + group);
    const seed = (opts.seed ?? 1) + g0;
    // Each model runs twice per round, once with the profiler on (its kernels) and once
    // without (its end-to-end time), all in a fresh shuffled order: every run finds the caches
    // as an interleaved end-to-end measurement does, and drift of a shared machine hits the
    // kernel sums and the end-to-end times alike.
    const profiled: ProfiledSession[] = [];
    const plain: TimedSession[] = [];
    let found: ProfiledModel[];
    let ms: Measurement[];
    try {
      for (const m of batch) {
        const bytes = m.bytes();
        profiled.push(await openProfiledSession(device, bytes, m.inputs, m.name));
        plain.push(await openSession(device, bytes, m.inputs, { source: m.name }));
      }
      const all = await measureInterleaved([...profiled, ...plain], { warmup, runs, maxSpread: Infinity, retries: 0, seed });
      ms = all.slice(batch.length);
      found = [];
      for (const s of profiled) found.push(await s.finish(warmup));
    } finally {
      await Promise.all([...profiled, ...plain].map((s) => s.release()));
    }
    batch.forEach((m, i) => {
      const ks = found[i].kernels;
      addKernels(pooled, ks);
      lut.models.push({
        name: m.name,
        source: m.source,
        kernels: ks.reduce((s, k) => s + k.calls, 0),
        kernelSumUs: round3(ks.reduce((s, k) => s + k.medianUs * k.calls, 0)),
        measuredMs: ms[i].median,
        spread: ms[i].spread,
      });
    });
    lut.entries = entriesOf(pooled);
    lut.profileSeconds = (performance.now() - started) / 1000;
    writeOpLut(opts.out, lut);
    const done = Math.min(models.length, g0 + group);
    opts.onProgress?.({ done, total: models.length, etaSeconds: (lut.profileSeconds / done) * (models.length - done) });
  }
  lut.calibration = fitCalibration(lut.models);
  lut.complete = true;
  lut.profileSeconds = (performance.now() - started) / 1000;
  writeOpLut(opts.out, lut);
  return lut;
}

function addKernels(pooled: Map<string, { op: string; samples: number[]; kernels: number }>, kernels: KernelTiming[]): void {
  for (const k of kernels) {
    const key = kernelKey(k);
    let e = pooled.get(key);
    if (!e) pooled.set(key, (e = { op: k.op, samples: [], kernels: 0 }));
    e.samples.push(...k.samplesUs);
    e.kernels++;
  }
}

function entriesOf(pooled: Map<string, { op: string; samples: number[]; kernels: number }>): Record<string, OpLutEntry> {
  const out: Record<string, OpLutEntry> = {};
  for (const [key, e] of pooled) {
    const s = summarize(e.samples);
    out[key] = { op: e.op, median_us: round3(s.median), q1_us: round3(s.q1), q3_us: round3(s.q3), n: s.n, kernels: e.kernels };
  }
  return out;
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;

/** Models faster than this weigh in the calibration as if they took this long (their noise is large). */
const CALIBRATION_FLOOR_MS = 1;

/**
 * Fits measured = a · kernelSum + b (ms), minimising relative error with weights
 * 1 / max(measured, 1 ms)² (sub-millisecond models are mostly noise on a shared machine).
 * A negative b is dropped (b = 0, a refitted): the prediction of a tiny model stays positive.
 */
export function fitCalibration(models: Pick<OpLutModel, 'kernelSumUs' | 'measuredMs'>[]): OpCalibration {
  const x = models.map((m) => m.kernelSumUs / 1000);
  const y = models.map((m) => m.measuredMs);
  const w = y.map((v) => 1 / Math.max(v, CALIBRATION_FLOOR_MS) ** 2);
  let a = 1;
  let b = 0;
  if (models.length >= 2) {
    let sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (let i = 0; i < x.length; i++) {
      sw += w[i];
      sx += w[i] * x[i];
      sy += w[i] * y[i];
      sxx += w[i] * x[i] * x[i];
      sxy += w[i] * x[i] * y[i];
    }
    const det = sw * sxx - sx * sx;
    if (Math.abs(det) > 1e-30) {
      a = (sw * sxy - sx * sy) / det;
      b = (sxx * sy - sx * sxy) / det;
    }
    if (!(Math.abs(det) > 1e-30) || b < 0 || a <= 0) {
      a = sxy / sxx;
      b = 0;
    }
  } else if (models.length === 1 && x[0] > 0) a = y[0] / x[0];
  const rms = (idx: number[]) => (idx.length ? Math.sqrt(idx.reduce((s, i) => s + ((a * x[i] + b - y[i]) / y[i]) ** 2, 0) / idx.length) : 0);
  const all = y.map((_, i) => i);
  return { a, b, rmspe: rms(all.filter((i) => y[i] >= CALIBRATION_FLOOR_MS)), rmspeAll: rms(all), models: x.length };
}

// ---------------------------------------------------------------------------------------------
// Predicting an unseen model

export interface ModelPrediction {
  model: string;
  device: string;
  predictedMs: number;
  kernelSumMs: number;
  kernels: number;
  exact: number;
  interpolated: number;
  fallback: number;
  /** Share of the kernel sum from exact hits. */
  exactShare: number;
  byOp: Record<string, { kernels: number; us: number; exact: number; interpolated: number; fallback: number }>;
  detail: KernelPrediction[];
}

/**
 * Discovers a model's kernels (one profiled run in the LUT device's runtime and settings on
 * this machine; the run's timings are discarded) and predicts its latency from the table.
 */
export async function predictModel(lut: OpLut, bytes: Uint8Array, source: string, predictor = new OpPredictor(lut)): Promise<ModelPrediction> {
  const inputs = modelInputs(decodeModel(bytes, source).graph, source);
  let found: ProfiledModel;
  try {
    found = await profileModel(lut.device, bytes, inputs, { warmup: 0, runs: 1, source });
  } catch (e) {
    if (e instanceof SncError) throw e;
    throw new SncError(`${source}: ${lut.device.runtime} cannot run it on ${lut.device.name}: ${(e as Error).message.split('\n')[0]}`);
  }
  return summarizePrediction(source, lut.device.name, predictor.predictKernels(found.kernels.map((k) => ({ op: k.op, inputs: k.inputs, outputs: k.outputs, calls: k.calls, node: k.node }))));
}

export function summarizePrediction(model: string, device: string, p: ReturnType<OpPredictor['predictKernels']>): ModelPrediction {
  const byOp: ModelPrediction['byOp'] = {};
  let exactUs = 0;
  let totalUs = 0;
  for (const k of p.kernels) {
    const o = (byOp[k.op] ??= { kernels: 0, us: 0, exact: 0, interpolated: 0, fallback: 0 });
    o.kernels += k.calls;
    o.us += k.us * k.calls;
    o[k.how] += k.calls;
    totalUs += k.us * k.calls;
    if (k.how === 'exact') exactUs += k.us * k.calls;
  }
  const count = (h: Lookup) => p.kernels.filter((k) => k.how === h).reduce((s, k) => s + k.calls, 0);
  return {
    model,
    device,
    predictedMs: p.predictedMs,
    kernelSumMs: p.kernelSumMs,
    kernels: p.kernels.reduce((s, k) => s + k.calls, 0),
    exact: count('exact'),
    interpolated: count('interpolated'),
    fallback: count('fallback'),
    exactShare: totalUs > 0 ? exactUs / totalUs : 0,
    byOp,
    detail: p.kernels,
  };
}
