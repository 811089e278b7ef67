/**
 * snc profile --queue against a real redis-server and an `snc worker --device` process: the same
 * protocol as a local profile (the same groups, passes, seeds and calibration requests, merged by
 * the same code), the worker's machine in the LUT, a clear failure on a family mismatch.
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SubnetConfig } from '../../src/detr/spec.js';
import { loadSupernetDir } from '../../src/detr/supernet.js';
import { loadDevice } from '../../src/latency/device.js';
import { hostInfo } from '../../src/latency/host.js';
import { readLut } from '../../src/latency/lut.js';
import type { MeasureOptions } from '../../src/latency/measure.js';
import { QueueTimer } from '../../src/latency/profile-jobs.js';
import { distinctBlocks, localTimer, profile, type BlockTimer, type ProfileItem } from '../../src/latency/profiler.js';
import { parseQueueUrl } from '../../src/util/queue-url.js';
import { TestRedis } from '../helpers/redis.js';
import { SncWorker, runSnc } from '../helpers/snc-worker.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const fixture = join(root, 'test/fixtures/parity');
const net = loadSupernetDir(fixture);
const device = loadDevice('ort-cpu-1t');
const tmp = mkdtempSync(join(tmpdir(), 'snc-profile-queue-'));
let redis: TestRedis;
let worker: SncWorker;
test.before(async () => {
  redis = await TestRedis.start();
  worker = new SncWorker(['--queue', redis.url, '--supernet', fixture, '--device', 'ort-cpu-1t']);
  await worker.ready();
});
test.after.always(async () => {
  await worker?.stop();
  await redis?.close();
  rmSync(tmp, { recursive: true, force: true });
});

type Call = { op: 'blocks'; keys: string[]; measure: MeasureOptions } | { op: 'configs'; n: number; measure: MeasureOptions; seed: number; passes: number; references?: number };

/** A timer that records what profile() asks of it. */
function recording(inner: BlockTimer): BlockTimer & { calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    identity: () => inner.identity(),
    close: () => inner.close?.() ?? Promise.resolve(),
    timeBlocks(items: ProfileItem[], measure: MeasureOptions) {
      calls.push({ op: 'blocks', keys: items.map((i) => i.key), measure });
      return inner.timeBlocks(items, measure);
    },
    timeConfigs(configs: SubnetConfig[], measure: MeasureOptions, seed: number, passes: number, references?: string[]) {
      // the reference blocks are chosen by the LUT's medians, which differ from one profile to the next: their count
      calls.push({ op: 'configs', n: configs.length, measure, seed, passes, references: references?.length });
      return inner.timeConfigs(configs, measure, seed, passes, references);
    },
  };
}

// no re-measurement of noisy blocks (its count depends on the noise), a short calibration
const opts = { measure: { runs: 2, warmup: 0, maxSpread: 1e9 }, group: 8, passes: 2, calibrationSamples: 2, seed: 3 };

test.serial('a queued profile asks for the same timings as a local one, in the same order, and merges them into the same LUT', async (t) => {
  const local = recording(localTimer(net, device));
  const queued = recording(new QueueTimer(parseQueueUrl(redis.url), net, device, { pollMs: 200 }));
  const a = await profile(net, device, { ...opts, out: join(tmp, 'local.json'), timer: local });
  const b = await profile(net, device, { ...opts, out: join(tmp, 'queued.json'), timer: queued }).finally(() => queued.close!());
  t.deepEqual(queued.calls, local.calls);
  t.is(local.calls.filter((c) => c.op === 'blocks').length, 2 * Math.ceil(distinctBlocks(net).length / 8));
  t.deepEqual(Object.keys(b.entries).sort(), Object.keys(a.entries).sort());
  for (const [k, e] of Object.entries(b.entries)) t.like(e, { kind: a.entries[k].kind, runs: a.entries[k].runs, passes: 2, retries: 0 }, k);
  t.deepEqual(b.protocol, a.protocol);
  t.deepEqual(b.host, a.host);
  t.deepEqual(b.runtime, a.runtime);
  t.true(b.complete);
  t.is(b.calibration!.samples.length, 2);
  t.is(b.calibration!.references!.length, 3);
  const last = local.calls.at(-1)!;
  t.is(last.op === 'configs' ? last.references : undefined, 3);
  t.regex(worker.log, /job profile-ort-cpu-1t-\S+ done: ort-cpu-1t: \d+ blocks x 1 runs/);
  t.regex(worker.log, /job profile-ort-cpu-1t-\S+ done: ort-cpu-1t: 2 subnets for the calibration/);
});

test.serial('snc profile --queue writes a complete LUT that records the worker\'s machine', async (t) => {
  const out = join(tmp, 'cli.json');
  const r = await runSnc(['profile', '--device', 'ort-cpu-1t', '--supernet', fixture, '--out', out, '--runs', '2', '--warmup', '0', '--passes', '1', '--calibration', '2', '--max-spread', '1000', '--queue', redis.url, '--json']).done;
  t.is(r.code, 0, r.stderr);
  t.like(JSON.parse(r.stdout), { out, device: 'ort-cpu-1t', complete: true, entries: distinctBlocks(net).length });
  const lut = readLut(out);
  t.deepEqual(lut.host, hostInfo()); // the worker runs on this machine
  t.is(lut.runtime.runtime, 'onnxruntime-node');
});

test.serial('a worker of another supernet family fails the profile with the mismatch, exit code 2', async (t) => {
  const other = await TestRedis.start();
  const w = new SncWorker(['--queue', other.url, '--supernet', 'shapes-tiny', '--device', 'ort-cpu-1t']);
  try {
    await w.ready();
    const r = await runSnc(['profile', '--device', 'ort-cpu-1t', '--supernet', fixture, '--out', join(tmp, 'never.json'), '--queue', other.url]).done;
    t.is(r.code, 2, r.stderr);
    t.regex(r.stderr, /^snc: profile: identity job on queue snc-profile-ort-cpu-1t failed: job \S+ failed after 1 attempt: worker \S+: supernet family mismatch: the job times 'parity-fixture' \(family hash [0-9a-f]+\); this worker has shapes-tiny [0-9a-f]+/m);
  } finally {
    await w.stop();
    await other.close();
  }
});
