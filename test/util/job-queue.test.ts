import test from 'ava';
import { SncError } from '../../src/errors.js';
import { JobClient, JobFailed, UnrecoverableError, parseQueueUrl, runJobs } from '../../src/util/job-queue.js';
import { TestRedis } from '../helpers/redis.js';

// a real redis-server of the tests' own (Debian's redis-server; .ci/run installs it)
let redis: TestRedis;
test.before(async () => {
  redis = await TestRedis.start();
});
test.after.always(async () => {
  await redis?.close();
});

/** Resolves when `cond` holds, polling; fails after `ms` (generous: the machine may be loaded). */
async function until(cond: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('parseQueueUrl: host, port, database; bad URLs name the form expected', (t) => {
  t.like(parseQueueUrl('redis://10.0.0.5:6380/2'), { host: '10.0.0.5', port: 6380, db: 2, url: 'redis://10.0.0.5:6380/2' });
  t.like(parseQueueUrl('redis://box'), { host: 'box', port: 6379, db: 0 });
  const withPassword = parseQueueUrl('redis://user:s%40cret@box:7000/1');
  t.like(withPassword, { username: 'user', password: 's@cret', url: 'redis://box:7000/1' });
  for (const [url, re] of [
    ['http://box:6379', /--queue 'http:\/\/box:6379' is not a Redis URL: give redis:\/\/HOST:PORT\[\/DB\]/],
    ['box:6379', /is not a Redis URL/],
    ['redis://box:6379/x', /has database 'x', not an integer >= 0/],
    ['redis://box:6379/1?a=b', /has a query or fragment/],
  ] as const) {
    const e = t.throws(() => parseQueueUrl(url), { instanceOf: SncError });
    t.regex(e!.message, re);
  }
});

test.serial('one id is one job: duplicate submits join, a finished job is found done, late notices are ignored', async (t) => {
  const target = parseQueueUrl(redis.url);
  const runs: number[] = [];
  const worker = runJobs<{ x: number }, { y: number }>(target, 'dup', async (d) => {
    runs.push(d.x);
    return { y: 2 * d.x };
  });
  const client = new JobClient<{ x: number }, { y: number }>(target, 'dup', { pollMs: 200 });
  try {
    const [a, b] = await Promise.all([client.submit('n', { x: 3 }, 'dup-3'), client.submit('n', { x: 3 }, 'dup-3')]);
    t.deepEqual(a.result, { y: 6 });
    t.is(a, b);
    t.deepEqual(runs, [3]);
    t.like(client.stats, { submitted: 1, joined: 1, completed: 1, retried: 0 });
    // another client (another search) asking for the same job: the stored result, not a second run
    const other = new JobClient<{ x: number }, { y: number }>(target, 'dup', { pollMs: 200 });
    const c = await other.submit('n', { x: 3 }, 'dup-3');
    await other.close();
    t.true(c.foundDone);
    t.deepEqual(c.result, { y: 6 });
    t.deepEqual(runs, [3]);
  } finally {
    await client.close();
    await worker.close();
  }
});

test.serial('a job failing on every attempt rejects with its reason; an unrecoverable one is not retried', async (t) => {
  const target = parseQueueUrl(redis.url);
  const attempts = new Map<string, number>();
  const worker = runJobs<{ kind: string }, number>(target, 'fail', async (d, job) => {
    attempts.set(job.id!, (attempts.get(job.id!) ?? 0) + 1);
    if (d.kind === 'unrecoverable') throw new UnrecoverableError('the input is not here');
    throw new Error(`broken ${d.kind}`);
  });
  const client = new JobClient<{ kind: string }, number>(target, 'fail', { pollMs: 200, jobOptions: { attempts: 3, backoff: { type: 'fixed', delay: 10 } } });
  try {
    const e = await t.throwsAsync(client.submit('n', { kind: 'always' }, 'fail-always'), { instanceOf: JobFailed });
    t.regex(e!.message, /^job fail-always failed after 3 attempts: broken always$/);
    t.is(attempts.get('fail-always'), 3);
    const u = await t.throwsAsync(client.submit('n', { kind: 'unrecoverable' }, 'fail-unrec'), { instanceOf: JobFailed });
    t.is(u!.reason, 'the input is not here');
    t.is(attempts.get('fail-unrec'), 1);
    t.like(client.stats, { failed: 2, completed: 0 });
  } finally {
    await client.close();
    await worker.close();
  }
});

test.serial('a worker that stops renewing its lock: the job stalls and runs again on another worker', async (t) => {
  const target = parseQueueUrl(redis.url);
  // the first worker takes the job and never finishes it; closing it without waiting stops its lock renewal
  let taken = false;
  const stuck = runJobs<{ x: number }, number>(target, 'stall', () => {
    taken = true;
    return new Promise(() => {});
  }, { lockMs: 500, stalledMs: 200 });
  const client = new JobClient<{ x: number }, number>(target, 'stall', { pollMs: 200 });
  try {
    const p = client.submit('n', { x: 1 }, 'stall-1');
    await until(() => taken);
    await stuck.close(true);
    const ok = runJobs<{ x: number }, number>(target, 'stall', async (d) => d.x + 41, { lockMs: 500, stalledMs: 200 });
    const o = await p;
    await ok.close();
    t.is(o.result, 42);
    t.true(o.stalls >= 1, JSON.stringify(o));
    t.true(o.attemptsStarted >= 2, JSON.stringify(o));
    t.like(client.stats, { retried: 1 });
  } finally {
    await client.close();
  }
});

test.serial('Redis restarted without its data while a job is queued: the client adds it again and gets its result', async (t) => {
  const target = parseQueueUrl(redis.url);
  const notices: string[] = [];
  const client = new JobClient<{ x: number }, number>(target, 'restart', { pollMs: 200, onNotice: (l) => notices.push(l) });
  try {
    // no worker yet: the job waits in Redis, which then loses it
    const p = client.submit('n', { x: 5 }, 'restart-5');
    const end = Date.now() + 60_000;
    while (!(await client.queue.getJob('restart-5'))) {
      if (Date.now() > end) throw new Error('the job never reached Redis');
      await new Promise((r) => setTimeout(r, 20));
    }
    await redis.restart(300);
    const worker = runJobs<{ x: number }, number>(target, 'restart', async (d) => d.x * 10);
    const o = await p;
    await worker.close();
    t.is(o.result, 50);
    t.true(o.readds >= 1, JSON.stringify(o));
    t.true(notices.some((l) => /Redis unreachable/.test(l)), notices.join('\n'));
  } finally {
    await client.close();
  }
});
