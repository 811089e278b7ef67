/**
 * Builds a device's LUT for a supernet: every distinct block of the whole knob grid is emitted
 * alone (from the same code that builds full models), timed in the device's runtime in
 * shuffled, interleaved groups, and written atomically as each group finishes, so an
 * interrupted run resumes where it stopped. A calibration on a few whole subnets ends it.
 *
 * Where the timings are made is a BlockTimer: in this process (localTimer, the default) or on a
 * worker of a job queue (profile-jobs.ts). Both time with the same functions (timeBlockSamples,
 * measureConfigSamples) and profile() merges their samples with the same code.
 */
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { SncError } from '../errors.js';
import { buildBlock, buildSubnet, fullPlan, type Block } from '../detr/model.js';
import { configKey, enumerateConfigs, type SubnetConfig } from '../detr/spec.js';
import type { Supernet } from '../detr/supernet.js';
import { Rng } from '../detr/weights.js';
import { keyOf } from '../detr/keys.js';
import { numel } from '../onnx/tensor.js';
import { encodeModel } from '../onnx/writer.js';
import type { Device } from './device.js';
import { hostInfo, type HostInfo } from './host.js';
import { checkLutUse, familyHash, lutIsComplete, partialLutPath, readLut, writeLut, type Calibration, type DriftReference, type Lut, type LutEntry } from './lut.js';
import { checkWritable, replaceFile } from '../util/fs.js';
import { DEFAULT_MEASURE, measureInterleaved, type MeasureOptions } from './measure.js';
import { deviceModelBytes } from './precision.js';
import { buildOverheadProbe } from './probe.js';
import { LatencyPredictor } from './predictor.js';
import { checkAvailable, openSession, runtimeVersion, type ModelInput, type RuntimeVersions } from './runtime.js';
import { linearFitRelative, summarize } from './stats.js';

/** One thing to time: a block (with a config that contains it) or the per-run overhead. */
export interface ProfileItem {
  key: string;
  kind: string;
  build(): Uint8Array;
  inputs: ModelInput[];
}

/** Every distinct block key of the grid, each with one config that produces it. */
export function distinctBlocks(net: Supernet, device?: Pick<Device, 'precision' | 'runtime'>): ProfileItem[] {
  const seen = new Map<string, ProfileItem>();
  for (const c of enumerateConfigs(net.spec.knobs, net.spec.architecture)) {
    const ok = keyOf.overhead(c.resolution);
    if (!seen.has(ok))
      seen.set(ok, { key: ok, kind: 'overhead', build: () => buildOverheadProbe(c.resolution), inputs: [{ name: 'image', dims: [1, 3, c.resolution, c.resolution], dtype: 'float32' }] });
    for (const b of fullPlan(net, c)) {
      if (seen.has(b.key)) continue;
      seen.set(b.key, itemFor(net, c, b, device));
    }
  }
  return [...seen.values()];
}

/** A block as the device runs it (int8 devices: quantized like the models that ship to them). */
function itemFor(net: Supernet, c: SubnetConfig, b: Block, device?: Pick<Device, 'precision' | 'runtime'>): ProfileItem {
  return { key: b.key, kind: b.kind, build: () => (device ? deviceModelBytes(device, buildBlock(net, c, b)) : encodeModel(buildBlock(net, c, b))), inputs: b.inputs.map((i) => ({ name: i.name, dims: i.shape, dtype: 'float32' as const })) };
}

/** Opens a session per item, times them interleaved (no re-measurement), releases them: each item's raw samples (ms). */
export async function timeBlockSamples(device: Device, items: ProfileItem[], measure: MeasureOptions): Promise<number[][]> {
  const sessions = [];
  for (const item of items) sessions.push(await openSession(device, item.build(), item.inputs));
  try {
    return (await measureInterleaved(sessions, { ...measure, retries: 0 })).map((m) => m.samples);
  } finally {
    await Promise.all(sessions.map((s) => s.release()));
  }
}

/** The machine and runtime a profile's timings come from. */
export interface TimerIdentity {
  host: HostInfo;
  runtime: RuntimeVersions;
  /** The machine's host name (timings of one LUT must all come from one machine). */
  machine: string;
}

