/**
 * `snc check`: the CI latency gate. Each built model against its budget and, with a baseline,
 * against the previous build, decided on a ratio rather than a raw time: the model is timed
 * interleaved with reference subnets whose LUT latency is known, and each repeat's latency at
 * the LUT's speed (measured / the machine's speed factor, src/latency/relative.ts) is one value.
 * Repeats go on until the confidence interval of their median (decide.ts) is on one side of the
 * limit, or `maxRepeats` is reached: then the verdict is 'inconclusive'.
 *
 * Mode 'predict' judges the built subnet's LUT prediction instead (no timing: for a device this
 * machine cannot run, or a quick check of a budget change).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Supernet } from '../detr/supernet.js';
import { SncError, choices } from '../errors.js';
import { hostInfo, type HostInfo } from '../latency/host.js';
import { readLut, type Lut } from '../latency/lut.js';
import { modelInputs } from '../latency/model-inputs.js';
import { RelativeTimer, type RelativeRepeat, type RelativeSubject } from '../latency/relative.js';
import { checkAvailable } from '../latency/runtime.js';
import { decodeModel } from '../onnx/reader.js';
import type { BuildConfig, DeviceTarget } from '../export/config.js';
import { loadConfigSupernet } from '../export/build.js';
import { readDeviceReport, type DeviceReport } from '../export/report.js';
import { fileSha256 } from '../export/steps.js';
import { medianInterval, minimumRepeats, repeatUntilDecided, verdictOf, worst, type Interval, type Verdict } from './decide.js';
import type { Baseline } from './baseline.js';

export const CHECK_MODES = ['measure', 'predict'] as const;
export type CheckMode = (typeof CHECK_MODES)[number];
/** Interleaved rounds per repeat at least (each repeat also lasts repeatSeconds). */
export const RUNS_PER_REPEAT = 5;

export interface RegressionCheck {
  baselineMs: number;
  /** The upper bound of the baseline's own interval (ms): the regression limit is relative to it. */
  baselineHiMs: number;
  /** This check's values over the baseline's median. */
  ratio: Interval;
  /** (the baseline's upper bound / its median) x (1 + the tolerance), as a ratio to the median. */
  limit: number;
  tolerance: number;
  verdict: Verdict;
}

export interface DeviceCheck {
  name: string;
  device: string;
  budgetMs: number;
  mode: CheckMode;
  model: { file: string; sha256: string; asBuilt: boolean; config: string };
  predictedMs: number;
  /** Per repeat: the model's latency at the LUT's speed (ms); predict mode: the prediction. */
  values: number[];
  repeats: RelativeRepeat[];
  references: { key: string; predictedMs: number }[];
  interval: Interval;
  budgetVerdict: Verdict;
  regression: RegressionCheck | null;
  verdict: Verdict;
  message: string;
  seconds: number;
}

export interface CheckResult {
  format: 'snc-check';
  version: 1;
  at: string;
  mode: CheckMode;
  confidence: number;
  verdict: Verdict;
  baseline: string | null;
  host: HostInfo;
  devices: DeviceCheck[];
  seconds: number;
}

/** What times a model against its references (RelativeTimer; tests inject fakes). */
export interface Timer {
  references: { key: string; predictedMs: number }[];
  repeat(seconds: number, runs: number, seed: number): Promise<RelativeRepeat>;
  release(): Promise<void>;
}

export type OpenTimer = (net: Supernet, target: DeviceTarget, lut: Lut, subject: RelativeSubject, report: DeviceReport, references: number) => Promise<Timer>;

const openRelativeTimer: OpenTimer = async (net, target, lut, subject, report, references) => {
  await checkAvailable(target.device).catch((e) => {
    if (e instanceof SncError) throw new SncError(`${e.message}; check ${target.name} with --mode predict (its LUT's prediction) on this machine`);
    throw e;
  });
  return RelativeTimer.open(net, target.device, lut, subject, { references, aroundMs: report.chosen.predictedMs, exclude: [report.chosen.key] });
};

