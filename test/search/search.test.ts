import test from 'ava';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CocoDataset } from '../../src/data/coco.js';
import { readCocoDataset } from '../../src/data/coco.js';
import { Problems } from '../../src/data/problems.js';
import { synthesize } from '../../src/data/synth.js';
import { METRIC_NAMES, type CocoMetrics } from '../../src/eval/coco-eval.js';
import { EvalCache } from '../../src/eval/cache.js';
import type { GroupEvaluator } from '../../src/eval/pool.js';
import type { GroupTask } from '../../src/eval/multi-exit.js';
import { paretoFront } from '../../src/search/pareto.js';
import { search, type SearchOptions, type SearchResult } from '../../src/search/search.js';
import { writeSearchReport } from '../../src/search/report.js';
import { configKey, enumerateConfigs } from '../../src/detr/spec.js';
import { loadSupernet, loadSupernetDir } from '../../src/detr/supernet.js';
import { readLut } from '../../src/latency/lut.js';
import { LatencyPredictor } from '../../src/latency/predictor.js';
import { StreamRng } from '../../src/util/rng.js';
import { fakeTimer } from '../helpers/fake-timer.js';
import { scaledLut } from '../helpers/scaled-lut.js';
import { smallSupernet } from '../helpers/small-supernet.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'snc-search-test-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));

// the synthetic AP tables score the whole grid: the embedded weights' untrained marks are left
// off here (the test of untrained values sets its own)
const embedded = loadSupernet('shapes-tiny');
const net = { ...embedded, spec: { ...embedded.spec, untrained: undefined } };
const luts = ['ort-cpu-1t', 'ort-cpu-2t', 'ort-wasm-1t'].map((d) => {
  const path = join(root, 'lut', d, 'shapes-tiny.json');
  return { path, lut: readLut(path) };
});
const configs = enumerateConfigs(net.spec.knobs);

/** A validation set that exists only for the injected evaluators (they never read images). */
const fakeData: CocoDataset = {
  annotationsFile: join(tmp, 'nowhere', 'annotations.json'),
  imagesDir: join(tmp, 'nowhere', 'images'),
  images: Array.from({ length: 500 }, (_, i) => ({ id: i + 1, fileName: `${i + 1}.jpg` })),
  categories: [{ id: 1, name: 'circle' }],
  annotations: [],
};

const metricsOf = (ap: number): CocoMetrics => Object.fromEntries(METRIC_NAMES.map((n) => [n, n === 'AP50' ? Math.min(1, ap + 0.25 - 0.1 * ap) : ap])) as CocoMetrics;

/**
 * A synthetic trained supernet: AP rises with resolution, finer patches, depth and queries, falls a
 * little with windows, plus a per-subnet quirk; one group (224 px, patch 8, 2 windows) lies far
 * below the rest, as a knob combination training left behind, so that whatever the LUTs' latencies
 * there is a group for the pruning to rule out. The subset scores it with a bias and a bounded
 * error (at most `noise` either way, so below the default margin when noise <= 0.005).
 */
function apTable(seed: number, noise = 0.004, bias = -0.03) {
  const rng = new StreamRng(`search-test-${seed}`);
  const full = new Map<string, number>();
  const sub = new Map<string, number>();
  for (const c of configs) {
    const ap = 0.2 + (0.15 * (c.resolution - 160)) / 128 + (c.patch === 8 ? 0.1 : 0) + 0.03 * c.layers + 0.02 * (c.queries / 100) - (c.windows === 2 ? 0.015 : 0) + rng.uniform(-0.03, 0.03) - (c.resolution === 224 && c.patch === 8 && c.windows === 2 ? 0.2 : 0);
    full.set(configKey(c), ap);
    sub.set(configKey(c), ap + bias + rng.uniform(-noise, noise));
  }
  return { full, sub };
}

