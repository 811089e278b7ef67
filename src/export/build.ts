/**
 * `snc build`: one model per device from one config. Per device, in order: its LUT (lut-source.ts:
 * reused while device, supernet and host kind are unchanged, else profiled once), the search and
 * the choice under the device's budget, the export, a measurement of the exported model against
 * reference subnets. Every step after the LUT is cached by the hash of its inputs (steps.ts).
 *
 * The device steps are one list (DEVICE_STEPS), run in order on a device's state: a step reads
 * what the steps before it left (the choice, the model) and leaves its own. Quantization (devices
 * built at int8 or nupes) is the step between the export and the measurement, keyed by the float
 * model it reads, the calibration set and its settings: it writes the quantized model.onnx (the
 * float one stays beside it as model.float.onnx), measures the AP of both on the validation set
 * and replaces the state's model with the quantized one.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { readCocoDataset, type CocoDataset } from '../data/coco.js';
import { Problems } from '../data/problems.js';
import { synthesize, SYNTH_VERSION } from '../data/synth.js';
import { exportSubnetToFile } from '../detr/export-subnet.js';
import { buildSubnet } from '../detr/model.js';
import { mapClasses } from '../detr/postprocess.js';
import type { SubnetConfig } from '../detr/spec.js';
import { loadSupernet, type Supernet } from '../detr/supernet.js';
import { SncError } from '../errors.js';
import { EvalCache, datasetHash } from '../eval/cache.js';
import type { CocoMetrics } from '../eval/coco-eval.js';
import { hostInfo } from '../latency/host.js';
import { subnetInputs } from '../latency/model-inputs.js';
import { RelativeTimer, type RelativeRepeat } from '../latency/relative.js';
import { quantile } from '../latency/stats.js';
import { checkAvailable, runtimeVersion } from '../latency/runtime.js';
import { encodeModel } from '../onnx/writer.js';
import { calibrationSet } from '../quant/calibrate.js';
import { evaluateModelBytes } from '../quant/evaluate-model.js';
import { formatFor } from '../quant/qdq.js';
import { quantizeModel } from '../quant/quantize.js';
import { fastestSubnet, smallestBudget } from '../search/budget.js';
import { bestUnderBudget } from '../search/pareto.js';
import { search, SEARCH_METRICS, type SearchProgress } from '../search/search.js';
import { writeFileAtomic } from '../util/fs.js';
import type { BuildConfig, DataSource, DeviceTarget } from './config.js';
import { PACKAGE_LUTS, resolveLut, type LutChoice } from './lut-source.js';
import { fileSha256, StepCache } from './steps.js';

export const SNC_VERSION = '0.1.0';
/** The measure step times the model in this many repeats and keeps their medians. */
export const MEASURE_REPEATS = 3;

export interface BuildProgress {
  /** The device folder name, or undefined for shared steps (data). */
  device?: string;
  step: string;
  /** What is happening, for a progress line. */
  detail: string;
  secondsLeft?: number;
}

export interface StepRun {
  name: string;
  cached: boolean;
  seconds: number;
}

export interface EvaluatedSubnet {
  key: string;
  config: SubnetConfig;
  metrics: CocoMetrics;
  predictedMs: number;
}

export interface SearchSummary {
  metric: 'AP' | 'AP50';
  mode: 'pruned' | 'exhaustive';
  evaluated: EvaluatedSubnet[];
  /** Keys of the front, fastest first. */
  front: string[];
  seconds: number;
  fullEvaluations: { run: number; cached: number };
}

export interface Choice {
  key: string;
  config: SubnetConfig;
  metrics: CocoMetrics;
  predictedMs: number;
  reason: string;
}

export interface BuiltModel {
  /** Absolute path. */
  path: string;
  sha256: string;
  bytes: number;
  precision: string;
}

/** What quantization did to the chosen subnet (devices built at int8 or nupes). */
export interface QuantizationSummary {
  precision: string;
  /** int8: the QDQ format and why; nupes: undefined. */
  format?: string;
  formatWhy?: string;
  ranges?: string;
  perChannel: boolean;
  calibrationImages: number;
  layersQuantized: number;
  keptFloat: number;
  /** The float model kept beside the quantized one. */
  floatModel: { path: string; bytes: number };
  bytes: { float: number; quantized: number };
  /** AP and AP50 of the float and the quantized model on the validation set. */
  ap: { images: number; float: number; quantized: number; ap50Float: number; ap50Quantized: number };
  seconds: number;
}