export interface CheckOptions {
  cfg: BuildConfig;
  mode: CheckMode;
  baseline?: Baseline;
  openTimer?: OpenTimer;
  onProgress?: (device: string, repeat: number, values: number[]) => void;
  now?: () => number;
}

const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : v > 0 ? '∞' : '−∞');

/** An exact value (a prediction) as an interval of zero width. */
function exactInterval(v: number): Interval {
  return { median: v, lo: v, hi: v, coverage: 1, n: 1 };
}

export interface BaselineValue {
  /** The baseline's median (ms). */
  valueMs: number;
  /** The upper bound of its interval (ms); its median when not known (a prediction). */
  hiMs?: number;
  tolerance: number;
}

/**
 * The verdict on a device from its values so far (measured repeats; or, `exact`, one prediction).
 * A regression is judged against the baseline's upper bound x (1 + tolerance), not its median:
 * the baseline was measured on a noisy machine too, and a baseline that happened to read low
 * must not turn the next check's ordinary reading into a false alarm.
 */
export function decide(values: readonly number[], budgetMs: number, confidence: number, baseline: BaselineValue | null, exact = false) {
  const interval = exact ? exactInterval(values[0]) : medianInterval(values, confidence);
  const budgetVerdict = verdictOf(interval, budgetMs);
  let regression: RegressionCheck | null = null;
  if (baseline) {
    const hiMs = Number.isFinite(baseline.hiMs) ? Math.max(baseline.hiMs!, baseline.valueMs) : baseline.valueMs;
    const ratio = exact ? exactInterval(values[0] / baseline.valueMs) : medianInterval(values.map((v) => v / baseline.valueMs), confidence);
    const limit = (hiMs / baseline.valueMs) * (1 + baseline.tolerance);
    regression = { baselineMs: baseline.valueMs, baselineHiMs: hiMs, ratio, limit, tolerance: baseline.tolerance, verdict: verdictOf(ratio, limit) };
  }
  return { interval, budgetVerdict, regression, verdict: worst([budgetVerdict, ...(regression ? [regression.verdict] : [])]) };
}

export function deviceMessage(d: Pick<DeviceCheck, 'name' | 'mode' | 'interval' | 'budgetMs' | 'budgetVerdict' | 'regression' | 'verdict'>, confidence: number): string {
  const iv = d.interval;
  const what = d.mode === 'predict' ? `predicted at ${fmt(iv.median)} ms` : `${fmt(iv.median)} ms at the LUT speed (${Math.round(confidence * 100)}% interval ${fmt(iv.lo)}-${fmt(iv.hi)} ms over ${iv.n} repeats)`;
  const parts = [`${d.name}: ${what}`];
  parts.push(d.budgetVerdict === 'pass' ? `within the ${d.budgetMs} ms budget` : d.budgetVerdict === 'fail' ? `OVER the ${d.budgetMs} ms budget` : `the ${d.budgetMs} ms budget lies inside the interval`);
  const r = d.regression;
  if (r) {
    const pct = (x: number) => `${x >= 1 ? '+' : ''}${(100 * (x - 1)).toFixed(1)}%`;
    const span = d.mode === 'predict' ? pct(r.ratio.median) : `${pct(r.ratio.median)} (${pct(r.ratio.lo)} to ${pct(r.ratio.hi)})`;
    const base = r.baselineHiMs > r.baselineMs ? `the baseline's ${fmt(r.baselineMs)} ms (upper bound ${fmt(r.baselineHiMs)} ms)` : `the baseline's ${fmt(r.baselineMs)} ms`;
    const lim = `${fmt(r.baselineMs * r.limit)} ms (${r.baselineHiMs > r.baselineMs ? 'its upper bound ' : ''}+${(100 * r.tolerance).toFixed(0)}%)`;
    parts.push(
      r.verdict === 'pass'
        ? `${span} against ${base}, within ${lim}`
        : r.verdict === 'fail'
          ? `REGRESSION: ${span} against ${base}, over ${lim}`
          : `${span} against ${base}: the limit ${lim} lies inside the interval`,
    );
  }
  return `${parts.join('; ')}: ${d.verdict.toUpperCase()}`;
}

