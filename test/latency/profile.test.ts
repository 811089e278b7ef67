import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SncError } from '../../src/errors.js';
import { blockCounts } from '../../src/detr/keys.js';
import { fullPlan } from '../../src/detr/model.js';
import { enumerateConfigs } from '../../src/detr/spec.js';
import { loadSupernetDir } from '../../src/detr/supernet.js';
import { loadDevice } from '../../src/latency/device.js';
import { checkLutUse, readLut, type DriftReference, type Lut } from '../../src/latency/lut.js';
import { LatencyPredictor } from '../../src/latency/predictor.js';
import { atLutSpeed, calibrate, calibrationConfigs, calibrationReferences, centreDrift, distinctBlocks, driftReferenceItem, groupFactor, profile, type BlockTimer } from '../../src/latency/profiler.js';
import { hostInfo } from '../../src/latency/host.js';
import { measureInterleaved } from '../../src/latency/measure.js';
import { configKey, type SubnetConfig } from '../../src/detr/spec.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const fixture = join(root, 'test/fixtures/parity');
const cli = join(root, 'bin/snc.js');
const net = loadSupernetDir(fixture);

test('the profiler enumerates each distinct block of the grid once, and every config\'s blocks are among them', (t) => {
  const items = distinctBlocks(net);
  const keys = new Set(items.map((i) => i.key));
  t.is(keys.size, items.length);
  for (const c of enumerateConfigs(net.spec.knobs)) {
    for (const b of fullPlan(net, c)) t.true(keys.has(b.key), b.key);
    for (const k of blockCounts(net.spec.architecture, c).keys()) t.true(keys.has(k), k);
  }
});

test('blockCounts counts what the plan runs', (t) => {
  for (const c of enumerateConfigs(net.spec.knobs).slice(0, 40)) {
    const plan = new Map<string, number>();
    for (const b of fullPlan(net, c)) plan.set(b.key, (plan.get(b.key) ?? 0) + 1);
    const counts = new Map(blockCounts(net.spec.architecture, c));
    for (const k of counts.keys()) if (k.startsWith('overhead:')) counts.delete(k);
    t.deepEqual(Object.fromEntries([...counts].sort()), Object.fromEntries([...plan].sort()));
  }
});

function runCli(args: string[]): { child: ReturnType<typeof spawn>; done: Promise<number | null> } {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, done };
}

test('an interrupted snc profile (killed mid-run) resumes and finishes with a valid LUT', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'snc-profile-'));
  const out = join(dir, 'lut.json');
  const args = ['profile', '--device', 'ort-cpu-1t', '--supernet', fixture, '--out', out, '--runs', '3', '--warmup', '0', '--group', '4', '--calibration', '3', '--max-spread', '1000', '--passes', '1'];
  const first = runCli(args);
  const beside = join(dir, 'lut.partial.json');
  // kill it as soon as the first group is on disk: beside the LUT, which is written once complete
  while (!existsSync(beside)) {
    if (first.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  first.child.kill('SIGKILL');
  await first.done;
  t.false(existsSync(out), 'an unfinished LUT is never at --out');
  const partial: Lut = JSON.parse(readFileSync(beside, 'utf8')); // never a corrupt file
  const before = Object.keys(partial.entries).length;
  t.true(before > 0 && before < partial.keys, `killed with ${before}/${partial.keys} entries`);
  t.false(partial.complete);

  // without --resume or --force the unfinished run is not thrown away
  const refused = runCli(args);
  t.is(await refused.done, 2);
  const second = runCli([...args, '--resume']);
  t.is(await second.done, 0);
  t.false(existsSync(beside));
  const lut = readLut(out);
  t.true(lut.complete);
  t.is(Object.keys(lut.entries).length, lut.keys);
  // kept, then moved with every other entry to the median group's speed: one factor for all
  const moved = Object.entries(partial.entries).map(([k, e]) => lut.entries[k].median_ms / e.median_ms);
  for (const [k, e] of Object.entries(partial.entries)) {
    t.like(lut.entries[k], { kind: e.kind, runs: e.runs, retries: e.retries, passes: e.passes }, `kept ${k}`);
    t.true(Math.abs(lut.entries[k].median_ms / e.median_ms - moved[0]) < 1e-9 && Math.abs(lut.entries[k].spread - e.spread) < 1e-9, `kept ${k}, moved like the others`);
  }
  t.true(lut.drift!.centred);
  t.truthy(lut.calibration);
  const p = new LatencyPredictor(lut, net.spec.architecture);
  for (const c of enumerateConfigs(net.spec.knobs)) t.true(p.predict(c) > 0);

  // a complete LUT is never replaced without --force
  const before2 = readFileSync(out, 'utf8');
  const again = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  t.is(again.status, 2, again.stderr);
  t.regex(again.stderr, /^snc: profile: .*lut\.json already holds a complete LUT; pass --force to profile it again from the start, or give another --out\n$/);
  t.is(readFileSync(out, 'utf8'), before2);
  t.false(existsSync(beside));
});