/** Medians over MEASURE_REPEATS repeats. */
export interface ModelMeasurement {
  measuredMs: number;
  spread: number;
  /** The machine's speed against the LUT while it was measured (references' median measured / predicted). */
  factor: number;
  atLutSpeedMs: number;
  references: { key: string; predictedMs: number; measuredMs: number }[];
  seconds: number;
  at: string;
}

/** What the device steps read and leave. */
export interface DeviceState {
  target: DeviceTarget;
  lut: LutChoice;
  lutSha256: string;
  search?: SearchSummary;
  choice?: Choice;
  model?: BuiltModel;
  quantization?: QuantizationSummary;
  measurement?: ModelMeasurement | null;
  /** Why the model was not measured (a device this machine cannot run). */
  notMeasured?: string;
  steps: StepRun[];
}

export interface BuildContext {
  cfg: BuildConfig;
  net: Supernet;
  data: CocoDataset;
  dataHash: string;
  /** The calibration set (when a device is quantized) and its hash. */
  calibration?: { dir: string; hash: string };
  cache: StepCache;
  evalCache: EvalCache | null;
  onProgress: (p: BuildProgress) => void;
}

export interface DeviceStep {
  name: string;
  /** Whether the step is part of this device's build (default: always). */
  applies?(s: DeviceState): boolean;
  /** Everything the step's result depends on. */
  inputs(s: DeviceState, ctx: BuildContext): unknown;
  run(s: DeviceState, ctx: BuildContext): Promise<{ result: unknown; files?: string[] }>;
  /** Leaves the (run or cached) result in the state. */
  apply(s: DeviceState, result: unknown): void;
}

const need = <T>(v: T | undefined, what: string): T => {
  if (v === undefined) throw new Error(`build: ${what} is missing (the device steps are out of order)`);
  return v;
};

export const searchStep: DeviceStep = {
  name: 'search',
  inputs: (s, ctx) => ({ weights: ctx.net.weights.hash, data: ctx.dataHash, lut: s.lutSha256, metric: ctx.cfg.search.metric, exhaustive: ctx.cfg.search.exhaustive, includeUntrained: ctx.cfg.search.includeUntrained }),
  async run(s, ctx) {
    const r = await search({
      net: ctx.net,
      data: ctx.data,
      luts: [{ path: s.lut.path, lut: s.lut.lut }],
      metric: SEARCH_METRICS[ctx.cfg.search.metric],
      exhaustive: ctx.cfg.search.exhaustive,
      includeUntrained: ctx.cfg.search.includeUntrained,
      workers: ctx.cfg.search.workers,
      cache: ctx.evalCache,
      onProgress: (p: SearchProgress) =>
        ctx.onProgress({ device: s.target.name, step: 'search', detail: `${p.phase === 'screen' ? 'screening' : 'evaluating'} subnet groups ${p.done}/${p.total}`, secondsLeft: p.secondsLeft }),
    });
    const summary: SearchSummary = {
      metric: r.metric,
      mode: r.mode,
      evaluated: r.subnets.filter((x) => x.metrics).map((x) => ({ key: x.key, config: x.config, metrics: x.metrics!, predictedMs: x.predictedMs[0] })),
      front: r.devices[0].front.map((f) => f.key),
      seconds: r.seconds,
      fullEvaluations: { run: r.counts.fullRun, cached: r.counts.fullCached },
    };
    return { result: summary };
  },
  apply: (s, r) => (s.search = r as SearchSummary),
};

/** The most accurate evaluated subnet predicted within the budget. */
export function choose(search: SearchSummary, budgetMs: number, device: string): Choice {
  const pts = search.evaluated.map((e) => ({ latency: e.predictedMs, accuracy: e.metrics[search.metric] }));
  const k = bestUnderBudget(pts, budgetMs);
  if (k === undefined) {
    const fastest = search.evaluated.reduce((a, b) => (b.predictedMs < a.predictedMs ? b : a));
    throw new SncError(`build: no evaluated subnet is predicted within ${budgetMs} ms on ${device}; the fastest evaluated, ${fastest.key}, is predicted at ${fastest.predictedMs.toFixed(2)} ms`);
  }
  const e = search.evaluated[k];
  return { ...e, reason: `the most accurate (${search.metric} ${e.metrics[search.metric].toFixed(3)}) of ${search.evaluated.length} evaluated subnets predicted within ${budgetMs} ms` };
}