/** An evaluator that reads the table, counting calls; optional random delays; `resample(metric, i)` gives bootstrap resamples (paired across configs). */
function tableEvaluator(t: ReturnType<typeof apTable>, delays?: StreamRng, resample?: (metric: number, i: number) => number): GroupEvaluator & { calls: GroupTask[] } {
  const calls: GroupTask[] = [];
  return {
    id: 'table',
    calls,
    async evaluate(task) {
      calls.push(task);
      if (delays) await new Promise((r) => setTimeout(r, delays.uniform(0, 4)));
      const metrics: Record<string, CocoMetrics> = {};
      for (const queries of task.queries ?? [task.config.queries])
        for (const layers of task.depths) {
          const key = configKey({ ...task.config, layers, queries });
          metrics[key] = metricsOf((task.images ? t.sub : t.full).get(key)!);
        }
      // with a bootstrap asked for: a made-up spread around the table's AP
      const spread = task.bootstrap
        ? Object.fromEntries(
            Object.entries(metrics).map(([k, m]) => {
              const draws = (v: number) => Array.from({ length: task.bootstrap!.samples ?? 200 }, (_, i) => resample!(v, i));
              const resamples = resample ? { resamples: { images: 500, AP: draws(m.AP), AP50: draws(m.AP50) } } : {};
              return [k, { ...task.bootstrap!, AP: { std: 0.01, lo90: m.AP - 0.016, hi90: m.AP + 0.016 }, AP50: { std: 0.01, lo90: m.AP50 - 0.016, hi90: m.AP50 + 0.016 }, ...resamples }];
            }),
          )
        : undefined;
      return { metrics, ...(spread ? { spread } : {}), images: task.images ? task.images.length : 500, seconds: 0.001, skippedImages: 0 } as Awaited<ReturnType<GroupEvaluator['evaluate']>>;
    },
  };
}

/** The true front per device: every config, full AP, predicted latency. */
function trueFronts(t: ReturnType<typeof apTable>, metric: 'AP' | 'AP50' = 'AP'): string[][] {
  return luts.map(({ lut }) => {
    const p = new LatencyPredictor(lut, net.spec.architecture);
    const pts = configs.map((c) => ({ latency: p.predict(c), accuracy: metricsOf(t.full.get(configKey(c))!)[metric] }));
    return paretoFront(pts).map((i) => configKey(configs[i]));
  });
}

const fronts = (r: SearchResult) => r.devices.map((d) => d.front.map((f) => f.key));
const base = (over: Partial<SearchOptions>): SearchOptions => ({ net, data: fakeData, luts, cache: null, workers: 1, ...over });

test('pruned search: the exhaustive front on every device, with far fewer full evaluations', async (t) => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const table = apTable(seed);
    const ev = tableEvaluator(table);
    const r = await search(base({ evaluator: ev }));
    t.deepEqual(fronts(r), trueFronts(table), `seed ${seed}`);
    const ex = await search(base({ evaluator: tableEvaluator(table), exhaustive: true }));
    t.deepEqual(fronts(ex), trueFronts(table));
    t.is(ex.counts.fullEvaluations, 12);
    t.is(ex.counts.subsetEvaluations, 0);
    t.is(r.mode, 'pruned');
    t.is(r.counts.groups, 12);
    t.is(r.counts.configs, 108);
    t.is(r.counts.subsetEvaluations, 12);
    t.is(ev.calls.filter((c) => c.images === null).length, r.counts.fullEvaluations);
    t.true(r.counts.fullEvaluations < 12, `seed ${seed}: ${r.counts.fullEvaluations} full evaluations`);
    t.is(r.counts.configsEvaluated + r.counts.configsRuledOut, 108);
    // every call is a multi-exit run of a group's deepest subnet, scoring every depth and query count
    t.true(ev.calls.every((c) => c.config.layers === 3 && c.config.queries === 100 && c.depths.join() === '1,2,3' && c.queries?.join() === '30,60,100'));
    t.true(ev.calls.filter((c) => c.images).every((c) => c.images!.length === 100));
    const needed = new Set(trueFronts(table).flat().map((k) => k.replace(/,layers=\d+,queries=\d+/, '')));
    t.log(`seed ${seed}: ${r.counts.fullEvaluations} full evaluations (exhaustive 12, groups on a front ${needed.size}), margin ${r.predictor!.margin.toFixed(4)}, fronts ${fronts(r).map((f) => f.length).join('/')}`);
  }
  // the other accuracy axis
  const table = apTable(6);
  const r = await search(base({ evaluator: tableEvaluator(table), metric: 'AP50' }));
  t.deepEqual(fronts(r), trueFronts(table, 'AP50'));
});

test('the margin follows the predictor: a subset error larger than --margin widens it, and the front stays exact', async (t) => {
  // errors up to 0.02 either way, twice the margin floor
  const table = apTable(7, 0.02, 0.05);
  const r = await search(base({ evaluator: tableEvaluator(table) }));
  t.true(r.predictor!.margin > 0.02, `margin ${r.predictor!.margin}`);
  t.true(Math.abs(r.predictor!.offset + 0.05) < 0.01, `offset ${r.predictor!.offset}`);
  t.deepEqual(fronts(r), trueFronts(table));
  // subnets ruled out are reported with their subset score and predicted accuracy
  const out = r.subnets.filter((s) => s.status === 'ruled-out');
  t.true(out.length > 0);
  t.true(out.every((s) => s.metrics === null && s.subsetMetric !== null && s.predictedMetric !== null));
});