test('a LUT refuses another device or host unless allowed, and another supernet family', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'snc-lut-'));
  const device = loadDevice('ort-cpu-1t');
  const lut = await profile(net, device, { out: join(dir, 'l.json'), measure: { runs: 2, warmup: 0 }, group: 64, calibrationSamples: 0 });
  t.notThrows(() => checkLutUse(lut, 'l.json', { device, spec: net.spec }));
  const e = t.throws(() => checkLutUse(lut, 'l.json', { device: loadDevice('ort-cpu-2t') }), { instanceOf: SncError });
  t.regex(e!.message, /measured on another device \(device ort-cpu-1t vs ort-cpu-2t\); pass --allow-other-device/);
  const moved = { ...lut, host: { ...lut.host, cpu: 'Some Other CPU' } };
  t.regex(t.throws(() => checkLutUse(moved, 'l.json', { device }))!.message, /cpu "Some Other CPU" vs/);
  t.notThrows(() => checkLutUse(moved, 'l.json', { device, allowOtherDevice: true }));
  const other = structuredClone(net.spec);
  other.architecture.backbone.depth = 4;
  t.regex(t.throws(() => checkLutUse(lut, 'l.json', { spec: other }))!.message, /profiled for supernet family/);
});

test('prediction is the weighted block sum, then calibrated', (t) => {
  const c = enumerateConfigs(net.spec.knobs)[5];
  const entries: Lut['entries'] = {};
  for (const it of distinctBlocks(net)) entries[it.key] = { kind: it.kind, median_ms: 1, q1_ms: 1, q3_ms: 1, spread: 0, runs: 1, retries: 0 };
  const lut = { entries, calibration: { a: 2, b: 0.5, samples: [], seconds: 0 } } as unknown as Lut;
  const p = new LatencyPredictor(lut, net.spec.architecture);
  const n = [...blockCounts(net.spec.architecture, c).values()].reduce((a, b) => a + b, 0);
  t.is(p.blockSum(c), n);
  t.is(p.predict(c), 2 * n + 0.5);
  const missing = { ...lut, entries: {} } as Lut;
  t.throws(() => new LatencyPredictor(missing, net.spec.architecture).predict(c), { message: /no entry for block 'overhead:res=\d+'.*re-run snc profile/ });
});

test('calibration subnets span the grid, or only its cheaper share with a span under 1', (t) => {
  const entries: Lut['entries'] = {};
  for (const it of distinctBlocks(net)) entries[it.key] = { kind: it.kind, median_ms: 1 + it.key.length / 10, q1_ms: 1, q3_ms: 1, spread: 0, runs: 1, retries: 0 };
  const p = new LatencyPredictor({ entries } as unknown as Lut, net.spec.architecture);
  const sums = enumerateConfigs(net.spec.knobs).map((c) => p.blockSum(c)).sort((a, b) => a - b);
  const whole = calibrationConfigs(net, p, 4, 1).map((c) => p.blockSum(c));
  t.is(whole.length, 4);
  t.is(Math.min(...whole), sums[0]);
  t.is(Math.max(...whole), sums[sums.length - 1]);
  const cheap = calibrationConfigs(net, p, 4, 1, 0.5).map((c) => p.blockSum(c));
  t.is(cheap.length, 4);
  t.is(Math.min(...cheap), sums[0]);
  t.is(Math.max(...cheap), sums[Math.ceil(sums.length / 2) - 1]);
  t.is(new Set(calibrationConfigs(net, p, 4, 1, 0.5).map(configKey)).size, 4);
  t.throws(() => calibrationConfigs(net, p, 4, 1, 0), { message: /calibration span 0 is not in \(0, 1\]/ });
});