/** Where a profile's timings are made: this process (localTimer) or a worker of a job queue (profile-jobs.ts). */
export interface BlockTimer {
  /** The machine and runtime that will time; fails when the device cannot run there. */
  identity(): Promise<TimerIdentity>;
  /** timeBlockSamples of the items, on the device. */
  timeBlocks(items: ProfileItem[], measure: MeasureOptions): Promise<number[][]>;
  /**
   * measureConfigSamples of the configs, on the device; with `references` (block keys), those
   * blocks are timed in the same interleaved rounds and their samples follow the configs'.
   */
  timeConfigs(configs: SubnetConfig[], measure: MeasureOptions, seed: number, passes: number, references?: string[]): Promise<number[][]>;
  close?(): Promise<void>;
}

/** Times in this process. */
export function localTimer(net: Supernet, device: Device): BlockTimer {
  return {
    async identity() {
      await checkAvailable(device);
      return { host: hostInfo(), runtime: runtimeVersion(device), machine: hostname() };
    },
    timeBlocks: (items, measure) => timeBlockSamples(device, items, measure),
    timeConfigs: (configs, measure, seed, passes, references = []) => measureConfigSamples(net, device, configs, measure, seed, passes, blockItems(net, device, references)),
  };
}

/** The items of these block keys in `all`; `fail` makes the one error naming the keys `name` lacks. */
export function pickBlocks(all: ReadonlyMap<string, ProfileItem>, keys: readonly string[], name: string, fail: (message: string) => Error = (m) => new SncError(m)): ProfileItem[] {
  const missing = keys.filter((k) => !all.has(k));
  if (missing.length) throw fail(`${name} has no block ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ` (and ${missing.length - 3} more)` : ''}`);
  return keys.map((k) => all.get(k)!);
}

/** The profile items of these block keys of the supernet, as the device runs them. */
export function blockItems(net: Supernet, device: Device, keys: readonly string[]): ProfileItem[] {
  return keys.length ? pickBlocks(new Map(distinctBlocks(net, device).map((i) => [i.key, i])), keys, net.spec.name) : [];
}

function entryOf(kind: string, samples: number[], passes: number, retries: number): LutEntry {
  const m = summarize(samples);
  return { kind, median_ms: m.median, q1_ms: m.q1, q3_ms: m.q3, spread: m.spread, runs: m.n, retries, passes, samples_ms: samples };
}

export interface ProfileOptions {
  /**
   * Where the LUT goes once it is complete. Until then it is written beside it, to
   * partialLutPath(out), so a complete LUT there is never replaced by an unfinished one.
   */
  out: string;
  /** Continue the unfinished LUT beside `out` (or `out` itself when it is unfinished or complete). */
  resume?: boolean;
  /** Replace an existing `out` (without it an existing `out` is refused unless resuming). */
  force?: boolean;
  measure?: Partial<MeasureOptions>;
  /** Blocks timed interleaved together (and written together). */
  group?: number;
  /** Passes each block's runs are split over (see profile). */
  passes?: number;
  /** Measure the calibration again even if the LUT has one. */
  recalibrate?: boolean;
  /** Whole subnets measured for the calibration (0 to skip). */
  calibrationSamples?: number;
  /** The cheaper share of the grid (by block sum) the calibration subnets come from (default 1). */
  calibrationSpan?: number;
  seed?: number;
  allowOtherDevice?: boolean;
  /** Where the timings are made (default: localTimer, in this process). */
  timer?: BlockTimer;
  /** Time a reference block in every group and bring the groups to one speed (default true; see DriftReference). */
  driftReference?: boolean;
  onProgress?: (p: { done: number; total: number; etaSeconds: number; phase: string }) => void;
}

function newLut(net: Supernet, device: Device, keys: number, protocol: Lut['protocol'], where: TimerIdentity): Lut {
  const now = new Date().toISOString();
  return {
    format: 'snc-lut',
    version: 1,
    device,
    host: where.host,
    runtime: where.runtime,
    supernet: { name: net.spec.name, familyHash: familyHash(net.spec) },
    protocol,
    keys,
    complete: false,
    profileSeconds: 0,
    createdAt: now,
    updatedAt: now,
    entries: {},
  };
}

function checkSpan(span: number): void {
  if (!(span > 0 && span <= 1)) throw new SncError(`calibration span ${span} is not in (0, 1]: it is the cheaper share of the grid the calibration subnets are drawn from`);
}