async function checkDevice(opts: CheckOptions, target: DeviceTarget, net: () => Supernet): Promise<DeviceCheck> {
  const { cfg } = opts;
  const now = opts.now ?? (() => performance.now());
  const t0 = now();
  const report = readDeviceReport(cfg.out, target.name);
  const modelFile = join(cfg.out, report.model.file);
  if (!existsSync(modelFile)) throw new SncError(`${modelFile} does not exist; run snc build first`);
  const sha256 = fileSha256(modelFile);
  const asBuilt = sha256 === report.model.sha256;
  const base = opts.baseline?.values[target.name];
  const baseline = base !== undefined ? { valueMs: base, hiMs: opts.baseline!.upper[target.name], tolerance: cfg.check.regressionTolerance } : null;
  const confidence = cfg.check.confidence;
  let values: number[] = [];
  let repeats: RelativeRepeat[] = [];
  let references: DeviceCheck['references'] = [];
  if (opts.mode === 'predict') {
    if (!asBuilt) throw new SncError(`${modelFile} is not the model snc build wrote (its sha256 differs from ${join(cfg.out, target.name, 'report.json')}); --mode predict judges the built subnet's prediction: rebuild, or use --mode measure`);
    values = [report.chosen.predictedMs];
  } else {
    if (cfg.check.maxRepeats < minimumRepeats(confidence))
      throw new SncError(`${cfg.source}: check.maxRepeats ${cfg.check.maxRepeats} is too few for a ${confidence} interval of the median; valid: at least ${minimumRepeats(confidence)}`);
    if (!existsSync(report.lut.path)) throw new SncError(`${target.name}: the LUT of its build, ${report.lut.path}, does not exist; run snc build again`);
    const lut = readLut(report.lut.path);
    const bytes = readFileSync(modelFile);
    const subject = { bytes, inputs: modelInputs(decodeModel(bytes, modelFile).graph, modelFile) };
    const timer = await (opts.openTimer ?? openRelativeTimer)(net(), target, lut, subject, report, cfg.check.references);
    references = timer.references;
    try {
      const out = await repeatUntilDecided(
        async (i) => {
          const r = await timer.repeat(cfg.check.repeatSeconds, RUNS_PER_REPEAT, i + 1);
          repeats.push(r);
          opts.onProgress?.(target.name, i + 1, [...repeats.map((x) => x.atLutSpeedMs)]);
          return r.atLutSpeedMs;
        },
        (v) => decide(v, target.budgetMs, confidence, baseline),
        { repeats: Math.min(cfg.check.repeats, cfg.check.maxRepeats), maxRepeats: cfg.check.maxRepeats },
      );
      values = out.values;
    } finally {
      await timer.release();
    }
  }
  const d = decide(values, target.budgetMs, confidence, baseline, opts.mode === 'predict');
  const dc = {
    name: target.name,
    device: target.device.name,
    budgetMs: target.budgetMs,
    mode: opts.mode,
    model: { file: report.model.file, sha256, asBuilt, config: report.chosen.key },
    predictedMs: report.chosen.predictedMs,
    values,
    repeats,
    references,
    ...d,
    seconds: (now() - t0) / 1000,
  };
  return { ...dc, message: deviceMessage(dc, confidence) };
}

export async function check(opts: CheckOptions): Promise<CheckResult> {
  const now = opts.now ?? (() => performance.now());
  const t0 = now();
  if (!CHECK_MODES.includes(opts.mode)) throw new SncError(`check: mode '${opts.mode}' is not one of ${choices([...CHECK_MODES])}`);
  let net: Supernet | undefined;
  const devices: DeviceCheck[] = [];
  for (const t of opts.cfg.devices) devices.push(await checkDevice(opts, t, () => (net ??= loadConfigSupernet(opts.cfg))));
  return {
    format: 'snc-check',
    version: 1,
    at: new Date().toISOString(),
    mode: opts.mode,
    confidence: opts.cfg.check.confidence,
    verdict: worst(devices.map((d) => d.verdict)),
    baseline: opts.baseline?.source ?? null,
    host: hostInfo(),
    devices,
    seconds: (now() - t0) / 1000,
  };
}
