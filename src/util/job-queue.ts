/**
 * Work spread over machines as jobs on BullMQ (Redis). A coordinator submits jobs under ids it
 * derives from their content and awaits each one's outcome (JobClient); workers run them
 * (runJobs). Documented in docs/scale-out.md.
 *
 * What a long run meets, and what happens:
 * - a worker dies mid-job: its lock lapses, BullMQ's stalled-job check (run by every worker)
 *   puts the job back in the queue, another worker runs it;
 * - Redis restarts: every connection retries until it is back; commands wait meanwhile. A
 *   Redis that lost its data (no persistence) has lost the jobs too: the client finds its jobs
 *   missing when it polls and adds them again, under the same ids;
 * - a job fails on every attempt: its promise rejects with JobFailed and the failure reason;
 * - duplicates: one id is one job (adding an id that exists adds nothing) and one outcome per
 *   id is delivered, whatever the number of completions or notifications.
 */
import { hostname } from 'node:os';
import { Job, Queue, QueueEvents, UnrecoverableError, Worker, type JobsOptions } from 'bullmq';
import type { QueueTarget } from './queue-url.js';

export { parseQueueUrl, type QueueTarget } from './queue-url.js';

export { UnrecoverableError };

/** Prefix of snc's keys in Redis. */
export const KEY_PREFIX = 'snc';

/** ioredis options: commands wait for a lost connection to come back instead of failing. */
export function connectionOf(t: QueueTarget) {
  return {
    host: t.host,
    port: t.port,
    db: t.db,
    ...(t.username ? { username: t.username } : {}),
    ...(t.password ? { password: t.password } : {}),
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    retryStrategy: (times: number) => Math.min(100 * times, 2000),
  };
}

/** The name a process is known by in its jobs' results: host and pid. */
export function processName(): string {
  return `${hostname()}:${process.pid}`;
}

/** A job that failed on its last attempt. */
export class JobFailed extends Error {
  constructor(
    readonly jobId: string,
    readonly reason: string,
    readonly attempts: number,
  ) {
    super(`job ${jobId} failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${reason}`);
    this.name = 'JobFailed';
  }
}

export interface JobOutcome<R> {
  id: string;
  result: R;
  /** Times a worker started the job (more than 1: it was retried after a failure or a stall). */
  attemptsStarted: number;
  /** Times the job stalled (its worker stopped renewing its lock: killed, hung, cut off). */
  stalls: number;
  /** Times the client added the job again after Redis lost it. */
  readds: number;
  /** Milliseconds from submit to the outcome seen here (performance.now() clock of this process). */
  elapsedMs: number;
  /** Whether the job had already completed when it was submitted (same id, an earlier run). */
  foundDone: boolean;
}

export interface JobClientStats {
  submitted: number;
  completed: number;
  failed: number;
  /** Jobs started more than once (a failed attempt retried, or a stall). */
  retried: number;
  stalls: number;
  /** Jobs added again after Redis lost them. */
  readded: number;
  /** Submits of an id already awaited (joined to it, not run twice). */
  joined: number;
  /** Completion notices for an id already settled (ignored). */
  lateNotices: number;
}

export interface JobClientOptions {
  /** How often every awaited job's state is read from Redis, besides the events (default 1000 ms). */
  pollMs?: number;
  /** BullMQ job options: attempts (default 3), backoff (default 1 s fixed), retention. */
  jobOptions?: JobsOptions;
  /** Called with a line when Redis becomes unreachable and when it is back. */
  onNotice?: (line: string) => void;
}

interface Waiter<D, R> {
  name: string;
  data: D;
  promise: Promise<JobOutcome<R>>;
  resolve(o: JobOutcome<R>): void;
  reject(e: Error): void;
  t0: number;
  readds: number;
  /** Stalls announced by the queue's events (a Redis that lost its data loses the job's own count). */
  stallsSeen: number;
  placed: boolean;
  foundDone: boolean;
}

