/**
 * Subnet selection: the accuracy/latency Pareto front of a trained supernet's subnets on every
 * device, and the most accurate subnet within a latency budget. Documented in docs/search.md.
 *
 * Accuracy is measured on a validation set (no retraining: every subnet uses the shared
 * weights); latency is predicted from each device's LUT. Evaluation is the whole cost, so:
 * - the unit of work is a *group* (resolution, patch, windows): one multi-exit run scores all its
 *   subnets, every decoder depth and query count, on one backbone run (multi-exit.ts);
 * - every evaluation is cached on disk (src/eval/cache.ts), so a repeated search runs none;
 * - in the default (pruned) mode every group is first scored on a small subset of the images;
 *   groups go to a full evaluation, most promising first, only while some subnet that has not
 *   been fully evaluated could still be on some device's front: its accuracy predicted from the
 *   subset (accuracy-predictor.ts) plus an error margin must not be beaten by a fully evaluated
 *   subnet that is at least as fast. The fronts are then computed from full evaluations only.
 * - evaluations run in parallel (src/eval/pool.ts), in rounds of at most `workers` groups chosen from
 *   what is known when the round starts, so the sequence of evaluations, and their count, does
 *   not depend on timing.
 */
import type { CocoDataset } from '../data/coco.js';
import { SncError, choices } from '../errors.js';
import type { HostInfo } from '../latency/host.js';
import { checkLutUse, type Lut } from '../latency/lut.js';
import { LatencyPredictor } from '../latency/predictor.js';
import { checkAvailable } from '../latency/runtime.js';
import { checkSpeed, type SpeedCheck, type SpeedCheckOptions } from '../latency/speed-check.js';
import { fitAccuracyPredictor, type AccuracyPredictor } from './accuracy-predictor.js';
import type { CocoMetrics } from '../eval/coco-eval.js';
import { subnetCost } from '../detr/cost.js';
import { EvalCache, datasetHash, imagesKey, type EvalKey } from '../eval/cache.js';
import { EvalPool, GroupEvaluationFailed, type GroupEvaluator } from '../eval/pool.js';
import { defaultThreads } from '../eval/evaluate.js';
import { DEFAULT_BOOTSTRAP_SAMPLES, DEFAULT_BOOTSTRAP_SEED, differenceSpread, withoutResamples, type BootstrapSpread, type DifferenceSpread } from '../eval/bootstrap.js';
import type { GroupEvaluation, GroupTask, ImageDetections } from '../eval/multi-exit.js';
import { beats, paretoFront } from './pareto.js';
import { DEFAULT_TOP_K } from '../detr/postprocess.js';
import { configKey, enumerateConfigs, untrainedKnobs, type SubnetConfig } from '../detr/spec.js';
import type { Supernet } from '../detr/supernet.js';
import { sha256 } from '../detr/supernet.js';

export type SearchMetric = 'AP' | 'AP50';
/** --metric values. */
export const SEARCH_METRICS: Readonly<Record<string, SearchMetric>> = { ap: 'AP', ap50: 'AP50' };
export const DEFAULT_SUBSET = 100;
export const DEFAULT_MARGIN = 0.01;
/** The margin is at least this many times the predictor's largest leave-one-out error. */
export const MARGIN_SAFETY = 1.5;

/** A device's LUT and the file it was read from. */
export interface SearchLut {
  path: string;
  lut: Lut;
}