/** A fake clock and sessions whose runs advance it by a fixed time: timing logic without the machine's speed. */
function fakeMachine() {
  let t = 0;
  const clock = () => t;
  const runs: number[] = [];
  const session = (ms: number) => {
    const k = runs.push(0) - 1;
    return {
      run: async () => {
        runs[k]++;
        t += ms;
      },
      release: async () => {},
    };
  };
  return { clock, runs, session };
}

test('warm-up stops early for a slow subject but always runs it once', async (t) => {
  // a 30 ms subject under a 50 ms cap: warm after its second run (60 ms); the 0 ms one runs all 5
  const m = fakeMachine();
  await measureInterleaved([m.session(0), m.session(30)] as never, { warmup: 5, warmupMs: 50, runs: 2, maxSpread: Infinity, retries: 0, clock: m.clock });
  t.deepEqual(m.runs, [5 + 2, 2 + 2]);
  const m1 = fakeMachine();
  await measureInterleaved([m1.session(0), m1.session(30)] as never, { warmup: 5, warmupMs: 1, runs: 2, maxSpread: Infinity, retries: 0, clock: m1.clock });
  t.deepEqual(m1.runs, [5 + 2, 1 + 2]);
  // a cap exactly reached counts as warm
  const m2 = fakeMachine();
  await measureInterleaved([m2.session(25)] as never, { warmup: 5, warmupMs: 50, runs: 1, maxSpread: Infinity, retries: 0, clock: m2.clock });
  t.deepEqual(m2.runs, [2 + 1]);
});

test('timing goes on past the runs asked for until it has taken minSeconds', async (t) => {
  const opts = { warmup: 0, runs: 3, maxSpread: Infinity, retries: 0 };
  const quick = fakeMachine();
  const q = await measureInterleaved([quick.session(5)] as never, { ...opts, clock: quick.clock });
  t.is(q[0].n, 3);
  t.deepEqual(q[0].samples, [5, 5, 5]);
  // two 5 ms subjects: a round takes 10 ms, so 200 ms take 20 rounds; a 21st never starts
  const long = fakeMachine();
  const l = await measureInterleaved([long.session(5), long.session(5)] as never, { ...opts, minSeconds: 0.2, clock: long.clock });
  t.deepEqual(l.map((x) => x.n), [20, 20]);
  t.deepEqual(long.runs, [20, 20]);
  // a round that crosses the window is finished, and none starts after it: 7 ms rounds, 29 of them (203 ms)
  const odd = fakeMachine();
  const o = await measureInterleaved([odd.session(3), odd.session(4)] as never, { ...opts, minSeconds: 0.2, clock: odd.clock });
  t.deepEqual(o.map((x) => x.n), [29, 29]);
  t.is(o[0].median, 3);
  t.is(o[1].median, 4);
});