export const chooseStep: DeviceStep = {
  name: 'choose',
  inputs: (s, ctx) => ({ search: searchStep.inputs(s, ctx), budgetMs: s.target.budgetMs }),
  run: async (s) => ({ result: choose(need(s.search, 'the search'), s.target.budgetMs, s.target.device.name) }),
  apply: (s, r) => (s.choice = r as Choice),
};

/** Where the export writes: model.onnx, or model.float.onnx when a quantize step follows. */
export function floatModelPath(cfg: BuildConfig, t: DeviceTarget): string {
  return t.precision === 'fp32' ? modelPath(cfg, t) : join(cfg.out, t.name, 'model.float.onnx');
}

export const exportStep: DeviceStep = {
  name: 'export',
  inputs: (s, ctx) => ({ weights: ctx.net.weights.hash, config: need(s.choice, 'the choice').key, precision: 'fp32', snc: SNC_VERSION, out: floatModelPath(ctx.cfg, s.target) }),
  async run(s, ctx) {
    const path = floatModelPath(ctx.cfg, s.target);
    const bytes = exportSubnetToFile(ctx.net, need(s.choice, 'the choice').config, path);
    return { result: { path, sha256: fileSha256(path), bytes: bytes.length, precision: 'fp32' } satisfies BuiltModel, files: [path] };
  },
  apply: (s, r) => (s.model = r as BuiltModel),
};

export const quantizeStep: DeviceStep = {
  name: 'quantize',
  applies: (s) => s.target.precision !== 'fp32',
  inputs: (s, ctx) => ({
    model: need(s.model, 'the float model').sha256,
    calibration: need(ctx.calibration, 'the calibration set').hash,
    data: ctx.dataHash,
    precision: s.target.precision,
    quant: s.target.quant,
    format: s.target.precision === 'int8' ? formatFor(s.target.device.runtime).format : undefined,
    snc: SNC_VERSION,
    out: modelPath(ctx.cfg, s.target),
  }),
  async run(s, ctx) {
    const t0 = performance.now();
    const choice = need(s.choice, 'the choice');
    const float = need(s.model, 'the float model');
    const { precision, quant, device } = s.target;
    const set = calibrationSet(need(ctx.calibration, 'the calibration set').dir, { resolution: choice.config.resolution, preprocess: ctx.net.spec.preprocess }, quant.calibrationImages, 'data.calibration');
    const int8 = precision === 'int8';
    const chosen = formatFor(device.runtime);
    let phase = 'calibration';
    const report = (what: string) => (n: number, total: number) => ctx.onProgress({ device: s.target.name, step: 'quantize', detail: `${what} ${n}/${total} images` });
    const res = await quantizeModel(
      buildSubnet(ctx.net, choice.config),
      set,
      { ranges: quant.ranges, weights: precision as Exclude<typeof precision, 'fp32'>, perChannel: quant.perChannel, format: chosen.format, formatWhy: chosen.why, sqnrImages: 0 },
      { onPhase: (p) => (phase = p), onProgress: (n, total) => report(phase)(n, total) },
    );
    const bytes = encodeModel(res.model);
    const path = modelPath(ctx.cfg, s.target);
    writeFileAtomic(path, bytes);
    const problems = new Problems(false);
    const a = await evaluateModelBytes(readFileSync(float.path), float.path, ctx.data, problems, { onProgress: report('AP of the float model') });
    const b = await evaluateModelBytes(bytes, path, ctx.data, problems, { onProgress: report('AP of the quantized model') });
    const summary: QuantizationSummary = {
      precision,
      ...(int8 ? { format: chosen.format, formatWhy: chosen.why, ranges: quant.ranges } : {}),
      perChannel: quant.perChannel,
      calibrationImages: res.calibrationImages,
      layersQuantized: res.layers.length,
      keptFloat: res.float.length,
      floatModel: { path: float.path, bytes: float.bytes },
      bytes: { float: float.bytes, quantized: bytes.length },
      ap: { images: a.images, float: a.metrics.AP, quantized: b.metrics.AP, ap50Float: a.metrics.AP50, ap50Quantized: b.metrics.AP50 },
      seconds: (performance.now() - t0) / 1000,
    };
    const model: BuiltModel = { path, sha256: fileSha256(path), bytes: bytes.length, precision };
    return { result: { model, quantization: summary }, files: [path] };
  },
  apply(s, r) {
    const x = r as { model: BuiltModel; quantization: QuantizationSummary };
    s.model = x.model;
    s.quantization = x.quantization;
  },
};