export interface SearchOptions {
  net: Supernet;
  /** The validation set (readCocoDataset). */
  data: CocoDataset;
  /** One LUT per device, all profiled for this supernet's family. */
  luts: SearchLut[];
  /** Accuracy axis (default 'AP', AP@[.5:.95]). */
  metric?: SearchMetric;
  /** Choose, per device, the most accurate subnet predicted within this many ms. */
  budgetMs?: number;
  /** Evaluate every group on every image (no subset, no pruning). */
  exhaustive?: boolean;
  /** Search subnets that use knob values the weights were not trained at too (spec.untrained; default: left out). */
  includeUntrained?: boolean;
  /** Images of the screening subset (default 100); a subset as large as the set means exhaustive. */
  subset?: number;
  /** Smallest accuracy margin for ruling a subnet out from its subset score (default 0.01). */
  margin?: number;
  /** Groups evaluated at once (default: cores − 1, at least 1). */
  workers?: number;
  /** Detections kept per image (default 100). */
  topK?: number;
  /** Images decoded ahead per worker (default 4). */
  prefetch?: number;
  /** Where evaluations are kept (default EvalCache.default()); null: none read or written. */
  cache?: EvalCache | null;
  /** What runs the evaluations (default: an EvalPool of `workers` onnxruntime-node threads). */
  evaluator?: GroupEvaluator;
  /**
   * After the evaluations, time reference subnets on every LUT's device that runs on this
   * machine and choose under the budget at the measured speed: predicted × the speed factor
   * (speed-check.ts). Devices this machine cannot run keep their LUT's speed (see
   * DeviceResult.speedCheckSkipped). Not cached: it measures the machine as it is now.
   */
  speedCheck?: boolean | Pick<SpeedCheckOptions, 'references' | 'measure' | 'time'>;
  /**
   * Resamples of the bootstrap over images that estimates each fully evaluated subnet's sampling
   * error of AP and AP50 (default 200; 0: none). Seeded (DEFAULT_BOOTSTRAP_SEED), the same
   * resamples for every subnet.
   */
  bootstrap?: number;
  onProgress?: (p: SearchProgress) => void;
}

export interface SearchProgress {
  phase: 'screen' | 'full' | 'speed-check';
  /** Group evaluations finished in this phase (run or found in the cache); speed-check: timed runs. */
  done: number;
  /** Group evaluations of this phase: done + running + those that may still be needed (an upper bound in the full phase); speed-check: runs to time. */
  total: number;
  /** speed-check: the device being timed. */
  device?: string;
  counts: SearchCounts;
  /** Estimated from the speed so far (full phase: if every group still in doubt is evaluated); undefined before any run. */
  secondsLeft?: number;
}

export interface SearchCounts {
  /** Valid configs of the grid. */
  configs: number;
  /** Groups (resolution, patch, windows); an exhaustive search evaluates each once on every image. */
  groups: number;
  /** Multi-exit evaluations on every image this search needed (run + cached). */
  fullEvaluations: number;
  fullRun: number;
  fullCached: number;
  /** Multi-exit evaluations on the screening subset (run + cached). */
  subsetEvaluations: number;
  subsetRun: number;
  subsetCached: number;
  /** Configs with metrics on every image. */
  configsEvaluated: number;
  /** Configs ruled out from their subset score (never evaluated on every image). */
  configsRuledOut: number;
  /** Configs of groups whose evaluation failed (see SearchResult.missing): neither evaluated nor ruled out. */
  configsMissing: number;
  /** Full-phase rounds (at most `workers` groups each). */
  rounds: number;
  /**
   * Images of full evaluations scored from the group's screening run instead of being run again
   * (the subset's detections are kept in memory; a screening found in the cache has none).
   */
  imagesReused: number;
}

export interface SubnetResult {
  config: SubnetConfig;
  key: string;
  /** configKey of the group's deepest subnet with the most queries (the multi-exit run that scores this one). */
  group: string;
  /** Twelve metrics on every image, when evaluated there. */
  metrics: CocoMetrics | null;
  /** The evaluation's sampling error of AP and AP50 (bootstrap over the images), when evaluated there with a bootstrap. */
  spread: BootstrapSpread | null;
  /** The search metric on the screening subset, when screened. */
  subsetMetric: number | null;
  /** Predicted accuracy on every image, from the subset (when not evaluated there). */
  predictedMetric: number | null;
  /** Predicted latency per device, in the order of `devices`. */
  predictedMs: number[];
  /** 'missing': its group's evaluation failed (SearchResult.missing). */
  status: 'evaluated' | 'ruled-out' | 'missing';
}

export interface FrontEntry {
  config: SubnetConfig;
  key: string;
  metrics: CocoMetrics;
  /** Bootstrap over the images of AP and AP50: std and 90% interval (null when the search ran none). */
  spread: BootstrapSpread | null;
  predictedMs: number;
  /** What this entry adds over the previous (faster) one on the front; null for the fastest, or without a bootstrap. */
  gain?: FrontGain | null;
}