test('calibration: a subnet timed with a spread over maxSpread is measured again and keeps the steadier measurement', async (t) => {
  const entries: Lut['entries'] = {};
  for (const it of distinctBlocks(net)) entries[it.key] = { kind: it.kind, median_ms: 1, q1_ms: 1, q3_ms: 1, spread: 0, runs: 1, retries: 0 };
  const lut = { entries } as Lut;
  const raw = new LatencyPredictor(lut, net.spec.architecture);
  const calls: string[][] = [];
  // first timing: every subnet 1.2x its block sum, the first two with a wide spread; later ones: 1.0x, tight.
  // The reference blocks run at the LUT's speed throughout (the machine is steady).
  const runsAt = (ms: number, wide: boolean) => (wide ? [0.8, 0.9, 1, 1.1, 1.2] : [0.99, 1, 1, 1, 1.01]).map((k) => ms * k);
  const timer = {
    identity: async () => ({}) as never,
    timeBlocks: async () => [],
    async timeConfigs(configs: SubnetConfig[], _m: unknown, _s: number, _p: number, refs: string[] = []) {
      calls.push(configs.map(configKey));
      const first = calls.length === 1;
      return [...configs.map((c, i) => runsAt(raw.blockSum(c) * (first ? 1.2 : 1), first && i < 2)), ...refs.map(() => [1, 1, 1, 1, 1])];
    },
  };
  const measure = { warmup: 0, warmupMs: 0, runs: 5, maxSpread: 0.1, retries: 2 };
  const cal = await calibrate(net, loadDevice('ort-cpu-1t'), lut, 4, measure, 1, 1, 1, timer);
  t.is(calls.length, 2, 'one more timing, of the two noisy subnets only');
  t.deepEqual(calls[1], calls[0].slice(0, 2));
  t.deepEqual(cal.samples.map((s) => s.retries ?? 0), [1, 1, 0, 0]);
  cal.samples.slice(0, 2).forEach((s) => t.true(Math.abs(s.measuredMs / s.blockSumMs - 1) < 1e-9));
  cal.samples.slice(2).forEach((s) => t.true(Math.abs(s.measuredMs / s.blockSumMs - 1.2) < 1e-9));
  t.true(cal.references!.length >= 1);
  t.deepEqual(cal.speedFactors, [1, 1]);
});

test('calibration: rounds are brought to the LUT speed by reference blocks timed in the same rounds', async (t) => {
  const entries: Lut['entries'] = {};
  distinctBlocks(net).forEach((it, i) => (entries[it.key] = { kind: it.kind, median_ms: 1 + i, q1_ms: 1 + i, q3_ms: 1 + i, spread: 0, runs: 1, retries: 0 }));
  const lut = { entries } as Lut;
  const refs = calibrationReferences(lut);
  t.is(refs.length, 3);
  t.false(refs.some((k) => entries[k].kind === 'overhead'));
  t.is(entries[refs[2]].median_ms, Math.max(...Object.values(entries).filter((e) => e.kind !== 'overhead').map((e) => e.median_ms)));
  const raw = new LatencyPredictor(lut, net.spec.architecture);
  // a machine whose speed moves from round to round (1x, 1.2x, 1.5x, 1.2x, 1x): subnets and references alike
  const speed = [1, 1.2, 1.5, 1.2, 1];
  const slow = {
    identity: async () => ({}) as never,
    timeBlocks: async () => [],
    async timeConfigs(configs: SubnetConfig[], _m: unknown, _s: number, _p: number, r: string[] = []) {
      t.deepEqual(r, refs);
      return [...configs.map((c) => speed.map((f) => 1.1 * raw.blockSum(c) * f)), ...r.map((k) => speed.map((f) => entries[k].median_ms * f))];
    },
  };
  const cal = await calibrate(net, loadDevice('ort-cpu-1t'), lut, 4, { warmup: 0, warmupMs: 0, runs: 5, maxSpread: 0.1, retries: 2 }, 1, 1, 1, slow);
  cal.samples.forEach((s) => t.true(Math.abs(s.measuredMs / s.blockSumMs - 1.1) < 1e-9, `${s.config}: ${s.measuredMs / s.blockSumMs}`));
  cal.samples.forEach((s) => t.is(s.spread, 0));
  t.deepEqual(cal.speedFactors, [1.2]);
  t.true(Math.abs(cal.a - 1.1) < 1e-6 && Math.abs(cal.b) < 1e-6);
  // the helper on its own: no references, no change
  t.deepEqual(atLutSpeed([[2, 4]], [], []), { samples: [[2, 4]], factor: 1 });
});