test('groups evaluate in rounds of --workers: the same evaluations whatever the timing', async (t) => {
  const table = apTable(8);
  const runs = [];
  for (const delaySeed of ['a', 'b']) {
    const ev = tableEvaluator(table, new StreamRng(delaySeed));
    const r = await search(base({ evaluator: ev, workers: 3 }));
    runs.push({ r, full: ev.calls.filter((c) => !c.images).map((c) => configKey(c.config)) });
  }
  t.deepEqual(runs[0].full, runs[1].full);
  t.deepEqual(runs[0].r.counts, runs[1].r.counts);
  t.deepEqual(fronts(runs[0].r), trueFronts(table));
});

test('budget: per device the most accurate front subnet predicted within it; none, with the reason, when nothing fits', async (t) => {
  const table = apTable(9);
  const r = await search(base({ evaluator: tableEvaluator(table), budgetMs: 12 }));
  for (const d of r.devices) {
    const within = d.front.filter((f) => f.predictedMs <= 12);
    t.deepEqual(d.chosen, within.at(-1) ?? null);
    if (d.chosen) t.regex(d.chosenReason, /the most accurate .* within 12 ms/);
    // nothing evaluated that fits is more accurate
    for (const s of r.subnets) if (s.metrics && s.predictedMs[r.devices.indexOf(d)] <= 12 && d.chosen) t.true(s.metrics.AP <= d.chosen.metrics.AP);
  }
  t.true(r.devices.some((d) => d.chosen), 'some device fits 12 ms');
  const none = await search(base({ evaluator: tableEvaluator(table), budgetMs: 0.5 }));
  for (const d of none.devices) {
    t.is(d.chosen, null);
    t.regex(d.chosenReason, new RegExp(`no subnet is predicted within 0\\.5 ms on ${d.device}; the fastest, res=\\S+, is predicted at \\d+\\.\\d\\d ms`));
  }
  const no = await search(base({ evaluator: tableEvaluator(table) }));
  t.true(no.devices.every((d) => d.chosen === null && d.chosenReason === 'no latency budget given'));
});