export const measureStep: DeviceStep = {
  name: 'measure',
  inputs: (s, ctx) => {
    const h = hostInfo();
    return {
      model: need(s.model, 'the model').sha256,
      device: s.target.device,
      host: { cpu: h.cpu, cores: h.cores, platform: h.platform, arch: h.arch },
      runtime: runtimeVersion(s.target.device),
      lut: s.lutSha256,
      seconds: s.target.measureSeconds,
      references: ctx.cfg.check.references,
    };
  },
  async run(s, ctx) {
    try {
      await checkAvailable(s.target.device);
    } catch (e) {
      if (!(e instanceof SncError)) throw e;
      return { result: { measurement: null, notMeasured: e.message } };
    }
    const choice = need(s.choice, 'the choice');
    const model = need(s.model, 'the model');
    const t0 = performance.now();
    const timer = await RelativeTimer.open(ctx.net, s.target.device, s.lut.lut, { bytes: readFileSync(model.path), inputs: subnetInputs(choice.config) }, { references: ctx.cfg.check.references, aroundMs: choice.predictedMs, exclude: [choice.key] });
    try {
      // three repeats, each with its own speed factor: a shared machine's phase changes within seconds
      const repeats: RelativeRepeat[] = [];
      const secs = s.target.measureSeconds / MEASURE_REPEATS;
      for (let i = 0; i < MEASURE_REPEATS; i++)
        repeats.push(
          await timer.repeat(secs, 5, i + 1, () =>
            ctx.onProgress({ device: s.target.name, step: 'measure', detail: `timing the model and ${timer.references.length} reference subnets, repeat ${i + 1}/${MEASURE_REPEATS}`, secondsLeft: Math.max(0, s.target.measureSeconds - (performance.now() - t0) / 1000) }),
          ),
        );
      const med = (f: (r: RelativeRepeat) => number) => quantile(repeats.map(f).sort((a, b) => a - b), 0.5);
      const m: ModelMeasurement = {
        measuredMs: med((r) => r.measuredMs),
        spread: med((r) => r.spread),
        factor: med((r) => r.factor),
        atLutSpeedMs: med((r) => r.atLutSpeedMs),
        references: timer.references.map((ref, i) => ({ ...ref, measuredMs: med((r) => r.referencesMs[i]) })),
        seconds: (performance.now() - t0) / 1000,
        at: new Date().toISOString(),
      };
      return { result: { measurement: m } };
    } finally {
      await timer.release();
    }
  },
  apply(s, r) {
    const x = r as { measurement: ModelMeasurement | null; notMeasured?: string };
    s.measurement = x.measurement;
    s.notMeasured = x.notMeasured;
  },
};

/** The steps after the LUT, in order. */
export const DEVICE_STEPS: readonly DeviceStep[] = [searchStep, chooseStep, exportStep, quantizeStep, measureStep];

export function modelPath(cfg: BuildConfig, t: DeviceTarget): string {
  return join(cfg.out, t.name, 'model.onnx');
}

/** The supernet named in the config: a folder (relative to the config) or a preset. */
export function loadConfigSupernet(cfg: BuildConfig): Supernet {
  const local = resolve(cfg.root, cfg.supernet);
  return loadSupernet(existsSync(local) && statSync(local).isDirectory() ? local : cfg.supernet);
}

/** A data set of the config: the folder as given, or a synthetic set generated on first use. */
export async function ensureData(cfg: BuildConfig, v: DataSource, key: 'validation' | 'calibration', onProgress: (p: BuildProgress) => void): Promise<string> {
  if (v.kind === 'folder') return v.dir;
  const ann = join(v.dir, 'annotations.json');
  if (existsSync(ann)) {
    let info: { generator?: string; version?: string; seed?: number; size?: number; images?: number } | undefined;
    try {
      info = JSON.parse(readFileSync(ann, 'utf8')).info;
    } catch {
      info = undefined;
    }
    const same = info?.generator === 'snc data synth' && info.version === String(SYNTH_VERSION) && info.seed === v.synth.seed && info.size === v.synth.size && info.images === v.synth.images;
    if (same) return v.dir;
    throw new SncError(
      `${cfg.source}: data.${key}.synth.dir ${v.dir} already holds a data set that is not ${v.synth.images} synthetic images of seed ${v.synth.seed} at ${v.synth.size} px; delete that folder or name another dir`,
    );
  }
  // no annotations.json: nothing there, or a set whose generation was interrupted (synthesize
  // writes the annotations last); force lets it replace its own numbered images, nothing else
  await synthesize({ out: v.dir, images: v.synth.images, seed: v.synth.seed, size: v.synth.size, force: true, onProgress: (done, total) => onProgress({ step: 'data', detail: `generating the synthetic ${key} set: ${done}/${total} images` }) });
  return v.dir;
}

