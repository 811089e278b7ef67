/**
 * snc search --queue against a real redis-server (started here on a free loopback port) and real
 * `snc worker` processes, on a small supernet (4 groups, 16 subnets) and an 8-image synthetic
 * set. No timing assertions: every wait is on an event, with a generous bound.
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesize } from '../../src/data/synth.js';
import { TestRedis } from '../helpers/redis.js';
import { smallSupernet } from '../helpers/small-supernet.js';
import { SncWorker, runSnc } from '../helpers/snc-worker.js';

const tmp = mkdtempSync(join(tmpdir(), 'snc-queue-test-'));
const set = join(tmp, 'set');
const otherSet = join(tmp, 'other-set');
const small = smallSupernet(join(tmp, 'net'), { resolution: [160, 224] });
const ready = Promise.all([synthesize({ out: set, images: 8, seed: 5, size: 96 }), synthesize({ out: otherSet, images: 8, seed: 6, size: 96 })]);
const redises: TestRedis[] = [];
const workers: SncWorker[] = [];
test.after.always(async () => {
  await Promise.all(workers.map((w) => w.kill9()));
  await Promise.all(redises.map((r) => r.close()));
  rmSync(tmp, { recursive: true, force: true });
});

async function newRedis(): Promise<TestRedis> {
  const r = await TestRedis.start();
  redises.push(r);
  return r;
}

/** Worker flags with short lock and stall intervals, so that a dead worker's job comes back soon. */
function startWorker(redis: TestRedis, extra: string[] = [], env: NodeJS.ProcessEnv = {}): SncWorker {
  const w = new SncWorker(['--queue', redis.url, '--supernet', small.dir, '--data', set, '--lock-ms', '1500', '--stalled-ms', '500', ...extra], env);
  workers.push(w);
  return w;
}

let cacheN = 0;
/** A pruned search on a 3-image subset, or with --exhaustive in `extra` every group on every image. */
const searchArgs = (out: string, extra: string[] = []) => [
  'search', '--supernet', small.dir, '--data', set, '--lut', small.luts[0], '--lut', small.luts[1], ...(extra.includes('--exhaustive') ? [] : ['--subset', '3']),
  '--workers', '2', '--top-k', '20', '--out', out, '--json', ...extra,
];
/** Runs a search with its own evaluation cache (unless `cache` names one). */
function search(extra: string[] = [], cache = join(tmp, `cache-${++cacheN}`)) {
  const out = join(tmp, `out-${cacheN}-${Math.random().toString(36).slice(2)}`);
  return runSnc(searchArgs(out, extra), { SNC_CACHE_DIR: cache });
}

interface Result {
  devices: { device: string; front: unknown[] }[];
  subnets: { key: string; metrics: unknown; status: string }[];
  counts: Record<string, number>;
  missing: { group: string; phase: string; reason: string }[];
  queue?: { stats: Record<string, number>; jobs: { worker: string; group: string }[] };
}