/**
 * Configs for the calibration: the cheapest by block sum, the dearest of the cheaper `span` of
 * the grid (span 1: the dearest of all), and seeded random ones spread over the range between.
 * A span under 1 leaves the dearest subnets to the fit's extrapolation, which the validation
 * checks; it pays where whole subnets take seconds (nano in WebAssembly).
 */
export function calibrationConfigs(net: Supernet, predictor: LatencyPredictor, n: number, seed: number, span = 1): SubnetConfig[] {
  checkSpan(span);
  const sorted = enumerateConfigs(net.spec.knobs, net.spec.architecture).map((c) => ({ c, s: predictor.blockSum(c) })).sort((x, y) => x.s - y.s);
  const all = sorted.slice(0, Math.max(Math.min(n, sorted.length), Math.ceil(span * sorted.length)));
  if (all.length <= n) return all.map((x) => x.c);
  const picked = new Set<number>([0, all.length - 1]);
  // spread the rest over the range of sums: one per quantile bin, chosen at random inside it
  const rng = new Rng(seed);
  for (let k = 1; picked.size < n; k++) {
    const lo = Math.floor(((k - 1) / (n - 2)) * all.length);
    const hi = Math.max(lo + 1, Math.floor((k / (n - 2)) * all.length));
    picked.add(Math.min(all.length - 1, lo + Math.floor(rng.next() * (hi - lo))));
    if (k > n) break;
  }
  // bins can collide with the ends or each other: fill up with random configs not yet taken
  while (picked.size < n) picked.add(Math.floor(rng.next() * all.length));
  return [...picked].sort((a, b) => a - b).map((i) => all[i].c);
}

/**
 * The block timed in every group to follow the machine's speed: of the blocks (never the
 * overhead probe) ordered by their inputs' element count, the one at three quarters, a block
 * large enough to time steadily and small enough to add little to each group.
 */