/** The validation folder: as given, or a synthetic set generated on first use. */
export function ensureValidation(cfg: BuildConfig, onProgress: (p: BuildProgress) => void): Promise<string> {
  return ensureData(cfg, cfg.validation, 'validation', onProgress);
}

export interface BuildOptions {
  cfg: BuildConfig;
  onProgress?: (p: BuildProgress) => void;
  /** Evaluation cache (default EvalCache.default(); null: none). */
  evalCache?: EvalCache | null;
  /** Folders holding lut/<device>/<supernet>.json (default: beside the config, then the package's). */
  lutRoots?: string[];
  /** Steps run per device (default DEVICE_STEPS). */
  steps?: readonly DeviceStep[];
}

export interface BuildResult {
  cfg: BuildConfig;
  net: Supernet;
  dataDir: string;
  dataImages: number;
  dataHash: string;
  devices: DeviceState[];
  seconds: number;
}

export async function build(opts: BuildOptions): Promise<BuildResult> {
  const t0 = performance.now();
  const { cfg } = opts;
  const onProgress = opts.onProgress ?? (() => {});
  const net = loadConfigSupernet(cfg);
  // every LUT first, so that an impossible budget is said before the data set and minutes of search
  const lutRoots = opts.lutRoots ?? [join(cfg.root, 'lut'), PACKAGE_LUTS];
  const states: DeviceState[] = [];
  for (const target of cfg.devices) {
    const t = performance.now();
    const lut = await resolveLut(net, target.device, {
      configured: target.lut,
      committedRoots: [...new Set(lutRoots.map((r) => resolve(r)))],
      onProfileProgress: (p) => onProgress({ device: target.name, step: 'lut', detail: `profiling ${target.device.name}: ${p.phase} ${p.done}/${p.total}`, secondsLeft: p.etaSeconds }),
    });
    states.push({ target, lut, lutSha256: fileSha256(lut.path), steps: [{ name: 'lut', cached: lut.source !== 'profiled', seconds: (performance.now() - t) / 1000 }] });
    const fastest = fastestSubnet(net, lut.lut, cfg.search.includeUntrained);
    if (fastest.predictedMs > target.budgetMs)
      throw new SncError(
        `${cfg.source}: devices[${target.index}].budgetMs ${target.budgetMs} is impossible on ${target.device.name}: the fastest subnet, ${fastest.key}, is predicted at ${fastest.predictedMs.toFixed(2)} ms (LUT ${relative(process.cwd(), lut.path) || lut.path}); valid: a budget of at least ${smallestBudget(fastest)} ms`,
      );
  }
  const dataDir = await ensureValidation(cfg, onProgress);
  const data = readCocoDataset(dataDir, {}, new Problems());
  if (!data.images.length) throw new SncError(`${cfg.source}: the validation set ${dataDir} lists no images`);
  mapClasses(net.spec.classes, data.categories);
  let calibration: BuildContext['calibration'];
  if (cfg.calibration) {
    const dir = await ensureData(cfg, cfg.calibration, 'calibration', onProgress);
    const calib = readCocoDataset(dir, {}, new Problems());
    if (!calib.images.length) throw new SncError(`${cfg.source}: the calibration set ${dir} lists no images`);
    calibration = { dir, hash: datasetHash(calib) };
  }
  const ctx: BuildContext = {
    cfg,
    net,
    data,
    dataHash: datasetHash(data),
    ...(calibration ? { calibration } : {}),
    cache: new StepCache(join(cfg.out, '.cache')),
    evalCache: opts.evalCache === undefined ? EvalCache.default() : opts.evalCache,
    onProgress,
  };

  for (const s of states)
    for (const step of opts.steps ?? DEVICE_STEPS) {
      if (step.applies && !step.applies(s)) continue;
      onProgress({ device: s.target.name, step: step.name, detail: 'starting' });
      const out = await ctx.cache.run(`${step.name}-${s.target.name}`, step.inputs(s, ctx), () => step.run(s, ctx));
      step.apply(s, out.result);
      s.steps.push({ name: step.name, cached: out.cached, seconds: out.seconds });
    }
  return { cfg, net, dataDir, dataImages: data.images.length, dataHash: ctx.dataHash, devices: states, seconds: (performance.now() - t0) / 1000 };
}