export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: 'fixed', delay: 1000 },
  removeOnComplete: { age: 24 * 3600 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/**
 * Submits jobs to one queue and awaits their outcomes. Ids must be derived from what the job
 * computes (two submits of one id are one job).
 */
export class JobClient<D, R> {
  readonly queue: Queue;
  private readonly events: QueueEvents;
  private readonly waiters = new Map<string, Waiter<D, R>>();
  private readonly settled = new Set<string>();
  private readonly timer: NodeJS.Timeout;
  private polling: Promise<void> | undefined;
  private down = false;
  private closed = false;
  private readonly jobOptions: JobsOptions;
  readonly stats: JobClientStats = { submitted: 0, completed: 0, failed: 0, retried: 0, stalls: 0, readded: 0, joined: 0, lateNotices: 0 };

  constructor(
    readonly target: QueueTarget,
    readonly name: string,
    private readonly opts: JobClientOptions = {},
  ) {
    const connection = connectionOf(target);
    this.jobOptions = { ...DEFAULT_JOB_OPTIONS, ...opts.jobOptions };
    this.queue = new Queue(name, { connection, prefix: KEY_PREFIX });
    this.events = new QueueEvents(name, { connection, prefix: KEY_PREFIX });
    const onError = (e: Error) => this.lost(e);
    this.queue.on('error', onError);
    this.events.on('error', onError);
    this.events.on('completed', ({ jobId }) => this.notice(jobId));
    this.events.on('failed', ({ jobId }) => this.notice(jobId));
    this.events.on('stalled', ({ jobId }) => {
      const w = this.waiters.get(jobId);
      if (w) w.stallsSeen++;
    });
    this.timer = setInterval(() => void this.poll(), opts.pollMs ?? 1000);
    this.timer.unref();
  }

  private lost(e: Error): void {
    if (this.closed || this.down) return;
    this.down = true;
    this.opts.onNotice?.(`queue ${this.target.url}: Redis unreachable (${e.message.split('\n')[0]}); waiting for it to come back`);
  }

  /** The job's outcome: its result, or JobFailed once it failed on its last attempt. */
  submit(name: string, data: D, jobId: string): Promise<JobOutcome<R>> {
    if (this.closed) return Promise.reject(new Error('JobClient: closed'));
    const existing = this.waiters.get(jobId);
    if (existing) {
      this.stats.joined++;
      return existing.promise;
    }
    let resolve!: (o: JobOutcome<R>) => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<JobOutcome<R>>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const w: Waiter<D, R> = { name, data, promise, resolve, reject, t0: performance.now(), readds: 0, stallsSeen: 0, placed: false, foundDone: false };
    this.waiters.set(jobId, w);
    this.settled.delete(jobId);
    this.stats.submitted++;
    this.place(jobId, w).catch((e) => this.settle(jobId, undefined, e));
    return promise;
  }

  /** Adds the job, or takes over the one with its id: a completed one is an outcome, a failed one (an earlier run's) is retried. */
  private async place(jobId: string, w: Waiter<D, R>): Promise<void> {
    const job = await Job.fromId(this.queue, jobId);
    if (!job) await this.queue.add(w.name, w.data, { ...this.jobOptions, jobId });
    else {
      const state = await job.getState();
      if (state === 'completed') w.foundDone = true;
      if (state === 'failed') await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    }
    w.placed = true;
    await this.check(jobId);
  }

  private notice(jobId: string): void {
    if (this.waiters.has(jobId)) void this.check(jobId).catch(() => {});
    else if (this.settled.has(jobId)) this.stats.lateNotices++;
  }

  /** Reads the job's state; settles its waiter when it is finished, adds it again when Redis lost it. */
  private async check(jobId: string): Promise<void> {
    const w = this.waiters.get(jobId);
    if (!w || !w.placed) return;
    // the state first: a job read before its state is finished could lack its result or reason
    const state = await this.queue.getJobState(jobId);
    if (this.waiters.get(jobId) !== w) return;
    if (this.down) {
      this.down = false;
      this.opts.onNotice?.(`queue ${this.target.url}: Redis is back`);
    }
    if (state === 'unknown') {
      w.readds++;
      this.stats.readded++;
      await this.queue.add(w.name, w.data, { ...this.jobOptions, jobId });
      return;
    }
    if (state !== 'completed' && state !== 'failed') return;
    const job = await Job.fromId<D, R>(this.queue, jobId);
    if (!job || this.waiters.get(jobId) !== w) return;
    const started = job.attemptsStarted ?? job.attemptsMade;
    const stalls = Math.max(job.stalledCounter ?? 0, w.stallsSeen);
    if (started > 1 || stalls > 0) this.stats.retried++;
    this.stats.stalls += stalls;
    if (state === 'completed') {
      this.stats.completed++;
      this.settle(jobId, { id: jobId, result: job.returnvalue, attemptsStarted: started, stalls, readds: w.readds, elapsedMs: performance.now() - w.t0, foundDone: w.foundDone });
    } else {
      this.stats.failed++;
      this.settle(jobId, undefined, new JobFailed(jobId, job.failedReason || 'no reason recorded', Math.max(1, job.attemptsMade)));
    }
  }

  private settle(jobId: string, outcome: JobOutcome<R> | undefined, error?: Error): void {
    const w = this.waiters.get(jobId);
    if (!w) return;
    this.waiters.delete(jobId);
    this.settled.add(jobId);
    if (outcome) w.resolve(outcome);
    else w.reject(error!);
  }

  private poll(): Promise<void> {
    if (this.polling || this.closed) return this.polling ?? Promise.resolve();
    this.polling = (async () => {
      try {
        for (const id of [...this.waiters.keys()]) await this.check(id);
      } catch {
        // a connection error: the next poll tries again
      } finally {
        this.polling = undefined;
      }
    })();
    return this.polling;
  }

  /** Jobs awaited now. */
  get pending(): number {
    return this.waiters.size;
  }

  /** Stops awaiting (pending submits reject) and closes the connections; jobs stay in Redis. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    for (const [id] of this.waiters) this.settle(id, undefined, new Error('JobClient: closed'));
    await Promise.allSettled([this.polling]);
    await Promise.allSettled([this.events.close(), this.queue.close()]);
  }
}

export interface RunJobsOptions {
  concurrency?: number;
  /** Lock on a job while it runs; it lapses this long after its worker stops renewing it (default 30 000 ms). */
  lockMs?: number;
  /** How often this worker looks for stalled jobs (default 30 000 ms). */
  stalledMs?: number;
  /** Stalls after which a job fails instead of running again (default 2). */
  maxStalls?: number;
  /** Called with a line when Redis becomes unreachable and when it is back. */
  onNotice?: (line: string) => void;
}

/** A BullMQ worker on one queue: runs `handle` for each job it takes (its result is the job's). */
export function runJobs<D, R>(target: QueueTarget, name: string, handle: (data: D, job: Job<D, R>) => Promise<R>, opts: RunJobsOptions = {}): Worker<D, R> {
  let down = false;
  const worker = new Worker<D, R>(name, (job) => {
    // a job taken: the connection works
    if (down) {
      down = false;
      opts.onNotice?.(`queue ${target.url} (${name}): connected again`);
    }
    return handle(job.data, job);
  }, {
    connection: connectionOf(target),
    prefix: KEY_PREFIX,
    concurrency: Math.max(1, opts.concurrency ?? 1),
    lockDuration: opts.lockMs ?? 30_000,
    stalledInterval: opts.stalledMs ?? 30_000,
    maxStalledCount: opts.maxStalls ?? 2,
    name: processName(),
  });
  worker.on('error', (e) => {
    if (down) return;
    // connection errors repeat while Redis is away: one line until a job is taken again
    if (/ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|Connection is closed/.test(e.message)) down = true;
    opts.onNotice?.(`queue ${target.url} (${name}): ${e.message.split('\n')[0]}${down ? '; retrying' : ''}`);
  });
  return worker;
}