test('speed check: the budget applies at the speed measured after the evaluations; a device this machine cannot run keeps its LUT', async (t) => {
  const small = smallSupernet(join(tmp, 'small-speed'));
  const snet = loadSupernetDir(small.dir);
  const lut = readLut(small.luts[0]);
  // a LUT ten times too slow for this machine, and one for a device it cannot run
  const slow = { path: 'slow.json', lut: scaledLut(lut, 10) };
  const gpu = { path: 'gpu.json', lut: { ...lut, device: { ...lut.device, name: 'some-gpu', executionProvider: 'cuda' as const } } };
  const opts = base({ net: snet, luts: [slow, gpu], budgetMs: 20, exhaustive: true });
  const plain = await search({ ...opts, evaluator: tableEvaluator(apTable(3)) });
  t.is(plain.devices[0].chosen, null, 'the x10 LUT predicts every subnet over 20 ms');
  t.is(plain.devices[0].speedCheck, null);
  const phases = new Set<string>();
  const r = await search({ ...opts, evaluator: tableEvaluator(apTable(3)), speedCheck: { references: 2, time: fakeTimer(lut, 1) }, onProgress: (p) => phases.add(`${p.phase} ${p.device ?? ''}`) });
  const d = r.devices[0];
  t.is(d.speedCheck!.references.length, 2);
  // the injected machine runs at the unscaled LUT's speed: a factor of exactly 1/10
  t.true(Math.abs(d.speedCheck!.factor - 0.1) < 1e-9, `factor ${d.speedCheck!.factor}`);
  t.deepEqual(d.front, plain.devices[0].front, 'a speed factor does not change the front');
  const within = d.front.filter((f) => f.predictedMs * d.speedCheck!.factor <= 20);
  t.true(within.length >= 1);
  t.deepEqual(d.chosen, within.at(-1));
  t.regex(d.chosenReason, /within 20 ms on ort-cpu-1t at this machine's measured speed \(LUT predictions x 0\.\d+, from 2 reference subnets\)/);
  t.true(phases.has('speed-check ort-cpu-1t'));
  // no GPU here: skipped, with the reason, and chosen at the LUT's speed (on a GPU machine it is checked)
  const g = r.devices[1];
  if (g.speedCheck === null) {
    t.regex(g.speedCheckSkipped!, /'cuda' execution provider/);
    t.deepEqual(g.chosen, plain.devices[1].chosen);
  } else t.true(g.speedCheck.factor > 0);
  const files = await writeSearchReport(r, join(tmp, 'speed-report'));
  t.regex(readFileSync(files.plots[0].svg, 'utf8'), /budget at the measured speed \(x 0\.\d\d\)/);
});

test('cache: a second search with nothing changed runs no evaluation; changed weights or data miss', async (t) => {
  const table = apTable(10);
  const cache = new EvalCache(join(tmp, 'cache-a'));
  const first = tableEvaluator(table);
  const r1 = await search(base({ evaluator: first, cache }));
  t.is(r1.counts.fullRun, r1.counts.fullEvaluations);
  t.is(r1.counts.subsetRun, 12);
  const second = tableEvaluator(table);
  const r2 = await search(base({ evaluator: second, cache }));
  t.is(second.calls.length, 0);
  t.like(r2.counts, { fullRun: 0, subsetRun: 0, fullCached: r1.counts.fullEvaluations, subsetCached: 12 });
  t.deepEqual(fronts(r2), fronts(r1));
  t.deepEqual(r2.devices, r1.devices);
  // one JSON file per subnet and images scored
  t.is(readdirSync(cache.dir).filter((f) => f.endsWith('.json')).length, 108 + r1.counts.configsEvaluated);
  // an entry damaged on disk (AP 5.0) is evaluated again, not shown
  const damaged = join(cache.dir, readdirSync(cache.dir).filter((f) => f.endsWith('.json')).sort()[0]);
  const entry = JSON.parse(readFileSync(damaged, 'utf8'));
  writeFileSync(damaged, JSON.stringify({ ...entry, metrics: { ...entry.metrics, AP: 5 } }));
  const again = tableEvaluator(table);
  const r5 = await search(base({ evaluator: again, cache }));
  t.true(again.calls.length >= 1, 'the damaged entry was evaluated again');
  t.deepEqual(fronts(r5), fronts(r1));
  t.true(r5.subnets.every((s) => !s.metrics || s.metrics.AP <= 1));
  // other data: every evaluation again
  const moved = { ...fakeData, images: fakeData.images.slice(1) };
  const third = tableEvaluator(table);
  await search(base({ evaluator: third, cache, data: moved }));
  t.true(third.calls.length >= 12);
  // other weights: likewise
  const fourth = tableEvaluator(table);
  const other = { ...net, weights: Object.assign(Object.create(Object.getPrototypeOf(net.weights)), net.weights, { hash: 'f'.repeat(64) }) };
  await search(base({ evaluator: fourth, cache, net: other }));
  t.true(fourth.calls.length >= 12);
});

test('bootstrap: asked of full evaluations only, kept in the cache and pareto.json; another resample count runs again', async (t) => {
  const table = apTable(11);
  const cache = new EvalCache(join(tmp, 'cache-bootstrap'));
  const first = tableEvaluator(table);
  const r1 = await search(base({ evaluator: first, cache }));
  t.deepEqual(r1.bootstrap, { samples: 200, seed: 1 });
  for (const task of first.calls) t.is(task.bootstrap === undefined, task.images !== null && task.prior === undefined);
  for (const f of r1.devices.flatMap((d) => d.front)) {
    t.truthy(f.spread);
    t.true(f.spread!.AP.lo90 <= f.metrics.AP && f.metrics.AP <= f.spread!.AP.hi90);
  }
  t.true(r1.subnets.every((s) => (s.metrics ? s.spread !== null : s.spread === null)));
  const again = tableEvaluator(table);
  const r2 = await search(base({ evaluator: again, cache }));
  t.is(again.calls.length, 0);
  t.deepEqual(r2.devices, r1.devices);
  const other = tableEvaluator(table);
  const r3 = await search(base({ evaluator: other, cache, bootstrap: 50 }));
  t.is(other.calls.filter((c) => c.bootstrap).length, r1.counts.fullEvaluations);
  t.is(r3.devices[0].front[0].spread!.samples, 50);
  const none = await search(base({ evaluator: tableEvaluator(table), cache: null, bootstrap: 0 }));
  t.is(none.bootstrap, null);
  t.true(none.devices[0].front.every((f) => f.spread === null));
});

test('front neighbours: the rise over the previous entry against its sampling error, paired when the evaluations carry their resamples', async (t) => {
  const table = apTable(11);
  const r = await search(base({ evaluator: tableEvaluator(table) }));
  let unpairedSeparated = 0;
  for (const d of r.devices) {
    t.is(d.front[0].gain, null, 'the fastest entry has no previous one');
    const gains = d.front.slice(1).map((f, k) => {
      const g = f.gain!;
      t.true(Math.abs(g.value - (f.metrics.AP - d.front[k].metrics.AP)) < 1e-12);
      t.false(g.paired, 'spreads without resamples');
      t.true(Math.abs(g.std - Math.sqrt(2) * 0.01) < 1e-12);
      t.is(g.separated, g.lo90 > 0);
      return g;
    });
    t.deepEqual(d.separation, { pairs: gains.length, separated: gains.filter((g) => g.separated).length, paired: false });
    unpairedSeparated += d.separation!.separated;
  }
  // paired: every resample shifts all configs alike (the images drawn are hard or easy for all), each config's own noise is small
  const shared = (i: number) => 0.03 * Math.sin(i * 1.7);
  const p = await search(base({ evaluator: tableEvaluator(table, undefined, (v, i) => v + shared(i) + 0.0002 * Math.cos(i * 0.9 + v * 1e4)) }));
  t.deepEqual(fronts(p), fronts(r));
  let pairedSeparated = 0;
  for (const d of p.devices) {
    for (const f of d.front.slice(1)) {
      t.true(f.gain!.paired);
      t.true(f.gain!.std < 0.001, `paired std ${f.gain!.std}`);
      t.is(f.gain!.separated, f.gain!.lo90 > 0);
      if (f.gain!.value > 0.002) t.true(f.gain!.separated, `a rise of ${f.gain!.value} stands out of paired noise of 0.0002`);
    }
    t.true(d.separation!.paired);
    pairedSeparated += d.separation!.separated;
  }
  t.true(pairedSeparated >= unpairedSeparated, `${pairedSeparated} >= ${unpairedSeparated}: pairing takes out what the images share`);
  t.true(p.subnets.every((s) => !s.spread?.resamples) && p.devices.every((d) => d.front.every((f) => !f.spread?.resamples)), 'pareto.json without the resamples');
  const none = await search(base({ evaluator: tableEvaluator(table), bootstrap: 0 }));
  t.true(none.devices.every((d) => d.separation === null && d.front.every((f) => f.gain === undefined)));
});

test('progress: phases, counts and time left', async (t) => {
  const seen: string[] = [];
  let lastLeft: number | undefined;
  await search(
    base({
      evaluator: tableEvaluator(apTable(11)),
      onProgress: (p) => {
        seen.push(p.phase);
        t.true(p.done <= p.total);
        if (p.secondsLeft !== undefined) lastLeft = p.secondsLeft;
      },
    }),
  );
  t.true(seen.includes('screen') && seen.includes('full'));
  t.is(typeof lastLeft, 'number');
});

test('bad input: LUT of another family, budget, subset, margin', async (t) => {
  const ev = tableEvaluator(apTable(1));
  const small = smallSupernet(join(tmp, 'family'));
  const other = { path: small.luts[0], lut: readLut(small.luts[0]) };
  await t.throwsAsync(search(base({ evaluator: ev, luts: [other] })), { message: /LUT was profiled for supernet family 'shapes-small'/ });
  await t.throwsAsync(search(base({ evaluator: ev, luts: [] })), { message: /at least one --lut/ });
  await t.throwsAsync(search(base({ evaluator: ev, budgetMs: -1 })), { message: /budget -1 ms is not a number > 0/ });
  await t.throwsAsync(search(base({ evaluator: ev, subset: 0 })), { message: /subset 0 is not an integer >= 1/ });
  await t.throwsAsync(search(base({ evaluator: ev, margin: NaN })), { message: /margin NaN/ });
  t.is(ev.calls.length, 0);
});

test('onnxruntime workers on a small grid: pruned and exhaustive fronts agree, plots and pareto.json written, cache hit', async (t) => {
  const small = smallSupernet(join(tmp, 'small'));
  const snet = loadSupernetDir(small.dir);
  const set = join(tmp, 'small-set');
  await synthesize({ out: set, images: 10, seed: 21, size: 96 });
  const ds = readCocoDataset(set, {}, new Problems());
  const sluts = small.luts.map((path) => ({ path, lut: readLut(path) }));
  const cache = new EvalCache(join(tmp, 'cache-ort'));
  const opts: SearchOptions = { net: snet, data: ds, luts: sluts, cache, workers: 2, subset: 4, budgetMs: 50, topK: 20 };
  const r = await search(opts);
  t.is(r.mode, 'pruned');
  t.is(r.counts.groups, 2);
  t.is(r.counts.subsetRun, 2);
  t.regex(r.evaluator, /^onnxruntime-node \d+\.\d+\.\d+ cpu$/);
  t.true(r.subnets.every((s) => s.subsetMetric !== null && s.subsetMetric >= 0));
  // full evaluations score the group's 4 screened images from the screening run, and run the other 6
  t.true(r.counts.fullRun >= 1);
  t.is(r.counts.imagesReused, r.counts.fullRun * 4);
  const ex = await search({ ...opts, exhaustive: true, cache: null });
  t.is(ex.counts.fullEvaluations, 2);
  t.is(ex.counts.imagesReused, 0);
  t.deepEqual(fronts(r), fronts(ex));
  // and their metrics are exactly those of running every image
  const exByKey = new Map(ex.subnets.map((s) => [s.key, s.metrics]));
  const evaluated = r.subnets.filter((s) => s.metrics);
  t.true(evaluated.length >= 2);
  for (const s of evaluated) t.deepEqual(s.metrics, exByKey.get(s.key), s.key);
  // so is the bootstrap of their AP over the images (reused subset detections or not)
  const exSpread = new Map(ex.subnets.map((s) => [s.key, s.spread]));
  for (const s of evaluated) {
    t.is(s.spread!.samples, 200);
    t.deepEqual(s.spread, exSpread.get(s.key), s.key);
    t.true(s.spread!.AP.lo90 <= s.spread!.AP.hi90);
  }
  t.true(r.devices.every((d) => d.chosen !== null && d.front.length >= 1));
  // everything is cached now
  const again = await search(opts);
  t.like(again.counts, { fullRun: 0, subsetRun: 0 });
  t.deepEqual(again.devices, r.devices);
  const files = await writeSearchReport(r, join(tmp, 'report'));
  t.deepEqual(readdirSync(join(tmp, 'report')).sort(), ['pareto-ort-cpu-1t.png', 'pareto-ort-cpu-1t.svg', 'pareto-ort-cpu-2t.png', 'pareto-ort-cpu-2t.svg', 'pareto.json']);
  t.is(files.plots.length, 2);
  // error bars: one per evaluated subnet and front entry
  const svg = readFileSync(files.plots[0].svg, 'utf8');
  t.is((svg.match(/<path d="M/g) ?? []).length, evaluated.length + r.devices[0].front.length);
  t.regex(svg, /90% bootstrap interval, 200 resamples/);
});

test('report: the plot shows evaluated subnets, ruled-out ones, the front and the chosen subnet', async (t) => {
  const r = await search(base({ evaluator: tableEvaluator(apTable(12)), budgetMs: 15 }));
  const files = await writeSearchReport(r, join(tmp, 'plot'));
  const svg = readFileSync(files.plots[1].svg, 'utf8');
  t.regex(svg, /ruled out from 100 images/);
  t.regex(svg, /evaluated on all 500 images/);
  t.regex(svg, /Pareto front \(\d+\)/);
  t.regex(svg, /chosen within 15 ms/);
  t.regex(svg, /budget 15 ms/);
  t.true(svg.includes(r.devices[1].chosen!.key));
  const json = JSON.parse(readFileSync(files.json, 'utf8'));
  t.is(json.format, 'snc-pareto');
  t.deepEqual(Object.keys(json.devices[0].front[0].metrics), [...METRIC_NAMES]);
  t.like(json.devices[0], { device: 'ort-cpu-1t', lut: { file: luts[0].path, familyHash: luts[0].lut.supernet.familyHash } });
});


test('subnets with knob values the weights were not trained at are left out unless asked for', async (t) => {
  const marked = { ...net, spec: { ...net.spec, untrained: { patch: [8] } } };
  const table = apTable(7);
  const ev = tableEvaluator(table);
  const r = await search(base({ net: marked, evaluator: ev, exhaustive: true }));
  t.true(r.subnets.length > 0);
  t.true(r.subnets.every((s) => s.config.patch === 16), 'patch 8 is untrained');
  t.true(ev.calls.every((c) => c.config.patch === 16));
  const all = await search(base({ net: marked, evaluator: tableEvaluator(table), exhaustive: true, includeUntrained: true }));
  t.is(all.subnets.length, configs.length);
});