/** The search metric's rise from one front entry to the next, against the evaluation's sampling error. */
export interface FrontGain extends DifferenceSpread {
  /** The measured rise (this entry's metric minus the previous entry's). */
  value: number;
  /** More than the sampling error: the rise's 90% bootstrap interval lies above zero. */
  separated: boolean;
}

export interface DeviceResult {
  /** The LUT's device name. */
  device: string;
  /** The machine the LUT was measured on. */
  host: HostInfo;
  lut: { file: string; sha256: string; familyHash: string; runtime: string; calibrated: boolean; updatedAt: string };
  /** Fastest first; accuracy strictly rising. */
  front: FrontEntry[];
  /** The most accurate subnet predicted within the budget (at speedCheck.factor when checked), or null (see chosenReason). */
  chosen: FrontEntry | null;
  chosenReason: string;
  /** This machine's speed on the device at the end of the search, when asked for and possible. */
  speedCheck: SpeedCheck | null;
  /** Why a speed check asked for was not made on this device. */
  speedCheckSkipped?: string;
  /** Configs evaluated on every image (the front is computed from these). */
  evaluated: number;
  /** Neighbouring front entries whose rise exceeds the sampling error (FrontGain.separated), of all neighbouring pairs; null without a bootstrap. */
  separation: { pairs: number; separated: number; paired: boolean } | null;
}

export interface SearchResult {
  format: 'snc-pareto';
  version: 1;
  supernet: { name: string; dir: string; weightsSha256: string };
  data: { annotations: string; imagesDir: string; images: number; hash: string; subsetImages: number | null; skippedImages: number };
  metric: SearchMetric;
  mode: 'pruned' | 'exhaustive';
  budgetMs: number | null;
  topK: number;
  workers: number;
  evaluator: string;
  /** The bootstrap behind every `spread` (resamples over the images, seed), or null. */
  bootstrap: { samples: number; seed: number } | null;
  /** The subset-to-full predictor at the end (pruned mode). */
  predictor: { offset: number; pairs: number; maxLooError: number | null; margin: number; marginFloor: number; safety: number } | null;
  counts: SearchCounts;
  devices: DeviceResult[];
  subnets: SubnetResult[];
  /** Wall time of the search, seconds. */
  seconds: number;
  /** Sum of the wall times of the evaluations run (not cached), seconds. */
  evaluationSeconds: number;
  /**
   * Group evaluations that failed (a queued job that failed on every attempt), with the reason.
   * Their subnets have no metrics (a group whose screening failed is not ruled out: its full
   * evaluation is tried); the fronts are those of the other subnets. Empty when complete.
   */
  missing: MissingEvaluation[];
}

export interface MissingEvaluation {
  /** The group: resolution, patch, windows. */
  group: string;
  phase: 'screen' | 'full';
  reason: string;
}

interface Group {
  index: number;
  key: string;
  /** The deepest subnet with the most queries. */
  deep: SubnetConfig;
  /** Indices into the config list. */
  members: number[];
  /** Decoder depths and query counts of its members, ascending. */
  depths: number[];
  queries: number[];
  /** FLOPs of one multi-exit run: the backbone once, the deepest decoder of every query count. */
  cost: number;
}

function groupOf(c: SubnetConfig): string {
  return `res=${c.resolution},patch=${c.patch},windows=${c.windows}`;
}

/** Evenly spaced images of the set (deterministic), or null when the subset would be the whole set. */
export function screeningSubset(ds: CocoDataset, n: number): number[] | null {
  const N = ds.images.length;
  if (n >= N) return null;
  return Array.from({ length: n }, (_, i) => ds.images[Math.floor(((i + 0.5) * N) / n)].id);
}