/** The in-process search every queued one is compared with (computed once). */
let baseline: Promise<Result> | undefined;
function inProcess(): Promise<Result> {
  baseline ??= (async () => {
    await ready;
    const r = await search().done;
    if (r.code !== 0) throw new Error(`in-process search failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as Result;
  })();
  return baseline;
}

function sameOutcome(t: import('ava').ExecutionContext, got: Result, want: Result): void {
  t.deepEqual(got.devices.map((d) => d.front), want.devices.map((d) => d.front), 'fronts');
  t.deepEqual(
    got.subnets.map((s) => [s.key, s.status, s.metrics]),
    want.subnets.map((s) => [s.key, s.status, s.metrics]),
    'every subnet: status and metrics',
  );
  t.deepEqual(got.missing, []);
}

test.serial('search --queue with two snc worker processes: the fronts and metrics of the in-process search; a re-run is all cached, another cache finds the jobs done', async (t) => {
  const want = await inProcess();
  const redis = await newRedis();
  const a = startWorker(redis);
  const b = startWorker(redis);
  await Promise.all([a.ready(), b.ready()]);
  t.regex(a.log, /supernet shapes-small \(.*\): [0-9a-f]{32}/);
  t.regex(a.log, /data set .*annotations\.json: [0-9a-f]{32}/);
  const cache = join(tmp, 'cache-queued');
  const r = await search(['--queue', redis.url], cache).done;
  t.is(r.code, 0, r.stderr);
  const got = JSON.parse(r.stdout) as Result;
  sameOutcome(t, got, want);
  t.like(got.counts, { subsetRun: 4, fullRun: want.counts.fullRun });
  // one job per group evaluation, none twice
  t.like(got.queue!.stats, { submitted: 4 + want.counts.fullRun, completed: 4 + want.counts.fullRun, failed: 0, joined: 0 });
  t.is(got.queue!.jobs.length, 4 + want.counts.fullRun);
  t.regex(r.stderr, /^search: queue redis:\/\/127\.0\.0\.1:\d+\/0: \d+ jobs, \d+ completed, 0 failed, 0 retried \(0 stalls\), 0 re-added after Redis lost them; by worker: /m);

  // the same cache: nothing to run
  const again = await search(['--queue', redis.url], cache).done;
  t.is(again.code, 0, again.stderr);
  const cached = JSON.parse(again.stdout) as Result;
  t.like(cached.counts, { subsetRun: 0, fullRun: 0 });
  t.like(cached.queue!.stats, { submitted: 0 });
  // another cache (another machine's coordinator): the jobs are found done in Redis, not run again
  const logs = a.log.length + b.log.length;
  const other = await search(['--queue', redis.url]).done;
  t.is(other.code, 0, other.stderr);
  sameOutcome(t, JSON.parse(other.stdout), want);
  t.regex(other.stderr, /completed \(\d+ already done in Redis\)/);
  t.is(a.log.length + b.log.length, logs, 'no worker ran a job');
  await Promise.all([a.stop(), b.stop()]);
  t.regex(a.log, /SIGTERM: finishing running jobs, then stopping/);
});

test.serial('a worker killed with SIGKILL mid-job: its job stalls and runs on the other worker; the same fronts', async (t) => {
  const want = await inProcess();
  const redis = await newRedis();
  // this one takes a job and never finishes it (SNC_WORKER_HOOK=hang), until it is killed
  const doomed = startWorker(redis, [], { SNC_WORKER_HOOK: 'hang' });
  await doomed.ready();
  const s = search(['--queue', redis.url]);
  await doomed.waitFor(/job \S+ started/);
  await doomed.kill9();
  const good = startWorker(redis);
  const r = await s.done;
  t.is(r.code, 0, r.stderr);
  const got = JSON.parse(r.stdout) as Result;
  sameOutcome(t, got, want);
  t.true(got.queue!.stats.retried >= 1, JSON.stringify(got.queue!.stats));
  t.true(got.queue!.stats.stalls >= 1, JSON.stringify(got.queue!.stats));
  t.regex(good.log, /job \S+ started: .* \(attempt 2\)/);
  await good.stop();
});

test.serial('Redis restarted (its data lost) mid-search: the search waits, adds the lost jobs again and finishes with the same fronts', async (t) => {
  const want = await inProcess();
  const redis = await newRedis();
  const a = startWorker(redis);
  const b = startWorker(redis);
  await Promise.all([a.ready(), b.ready()]);
  const s = search(['--queue', redis.url]);
  // once one job is done, take Redis down for a moment
  const firstDone = Promise.race([a.waitFor(/job \S+ done/), b.waitFor(/job \S+ done/)]);
  await firstDone;
  await redis.restart(1000);
  const r = await s.done;
  t.is(r.code, 0, r.stderr);
  sameOutcome(t, JSON.parse(r.stdout), want);
  t.regex(r.stderr, /search: queue redis:\S+: Redis unreachable/);
  t.regex(r.stderr, /search: queue redis:\S+: Redis is back/);
  await Promise.all([a.stop(), b.stop()]);
});

test.serial('a group failing on every attempt: the search finishes the others, names it with the reason in pareto.json and on stderr, exit code 3', async (t) => {
  await ready;
  const redis = await newRedis();
  const bad = 'res=224,patch=16,windows=2';
  const a = startWorker(redis, [], { SNC_WORKER_HOOK: `fail-group:${bad}` });
  const b = startWorker(redis, [], { SNC_WORKER_HOOK: `fail-group:${bad}` });
  await Promise.all([a.ready(), b.ready()]);
  const r = await search(['--queue', redis.url, '--exhaustive']).done;
  t.is(r.code, 3, r.stderr);
  const got = JSON.parse(r.stdout) as Result;
  t.is(got.missing.length, 1);
  t.like(got.missing[0], { group: bad, phase: 'full' });
  t.regex(got.missing[0].reason, /^job eval-[0-9a-f]+ failed after 3 attempts: SNC_WORKER_HOOK: injected failure of group res=224,patch=16,windows=2$/);
  t.like(got.counts, { configsEvaluated: 12, configsMissing: 4, configsRuledOut: 0, fullRun: 3 });
  for (const s of got.subnets) t.is(s.status, s.key.startsWith(`${bad},`) ? 'missing' : 'evaluated', s.key);
  t.regex(r.stderr, /^search: missing: group res=224,patch=16,windows=2 \(every image\): job eval-\S+ failed after 3 attempts: SNC_WORKER_HOOK: injected failure/m);
  t.regex(r.stderr, /^search: incomplete: 1 of 4 groups failed \(4 subnets without metrics\); the fronts are those of the other subnets; exit code 3$/m);
  await Promise.all([a.stop(), b.stop()]);
});

test.serial('a worker holding another data set or supernet fails the job with the hash mismatch, at once, never a result', async (t) => {
  await ready;
  const redis = await newRedis();
  const w = new SncWorker(['--queue', redis.url, '--supernet', 'shapes-tiny', '--data', otherSet]);
  workers.push(w);
  await w.ready();
  const r = await search(['--queue', redis.url, '--exhaustive']).done;
  t.is(r.code, 3, r.stderr);
  const got = JSON.parse(r.stdout) as Result;
  t.is(got.missing.length, 4);
  t.like(got.counts, { configsEvaluated: 0, fullRun: 0 });
  for (const m of got.missing) t.regex(m.reason, /failed after 1 attempt: worker \S+: supernet hash mismatch: the job needs 'shapes-small' with hash [0-9a-f]{32}; this worker has shapes-tiny \(.*\) [0-9a-f]{32} \(give snc worker --supernet a copy/);
  await w.stop();

  const w2 = new SncWorker(['--queue', redis.url, '--supernet', small.dir, '--data', otherSet]);
  workers.push(w2);
  await w2.ready();
  const r2 = await search(['--queue', redis.url, '--exhaustive']).done;
  t.is(r2.code, 3, r2.stderr);
  for (const m of (JSON.parse(r2.stdout) as Result).missing) t.regex(m.reason, /worker \S+: data set hash mismatch: the job needs .*annotations\.json \(8 images\) with hash [0-9a-f]{32}; this worker has .*other-set.*annotations\.json [0-9a-f]{32}/);
  await w2.stop();
});

test('snc worker and search --queue: bad arguments are one line and exit code 2', async (t) => {
  await ready;
  for (const [args, re] of [
    [['worker', '--supernet', small.dir, '--data', set], /^snc: worker: --queue is required/],
    [['worker', '--queue', 'localhost:6379', '--supernet', small.dir, '--data', set], /^snc: worker: --queue 'localhost:6379' is not a Redis URL: give redis:\/\/HOST:PORT\[\/DB\]/],
    [['worker', '--queue', 'redis://127.0.0.1:1', '--data', set], /^snc: worker: --supernet is required/],
    [['worker', '--queue', 'redis://127.0.0.1:1', '--supernet', small.dir], /^snc: worker: nothing to do: give --data DIR/],
    [['worker', '--queue', 'redis://127.0.0.1:1', '--supernet', small.dir, '--device', 'ort-tpu'], /^snc: .*ort-tpu/],
    [searchArgs(join(tmp, 'x'), ['--queue', 'redis://h:1/db']), /^snc: search: --queue 'redis:\/\/h:1\/db' has database 'db', not an integer >= 0/],
  ] as [string[], RegExp][]) {
    const r = await runSnc(args).done;
    t.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, re);
    t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});