export function driftReferenceItem(items: readonly ProfileItem[]): ProfileItem | undefined {
  const size = (i: ProfileItem) => i.inputs.reduce((s, x) => s + numel(x.dims), 0);
  const blocks = items.filter((i) => i.kind !== 'overhead').sort((a, b) => size(a) - size(b) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return blocks.length ? blocks[Math.round(0.75 * (blocks.length - 1))] : undefined;
}

/**
 * A group's speed factor from the reference's samples in it: their median over the anchor (the
 * first group's median, which sets the anchor), recorded in `drift.factors`.
 */
export function groupFactor(drift: DriftReference, referenceSamples: readonly number[]): number {
  const m = summarize(referenceSamples).median;
  if (!(m > 0)) return 1;
  if (!(drift.anchorMs > 0)) drift.anchorMs = m;
  const f = m / drift.anchorMs;
  drift.factors.push(Math.round(f * 10000) / 10000);
  return f;
}

/**
 * Once every block is timed: moves the entries from the first group's speed to the median
 * group's (every sample times the median factor), so a block's median is what it takes at the
 * machine's typical speed during the profile, whatever moment the first group fell on.
 */
export function centreDrift(lut: Lut): void {
  const d = lut.drift!;
  const k = summarize(d.factors).median;
  if (k > 0 && k !== 1) {
    const r3 = (v: number) => Math.round(v * k * 1000) / 1000;
    for (const e of Object.values(lut.entries)) {
      e.median_ms *= k;
      e.q1_ms *= k;
      e.q3_ms *= k;
      if (e.samples_ms) e.samples_ms = e.samples_ms.map(r3);
    }
    d.anchorMs *= k;
    d.factors = d.factors.map((f) => Math.round((f / k) * 10000) / 10000);
  }
  d.centred = true;
}

export async function profile(net: Supernet, device: Device, opts: ProfileOptions): Promise<Lut> {
  checkSpan(opts.calibrationSpan ?? 1); // before minutes of block timing, not at the calibration
  const timer = opts.timer ?? localTimer(net, device);
  const where = await timer.identity();
  const measure: MeasureOptions = { ...DEFAULT_MEASURE, ...opts.measure };
  const group = opts.group ?? 8;
  const items = distinctBlocks(net, device);
  const protocol = { warmup: measure.warmup, warmupMs: measure.warmupMs, runs: measure.runs, maxSpread: measure.maxSpread, retries: measure.retries, group, passes: Math.max(1, Math.min(opts.passes ?? 3, measure.runs)) };
  const work = partialLutPath(opts.out);
  checkWritable(opts.out); // a folder, or a place that cannot be written: one line now
  if (!opts.resume && !opts.force && existsSync(opts.out)) {
    const complete = lutIsComplete(opts.out);
    throw new SncError(`profile: ${opts.out} already holds ${complete ? 'a complete LUT' : 'an unfinished LUT'}; pass --force to profile it again from the start${complete ? '' : ', --resume to finish it'}, or give another --out`);
  }
  if (!opts.resume && !opts.force && existsSync(work))
    throw new SncError(`profile: an unfinished profile of ${opts.out} is at ${work}; pass --resume to finish it, or --force to start again`);
  const from = opts.resume ? [work, opts.out].find((f) => existsSync(f)) : undefined;
  let lut: Lut;
  if (from) {
    lut = readLut(from);
    checkLutUse(lut, from, { device, spec: net.spec, allowOtherDevice: opts.allowOtherDevice, host: where.host });
    if (lut.device.name !== device.name) throw new SncError(`${from}: is a LUT of ${lut.device.name}, not ${device.name}; give another --out`);
  } else lut = newLut(net, device, items.length, protocol, where);
  checkWritable(work);
  lut.keys = items.length;
  // a LUT begun without a reference goes on without one: its entries are in no common frame
  const fresh = Object.keys(lut.entries).length === 0;
  if (!lut.drift && fresh && opts.driftReference !== false) {
    const ref = driftReferenceItem(items);
    if (ref) lut.drift = { reference: ref.key, anchorMs: 0, factors: [] };
  }
  const refItem = lut.drift ? items.find((i) => i.key === lut.drift!.reference) : undefined;
  if (lut.drift && !refItem) throw new SncError(`${from ?? opts.out}: its drift reference block '${lut.drift.reference}' is not a block of ${net.spec.name}; profile it again with --force`);
  /** Times a group with the reference (when there is one) and brings its samples to the anchor's speed. */
  const timeGroup = async (batch: ProfileItem[], m: MeasureOptions): Promise<number[][]> => {
    if (!refItem) return timer.timeBlocks(batch, m);
    const ms = await timer.timeBlocks([...batch, refItem], m);
    const f = groupFactor(lut.drift!, ms[batch.length]);
    return ms.slice(0, batch.length).map((s) => s.map((v) => v / f));
  };

  const calibN = opts.calibrationSamples ?? 6;
  const passes = Math.max(1, Math.min(opts.passes ?? 3, measure.runs));
  const runsPerPass = Math.ceil(measure.runs / passes);
  // entries from before passes existed count as complete
  const passesOf = (key: string) => lut.entries[key]?.passes ?? (lut.entries[key] ? passes : 0);
  const todoCount = items.reduce((s, i) => s + (passes - Math.min(passes, passesOf(i.key))), 0);
  const started = performance.now();
  const baseSeconds = lut.profileSeconds;
  let doneItems = 0;
  // counted once: the calibration, once made, must not leave the total
  const total = todoCount + ((lut.calibration && !opts.recalibrate) || calibN === 0 ? 0 : calibN);
  const report = (phase: string) => {
    const elapsed = (performance.now() - started) / 1000;
    const eta = doneItems > 0 ? (elapsed / doneItems) * (total - doneItems) : NaN;
    opts.onProgress?.({ done: doneItems, total, etaSeconds: eta, phase });
  };
  report('blocks');
  // Every block's runs are split over passes; each pass shuffles the blocks into new groups,
  // so a transient slowdown of the machine hits a minority of any block's runs.
  const rng = new Rng(opts.seed ?? 1);
  for (let pass = 0; pass < passes; pass++) {
    const todo = items.filter((i) => passesOf(i.key) <= pass);
    rng.shuffle(todo);
    for (let g = 0; g < todo.length; g += group) {
      const batch = todo.slice(g, g + group);
      const ms = await timeGroup(batch, { ...measure, runs: runsPerPass, retries: 0, seed: (opts.seed ?? 1) + 1000 * pass + g });
      batch.forEach((item, k) => {
        const samples = [...(lut.entries[item.key]?.samples_ms ?? []), ...ms[k].map((v) => Math.round(v * 1000) / 1000)];
        lut.entries[item.key] = entryOf(item.kind, samples, pass + 1, 0);
      });
      doneItems += batch.length;
      lut.profileSeconds = baseSeconds + (performance.now() - started) / 1000;
      writeLut(work, lut);
      report(passes > 1 ? `blocks, pass ${pass + 1}/${passes}` : 'blocks');
    }
  }

  // A noisy entry was usually timed while something else ran: measure those once more at the
  // end, at another moment, and keep whichever measurement has the smaller spread.
  const noisy = items.filter((i) => lut.entries[i.key] && lut.entries[i.key].retries === 0 && lut.entries[i.key].spread > measure.maxSpread);
  for (let g = 0; g < noisy.length; g += group) {
    const batch = noisy.slice(g, g + group);
    const ms = await timeGroup(batch, { ...measure, retries: 0, seed: (opts.seed ?? 1) + 7919 + g });
    batch.forEach((item, k) => {
      const old = lut.entries[item.key];
      const m = { ...summarize(ms[k]), samples: ms[k] };
      if (m.spread < old.spread) lut.entries[item.key] = entryOf(item.kind, m.samples.map((v) => Math.round(v * 1000) / 1000), old.passes ?? passes, old.retries + 1);
      else old.retries += 1;
    });
    lut.profileSeconds = baseSeconds + (performance.now() - started) / 1000;
    writeLut(work, lut);
    report('re-measuring noisy blocks');
  }

  // every block has all its passes here (the loops above ran them all)
  if (lut.drift && !lut.drift.centred) centreDrift(lut);

  if (opts.recalibrate) lut.calibration = undefined;
  if (!lut.calibration && calibN > 0) {
    const t0 = performance.now();
    lut.calibration = await calibrate(net, device, lut, calibN, measure, opts.seed ?? 1, passes, opts.calibrationSpan ?? 1, timer);
    lut.calibration.seconds = (performance.now() - t0) / 1000;
    doneItems += calibN;
  }
  lut.complete = items.every((i) => passesOf(i.key) >= passes) && (calibN === 0 || !!lut.calibration);
  lut.profileSeconds = baseSeconds + (performance.now() - started) / 1000;
  writeLut(work, lut);
  // only a complete LUT takes the place of what was there
  if (lut.complete) replaceFile(work, opts.out);
  report('done');
  return lut;
}

/**
 * Reference blocks for the calibration: blocks of the LUT at the middle, three quarters and the
 * top of its medians (larger blocks time more steadily), never the per-run overhead probe.
 */
export function calibrationReferences(lut: Lut, n = 3): string[] {
  const keys = Object.entries(lut.entries)
    .filter(([, e]) => e.kind !== 'overhead' && e.median_ms > 0)
    .sort((a, b) => a[1].median_ms - b[1].median_ms || (a[0] < b[0] ? -1 : 1))
    .map(([k]) => k);
  if (!keys.length) return [];
  const qs = n === 1 ? [1] : Array.from({ length: n }, (_, i) => 0.5 + (0.5 * i) / (n - 1));
  return [...new Set(qs.map((q) => keys[Math.round(q * (keys.length - 1))]))];
}

/**
 * Whole subnets' samples at the LUT's speed: each round's samples divided by that round's speed
 * factor, the median over the reference blocks of their sample / their LUT median.
 */
export function atLutSpeed(subnets: number[][], references: number[][], lutMedians: number[]): { samples: number[][]; factor: number } {
  if (!references.length) return { samples: subnets, factor: 1 };
  const rounds = Math.min(...subnets.map((s) => s.length), ...references.map((r) => r.length));
  const factors = Array.from({ length: rounds }, (_, k) => summarize(references.map((r, j) => r[k] / lutMedians[j])).median);
  return { samples: subnets.map((s) => factors.map((f, k) => s[k] / f)), factor: summarize(factors).median };
}

/**
 * Measures whole subnets interleaved and fits measured = a · blockSum + b (relative error).
 * The blocks were timed minutes or hours earlier, and a shared machine's speed moves by 15-20%
 * for minutes at a time, so a few reference blocks of the LUT are timed in the same rounds and
 * every round is brought to the LUT's speed (atLutSpeed): the fit relates whole subnets to their
 * blocks, not to the machine's mood during the calibration.
 * A subnet whose runs spread more than `measure.maxSpread` was timed while the machine was
 * unsteady: its subnets are measured again, at another moment, up to `measure.retries` times,
 * and each keeps the measurement with the smaller spread (as blocks do). The fit is the whole
 * LUT's scale, so one unsteady minute must not set it (nano on ort-wasm-1t: 4 subnets at
 * spreads of 11-15% read 1.2x their block sums; minutes later, 0.99-1.04x at 0.5-7%).
 */
export async function calibrate(net: Supernet, device: Device, lut: Lut, n: number, measure: MeasureOptions, seed: number, passes = 3, span = 1, timer = localTimer(net, device)): Promise<Calibration> {
  const raw = new LatencyPredictor({ ...lut, calibration: undefined }, net.spec.architecture);
  const configs = calibrationConfigs(net, raw, n, seed, span);
  const references = calibrationReferences(lut);
  const lutMedians = references.map((k) => lut.entries[k].median_ms);
  const time = async (cs: SubnetConfig[], s: number) => {
    const all = await timer.timeConfigs(cs, measure, s, passes, references);
    return atLutSpeed(all.slice(0, cs.length), all.slice(cs.length), lutMedians);
  };
  const first = await time(configs, seed);
  const factors = [first.factor];
  const measured = first.samples.map((s) => ({ ...summarize(s), retries: 0 }));
  for (let r = 1; r <= measure.retries; r++) {
    const noisy = configs.map((_, i) => i).filter((i) => measured[i].spread > measure.maxSpread);
    if (!noisy.length) break;
    const again = await time(noisy.map((i) => configs[i]), seed + 7919 * r);
    factors.push(again.factor);
    noisy.forEach((i, k) => {
      const m = summarize(again.samples[k]);
      measured[i] = m.spread < measured[i].spread ? { ...m, retries: r } : { ...measured[i], retries: r };
    });
  }
  const samples = configs.map((c, i) => ({ config: configKey(c), blockSumMs: raw.blockSum(c), measuredMs: measured[i].median, spread: measured[i].spread, ...(measured[i].retries ? { retries: measured[i].retries } : {}) }));
  const fit = samples.length >= 2 ? linearFitRelative(samples.map((s) => s.blockSumMs), samples.map((s) => s.measuredMs)) : { a: 1, b: 0 };
  return { a: fit.a, b: fit.b, samples, ...(span < 1 ? { span } : {}), ...(references.length ? { references, speedFactors: factors } : {}), seconds: 0 };
}

/**
 * End-to-end medians of whole subnets, interleaved among each other, their runs split over
 * passes that each open the sessions afresh, at different moments.
 */
export async function measureConfigs(net: Supernet, device: Device, configs: SubnetConfig[], measure: MeasureOptions, seed: number, passes = 1) {
  return (await measureConfigSamples(net, device, configs, measure, seed, passes)).map((s) => summarize(s));
}

/** measureConfigs' raw samples (ms) per config. */
export async function measureConfigSamples(net: Supernet, device: Device, configs: SubnetConfig[], measure: MeasureOptions, seed: number, passes = 1, extra: ProfileItem[] = []): Promise<number[][]> {
  const models = configs.map((c) => deviceModelBytes(device, buildSubnet(net, c)));
  const runs = Math.ceil(measure.runs / passes);
  const samples: number[][] = [...configs, ...extra].map(() => []);
  for (let p = 0; p < passes; p++) {
    const sessions = [];
    for (let i = 0; i < configs.length; i++) {
      const c = configs[i];
      sessions.push(await openSession(device, models[i], [{ name: 'image', dims: [1, 3, c.resolution, c.resolution], dtype: 'float32' }]));
    }
    for (const item of extra) sessions.push(await openSession(device, item.build(), item.inputs));
    try {
      const ms = await measureInterleaved(sessions, { ...measure, runs, retries: 0, seed: seed + 1000 * p });
      ms.forEach((m, i) => samples[i].push(...m.samples));
    } finally {
      await Promise.all(sessions.map((s) => s.release()));
    }
  }
  return samples;
}