function checkOptions(o: SearchOptions): void {
  if (!o.luts.length) throw new SncError('search: give at least one --lut (a latency LUT of this supernet, from snc profile)');
  if (o.budgetMs !== undefined && !(Number.isFinite(o.budgetMs) && o.budgetMs > 0)) throw new SncError(`search: budget ${o.budgetMs} ms is not a number > 0`);
  if (o.metric !== undefined && !Object.values(SEARCH_METRICS).includes(o.metric)) throw new SncError(`search: metric '${o.metric}' is not one of ${choices(Object.values(SEARCH_METRICS))}`);
  if (o.margin !== undefined && !(Number.isFinite(o.margin) && o.margin >= 0)) throw new SncError(`search: margin ${o.margin} is not a number >= 0`);
  if (o.subset !== undefined && !(Number.isInteger(o.subset) && o.subset >= 1)) throw new SncError(`search: subset ${o.subset} is not an integer >= 1`);
  if (!o.data.images.length) throw new SncError(`search: ${o.data.annotationsFile} lists no images`);
  for (const { path, lut } of o.luts) checkLutUse(lut, path, { spec: o.net.spec });
}

/** Runs the search. The evaluator it creates (when none is given) is closed before it returns. */
export async function search(opts: SearchOptions): Promise<SearchResult> {
  checkOptions(opts);
  const t0 = performance.now();
  const { net, data: ds } = opts;
  const metric = opts.metric ?? 'AP';
  const topK = opts.topK ?? DEFAULT_TOP_K;
  const workers = Math.max(1, opts.workers ?? defaultThreads());
  const marginFloor = opts.margin ?? DEFAULT_MARGIN;
  const cache = opts.cache === undefined ? EvalCache.default() : opts.cache;

  const configs = enumerateConfigs(net.spec.knobs, net.spec.architecture).filter((c) => opts.includeUntrained || !untrainedKnobs(net.spec, c).length);
  const predictors = opts.luts.map(({ lut }) => new LatencyPredictor(lut, net.spec.architecture));
  const latency = predictors.map((p) => configs.map((c) => p.predict(c)));

  const groupsByKey = new Map<string, Group>();
  configs.forEach((c, i) => {
    const k = groupOf(c);
    let g = groupsByKey.get(k);
    if (!g) groupsByKey.set(k, (g = { index: groupsByKey.size, key: k, deep: c, members: [], depths: [], queries: [], cost: 0 }));
    g.members.push(i);
    if (!g.depths.includes(c.layers)) g.depths.push(c.layers);
    if (!g.queries.includes(c.queries)) g.queries.push(c.queries);
    if (c.layers > g.deep.layers || (c.layers === g.deep.layers && c.queries > g.deep.queries)) g.deep = c;
  });
  const groups = [...groupsByKey.values()];
  for (const g of groups) {
    g.depths.sort((a, b) => a - b);
    g.queries.sort((a, b) => a - b);
    const flops = (queries: number, layers: number) => subnetCost(net.spec.architecture, { ...g.deep, queries, layers }).flops;
    g.cost = flops(g.deep.queries, g.deep.layers) + g.queries.filter((q) => q !== g.deep.queries).reduce((s, q) => s + flops(q, g.deep.layers) - flops(q, 0), 0);
  }
  const groupOfConfig = new Int32Array(configs.length);
  for (const g of groups) for (const i of g.members) groupOfConfig[i] = g.index;

  const subsetIds = opts.exhaustive ? null : screeningSubset(ds, opts.subset ?? DEFAULT_SUBSET);
  /** The images a full evaluation runs after its group's screening (the rest of the set). */
  const inSubset = new Set(subsetIds ?? []);
  const outsideSubset = subsetIds ? ds.images.map((im) => im.id).filter((id) => !inSubset.has(id)) : null;
  const mode: SearchResult['mode'] = subsetIds ? 'pruned' : 'exhaustive';

  const counts: SearchCounts = {
    configs: configs.length,
    groups: groups.length,
    fullEvaluations: 0,
    fullRun: 0,
    fullCached: 0,
    subsetEvaluations: 0,
    subsetRun: 0,
    subsetCached: 0,
    configsEvaluated: 0,
    configsRuledOut: 0,
    configsMissing: 0,
    rounds: 0,
    imagesReused: 0,
  };

  const full: (CocoMetrics | null)[] = configs.map(() => null);
  const spread: (BootstrapSpread | null)[] = configs.map(() => null);
  const bootstrap = (opts.bootstrap ?? DEFAULT_BOOTSTRAP_SAMPLES) > 0 ? { samples: opts.bootstrap ?? DEFAULT_BOOTSTRAP_SAMPLES, seed: DEFAULT_BOOTSTRAP_SEED } : null;
  /** Each screened group's detections per subnet, until its full evaluation uses them. */
  const screened = new Map<number, { detections: Record<string, ImageDetections[]>; skippedImages: number }>();
  const sub: (number | null)[] = configs.map(() => null);
  let skippedImages = 0;
  let evaluationSeconds = 0;
  const missing: MissingEvaluation[] = [];
  // seconds per (FLOP x image), learnt from the runs so far, for the time left
  let ranCost = 0;
  let ranSeconds = 0;

  const dataHash = cache ? datasetHash(ds) : '';
  let evaluator = opts.evaluator;
  const ownEvaluator = !evaluator;
  const evaluatorId = () => (evaluator ??= new EvalPool(net, ds, { workers, topK, prefetch: opts.prefetch })).id;
  const keyOf = (c: SubnetConfig, images: number[] | null): EvalKey => ({ weights: net.weights.hash, data: dataHash, config: configKey(c), topK, images: imagesKey(images), evaluator: evaluatorId() });

  /** Runs (or finds in the cache) one group task; fills `full` or `sub`. */
  const runGroup = async (g: Group, images: number[] | null): Promise<void> => {
    const isFull = images === null;
    const store = (i: number, m: CocoMetrics, s?: BootstrapSpread) => {
      if (isFull) {
        full[i] = m;
        spread[i] = s ?? null;
      } else sub[i] = m[metric];
    };
    if (cache) {
      const hits = g.members.map((i) => cache.get(keyOf(configs[i], images)));
      // a full evaluation cached without the bootstrap asked for now runs again
      const spreadOk = (s: BootstrapSpread | undefined) => !isFull || !bootstrap || (s?.samples === bootstrap.samples && s.seed === bootstrap.seed);
      if (hits.every((h) => h && spreadOk(h.spread))) {
        g.members.forEach((i, k) => store(i, hits[k]!.metrics, hits[k]!.spread));
        if (isFull) counts.fullCached++;
        else counts.subsetCached++;
        return;
      }
    }
    evaluatorId();
    const task: GroupTask = { config: g.deep, depths: g.depths, queries: g.queries, images, ...(isFull && bootstrap ? { bootstrap } : {}) };
    // a group's screening detections count towards its full evaluation: only the other images run
    const prior = isFull ? screened.get(g.index) : undefined;
    if (prior && outsideSubset) {
      task.images = outsideSubset;
      task.prior = prior.detections;
    } else if (!isFull && evaluator!.reusesDetections) task.keepDetections = true;
    let r: GroupEvaluation;
    try {
      r = await evaluator!.evaluate(task);
    } catch (e) {
      if (!(e instanceof GroupEvaluationFailed)) throw e;
      missing.push({ group: g.key, phase: isFull ? 'full' : 'screen', reason: e.message });
      return;
    }
    if (r.detections && !isFull) screened.set(g.index, { detections: r.detections, skippedImages: r.skippedImages });
    if (isFull) screened.delete(g.index);
    const ran = r.images - (r.priorImages ?? 0);
    counts.imagesReused += r.priorImages ?? 0;
    evaluationSeconds += r.seconds;
    ranCost += g.cost * ran;
    ranSeconds += r.seconds;
    if (isFull) skippedImages = Math.max(skippedImages, r.skippedImages + (task.prior ? prior!.skippedImages : 0));
    for (const i of g.members) {
      const m = r.metrics[configKey(configs[i])];
      if (!m) throw new Error(`evaluator returned no metrics for ${configKey(configs[i])} (group ${g.key})`);
      const s = r.spread?.[configKey(configs[i])];
      store(i, m, s);
      cache?.put(keyOf(configs[i], isFull ? null : images), { metrics: m, images: r.images, seconds: r.seconds, ...(s ? { spread: s } : {}) });
    }
    if (isFull) counts.fullRun++;
    else counts.subsetRun++;
  };

  const secondsLeft = (remainingCost: number, images: number) => (ranCost > 0 ? (ranSeconds / ranCost) * remainingCost * images / workers : undefined);

  /** Runs tasks with at most `workers` in flight, reporting progress after each. */
  const runAll = async (batch: Group[], images: number[] | null, phase: SearchProgress['phase'], progressBase: { done: number; total: () => number; moreCost: () => number }) => {
    const queue = [...batch];
    const nImages = images ? images.length : ds.images.length;
    let left = batch.reduce((s, g) => s + g.cost, 0);
    const report = () => opts.onProgress?.({ phase, done: progressBase.done, total: progressBase.total(), counts: { ...counts }, secondsLeft: secondsLeft(left + progressBase.moreCost(), nImages) });
    report();
    const lane = async () => {
      for (let g = queue.shift(); g; g = queue.shift()) {
        await runGroup(g, images);
        left -= g.cost;
        progressBase.done++;
        report();
      }
    };
    await Promise.all(Array.from({ length: Math.min(workers, batch.length) }, lane));
  };

  let predictor: AccuracyPredictor | undefined;
  try {
    if (mode === 'exhaustive') {
      const order = [...groups].sort((a, b) => b.cost - a.cost || a.index - b.index);
      await runAll(order, null, 'full', { done: 0, total: () => groups.length, moreCost: () => 0 });
      counts.rounds = 1;
    } else {
      // 1. screen every group on the subset, dearest first (the last ones to finish are short)
      const order = [...groups].sort((a, b) => b.cost - a.cost || a.index - b.index);
      await runAll(order, subsetIds, 'screen', { done: 0, total: () => groups.length, moreCost: () => 0 });
      // 2. full evaluations while some subnet not evaluated on every image could be on a front
      const fullDone = new Set<number>();
      const progress = { done: 0, total: () => 0, moreCost: () => 0 };
      for (;;) {
        predictor = fitAccuracyPredictor(
          configs.flatMap((_, i) => (full[i] && sub[i] !== null ? [{ subset: sub[i]!, full: full[i]![metric] }] : [])),
          { floor: marginFloor, safety: MARGIN_SAFETY },
        );
        const needed = neededGroups(configs, groupOfConfig, latency, full, sub, metric, predictor);
        const pending = [...needed.keys()].filter((gi) => !fullDone.has(gi));
        if (!pending.length) break;
        pending.sort((a, b) => compareNeed(needed.get(a)!, needed.get(b)!) || a - b);
        const batch = pending.slice(0, workers).map((gi) => groups[gi]);
        const rest = pending.slice(workers);
        // `runAll` counts this batch into `done` as it goes; `total` counts it once
        const doneBefore = progress.done;
        progress.total = () => doneBefore + batch.length + rest.length;
        progress.moreCost = () => rest.reduce((s, gi) => s + groups[gi].cost, 0);
        await runAll(batch, null, 'full', progress);
        for (const g of batch) fullDone.add(g.index);
        counts.rounds++;
      }
    }
  } finally {
    if (ownEvaluator) await evaluator?.close?.();
  }
  // after the evaluations: the workers would slow the reference subnets down
  const speed: SpeedOutcome[] = opts.speedCheck
    ? await checkSpeeds(opts, (device, done, total) => opts.onProgress?.({ phase: 'speed-check', done, total, device, counts: { ...counts } }))
    : opts.luts.map(() => ({ check: null }));
  counts.fullEvaluations = counts.fullRun + counts.fullCached;
  counts.subsetEvaluations = counts.subsetRun + counts.subsetCached;
  counts.configsEvaluated = full.filter(Boolean).length;
  // a failed screening does not matter once the group's full evaluation succeeded
  const missingNow = missing.filter((m) => m.phase === 'full' || !groupsByKey.get(m.group)!.members.some((i) => full[i]));
  const missingGroups = new Set(missingNow.map((m) => groupsByKey.get(m.group)!.index));
  const isMissing = (i: number) => !full[i] && missingGroups.has(groupOfConfig[i]);
  counts.configsMissing = configs.filter((_, i) => isMissing(i)).length;
  counts.configsRuledOut = configs.length - counts.configsEvaluated - counts.configsMissing;

  const evaluated = configs.map((_, i) => i).filter((i) => full[i]);
  const devices: DeviceResult[] = opts.luts.map(({ path, lut }, d) => {
    const pts = evaluated.map((i) => ({ latency: latency[d][i], accuracy: full[i]![metric] }));
    const entry = (k: number): FrontEntry => {
      const i = evaluated[k];
      return { config: configs[i], key: configKey(configs[i]), metrics: full[i]!, spread: withoutResamples(spread[i]), predictedMs: latency[d][i] };
    };
    const frontIdx = paretoFront(pts);
    const front = frontIdx.map(entry);
    if (bootstrap)
      front.forEach((f, k) => {
        if (k === 0) return void (f.gain = null);
        const a = evaluated[frontIdx[k - 1]], b = evaluated[frontIdx[k]];
        const value = full[b]![metric] - full[a]![metric];
        const diff = differenceSpread(spread[a], spread[b], metric, value);
        f.gain = diff ? { value, ...diff, separated: diff.lo90 > 0 } : null;
      });
    const gains = front.map((f) => f.gain).filter((g): g is FrontGain => !!g);
    let chosen: FrontEntry | null = null;
    let chosenReason: string;
    const { check, skipped } = speed[d];
    const factor = check?.factor ?? 1;
    const atSpeed = check ? ` at this machine's measured speed (LUT predictions x ${factor.toFixed(3)}, from ${check.references.length} reference subnets)` : '';
    if (opts.budgetMs === undefined) chosenReason = 'no latency budget given';
    else {
      // the most accurate within the budget is the slowest front entry within it (bestUnderBudget, without computing the front again)
      chosen = front.filter((f) => f.predictedMs <= opts.budgetMs! / factor).pop() ?? null;
      if (chosen) {
        chosenReason = `the most accurate (${metric} ${chosen.metrics[metric].toFixed(3)}) of the subnets predicted within ${opts.budgetMs} ms on ${lut.device.name}${atSpeed}`;
      } else {
        const fastest = configs.map((_, i) => i).reduce((a, b) => (latency[d][b] < latency[d][a] ? b : a));
        chosenReason = `no subnet is predicted within ${opts.budgetMs} ms on ${lut.device.name}${atSpeed}; the fastest, ${configKey(configs[fastest])}, is predicted at ${(latency[d][fastest] * factor).toFixed(2)} ms`;
      }
    }
    return {
      device: lut.device.name,
      host: lut.host,
      lut: { file: path, sha256: lutHash(lut), familyHash: lut.supernet.familyHash, runtime: `${lut.runtime.runtime} ${lut.runtime.version}`, calibrated: !!lut.calibration, updatedAt: lut.updatedAt },
      front,
      chosen,
      chosenReason,
      speedCheck: check,
      ...(skipped ? { speedCheckSkipped: skipped } : {}),
      evaluated: evaluated.length,
      separation: bootstrap ? { pairs: gains.length, separated: gains.filter((g) => g.separated).length, paired: gains.every((g) => g.paired) } : null,
    };
  });

  const subnets: SubnetResult[] = configs.map((c, i) => ({
    config: c,
    key: configKey(c),
    group: configKey(groups[groupOfConfig[i]].deep),
    metrics: full[i],
    spread: withoutResamples(spread[i]),
    subsetMetric: sub[i],
    predictedMetric: !full[i] && sub[i] !== null && predictor ? predictor.predict(sub[i]!) : null,
    predictedMs: latency.map((l) => l[i]),
    status: full[i] ? 'evaluated' : isMissing(i) ? 'missing' : 'ruled-out',
  }));

  return {
    format: 'snc-pareto',
    version: 1,
    supernet: { name: net.spec.name, dir: net.dir, weightsSha256: net.weights.hash },
    data: { annotations: ds.annotationsFile, imagesDir: ds.imagesDir, images: ds.images.length, hash: dataHash || datasetHash(ds), subsetImages: subsetIds ? subsetIds.length : null, skippedImages },
    metric,
    mode,
    budgetMs: opts.budgetMs ?? null,
    topK,
    workers,
    evaluator: evaluatorId(),
    bootstrap,
    predictor: predictor
      ? { offset: predictor.offset, pairs: predictor.pairs, maxLooError: predictor.maxLooError ?? null, margin: predictor.margin, marginFloor, safety: MARGIN_SAFETY }
      : null,
    counts,
    devices,
    subnets,
    seconds: (performance.now() - t0) / 1000,
    evaluationSeconds,
    missing: missingNow,
  };
}