/** A timer whose machine runs each group of blocks at the next of `speeds` (cycling): every block takes 1 + its index ms at speed 1. */
function driftingTimer(speeds: number[]) {
  const index = new Map(distinctBlocks(net).map((it, i) => [it.key, i]));
  const groups: string[][] = [];
  const timer: BlockTimer = {
    identity: async () => ({ host: hostInfo(), runtime: { runtime: 'onnxruntime-node', version: 'test' }, machine: 'test' }),
    async timeBlocks(items) {
      const speed = speeds[groups.length % speeds.length];
      groups.push(items.map((i) => i.key));
      return items.map((i) => [0.98, 1, 1.02].map((k) => (1 + index.get(i.key)!) * speed * k));
    },
    timeConfigs: async () => [],
  };
  return { timer, groups, index };
}

test('a drift reference timed in every group brings the groups to one speed: the entries keep the blocks\' ratios', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'snc-drift-'));
  const speeds = [1.3, 1, 0.8, 1.1, 1];
  const items = distinctBlocks(net);
  const ref = driftReferenceItem(items)!;
  t.not(ref.kind, 'overhead');
  const { timer, groups, index } = driftingTimer(speeds);
  const opts = { measure: { runs: 3, warmup: 0, maxSpread: 1e9 }, group: 4, passes: 1, calibrationSamples: 0, timer };
  const lut = await profile(net, loadDevice('ort-cpu-1t'), { ...opts, out: join(dir, 'with.json') });
  t.true(groups.every((g) => g.at(-1) === ref.key), 'the reference closes every group');
  t.is(lut.drift!.reference, ref.key);
  t.true(lut.drift!.centred);
  const ng = Math.ceil(items.length / 4);
  const expected = Array.from({ length: ng }, (_, g) => speeds[g % speeds.length]);
  const median = [...expected].sort((a, b) => a - b)[Math.floor(ng / 2)];
  t.is(lut.drift!.factors.length, ng);
  lut.drift!.factors.forEach((f, g) => t.true(Math.abs(f - expected[g] / median) < 1e-3, `group ${g}: ${f}`));
  // every entry at the median group's speed: its true time times that speed
  for (const [k, e] of Object.entries(lut.entries)) t.true(Math.abs(e.median_ms / ((1 + index.get(k)!) * median) - 1) < 1e-3, `${k}: ${e.median_ms}`);

  const off = driftingTimer(speeds);
  const raw = await profile(net, loadDevice('ort-cpu-1t'), { ...opts, timer: off.timer, out: join(dir, 'without.json'), driftReference: false });
  t.is(raw.drift, undefined);
  t.is(off.groups.flat().length, items.length, 'no reference without it');
  const ratios = Object.entries(raw.entries).map(([k, e]) => e.median_ms / (1 + off.index.get(k)!));
  t.true(Math.max(...ratios) / Math.min(...ratios) > 1.5, 'without it the entries keep the groups\' speeds');
  rmSync(dir, { recursive: true, force: true });
});

test('groupFactor anchors on the first group and centreDrift moves the entries to the median group\'s speed', (t) => {
  const d: DriftReference = { reference: 'r', anchorMs: 0, factors: [] };
  t.is(groupFactor(d, [10, 11, 9]), 1);
  t.is(d.anchorMs, 10);
  t.is(groupFactor(d, [20, 20, 20]), 2);
  t.is(groupFactor(d, [15]), 1.5);
  const lut = { drift: d, entries: { a: { kind: 'x', median_ms: 4, q1_ms: 3, q3_ms: 5, spread: 0.5, runs: 2, retries: 0, samples_ms: [3, 5] } } } as unknown as Lut;
  centreDrift(lut);
  t.like(lut.entries.a, { median_ms: 6, q1_ms: 4.5, q3_ms: 7.5, spread: 0.5, samples_ms: [4.5, 7.5] });
  t.is(d.anchorMs, 15);
  t.deepEqual(d.factors, [0.6667, 1.3333, 1]);
  t.true(d.centred);
});