/** A speed check per LUT, or why none was made (a device this machine cannot run). */
interface SpeedOutcome {
  check: SpeedCheck | null;
  skipped?: string;
}

async function checkSpeeds(opts: SearchOptions, onProgress: (device: string, done: number, total: number) => void): Promise<SpeedOutcome[]> {
  const given = typeof opts.speedCheck === 'object' ? opts.speedCheck : {};
  const out: SpeedOutcome[] = [];
  for (const { lut } of opts.luts) {
    try {
      await checkAvailable(lut.device);
    } catch (e) {
      if (!(e instanceof SncError)) throw e;
      out.push({ check: null, skipped: e.message });
      continue;
    }
    const check = await checkSpeed(opts.net, lut.device, lut, {
      ...given,
      aroundMs: opts.budgetMs,
      onProgress: (done, total) => onProgress(lut.device.name, done, total),
    });
    out.push({ check });
  }
  return out;
}

/** Content hash of a LUT (16 hex): which measurements the predicted latencies come from. */
function lutHash(lut: Lut): string {
  return sha256(new TextEncoder().encode(JSON.stringify(lut))).slice(0, 16);
}

/** Why a group still needs a full evaluation: the best reason among its subnets. */
export interface Need {
  /** Devices on whose estimated front one of its subnets is. */
  onEstimatedFront: number;
  /** Largest (estimated accuracy − best evaluated accuracy at no more latency) over its subnets in doubt. */
  gap: number;
}

function compareNeed(a: Need, b: Need): number {
  return b.onEstimatedFront - a.onEstimatedFront || b.gap - a.gap;
}

/**
 * The groups holding a subnet that is not evaluated on every image and that no evaluated subnet
 * rules out on some device: one rules it out when it is at least as fast there and at least as
 * accurate as the subnet's predicted accuracy plus the margin (its accuracy's upper bound), with
 * the tie rule of the front. A subnet without a subset score is never ruled out.
 */
export function neededGroups(
  configs: readonly SubnetConfig[],
  groupOfConfig: ArrayLike<number>,
  latency: readonly (readonly number[])[],
  full: readonly (CocoMetrics | null)[],
  sub: readonly (number | null)[],
  metric: SearchMetric,
  predictor: AccuracyPredictor,
): Map<number, Need> {
  const needs = new Map<number, Need>();
  const est = configs.map((_, i) => (full[i] ? full[i]![metric] : sub[i] !== null && sub[i]! >= 0 ? predictor.predict(sub[i]!) : Infinity));
  const evaluated = configs.map((_, i) => i).filter((i) => full[i]);
  latency.forEach((lat) => {
    const onFront = new Set(paretoFront(configs.map((_, i) => ({ latency: lat[i], accuracy: Number.isFinite(est[i]) ? est[i] : 1e9 }))));
    for (let i = 0; i < configs.length; i++) {
      if (full[i]) continue;
      const upper = Number.isFinite(est[i]) ? est[i] + predictor.margin : Infinity;
      const me = { latency: lat[i], accuracy: upper };
      let ruledOut = false;
      let bestFaster = -Infinity;
      for (const y of evaluated) {
        const them = { latency: lat[y], accuracy: full[y]![metric] };
        if (them.latency <= me.latency) bestFaster = Math.max(bestFaster, them.accuracy);
        if (beats(them, y, me, i)) {
          ruledOut = true;
          break;
        }
      }
      if (ruledOut) continue;
      const g = groupOfConfig[i];
      const need = needs.get(g) ?? { onEstimatedFront: 0, gap: -Infinity };
      if (onFront.has(i)) need.onEstimatedFront++;
      need.gap = Math.max(need.gap, est[i] - bestFaster);
      needs.set(g, need);
    }
  });
  return needs;
}
