/**
 * The worker's side of queued group evaluations (queue.ts): finds the supernet and data set a
 * job names among the local copies it was given, by hash, and runs the evaluation in an EvalPool
 * (worker threads, so the process stays free to renew the job's lock). A job naming a supernet,
 * data set or evaluator this worker does not have fails at once, without retries, with the
 * reason: never a result computed from other inputs.
 */
import type { CocoDataset } from '../data/coco.js';
import type { Supernet } from '../detr/supernet.js';
import { SncError } from '../errors.js';
import { UnrecoverableError, processName } from '../util/job-queue.js';
import { datasetHash, supernetHash } from './cache.js';
import { EvalPool, evalPoolId } from './pool.js';
import { groupName, type EvalJobData, type EvalJobResult } from './queue.js';

export interface EvalJobRunnerOptions {
  /** Evaluation threads (jobs at once). */
  concurrency?: number;
  /** onnxruntime intra-op threads per evaluation (default 1). */
  threads?: number;
  prefetch?: number;
}

interface Local<T> {
  value: T;
  hash: string;
  label: string;
}

export class EvalJobRunner {
  private readonly nets: Local<Supernet>[];
  private readonly sets: Local<CocoDataset>[];
  private readonly pools = new Map<string, EvalPool>();
  readonly evaluator = evalPoolId();
  readonly name = processName();

  constructor(nets: Supernet[], sets: CocoDataset[], private readonly opts: EvalJobRunnerOptions = {}) {
    this.nets = nets.map((n) => ({ value: n, hash: supernetHash(n), label: `${n.spec.name} (${n.dir})` }));
    this.sets = sets.map((d) => ({ value: d, hash: datasetHash(d), label: d.annotationsFile }));
  }

  /** What this worker holds, one line per item. */
  describe(): string[] {
    return [...this.nets.map((n) => `supernet ${n.label}: ${n.hash}`), ...this.sets.map((d) => `data set ${d.label}: ${d.hash}`), `evaluator ${this.evaluator}`];
  }

  /** Runs one job; throws UnrecoverableError when this worker cannot run it faithfully. */
  async run(job: EvalJobData): Promise<EvalJobResult> {
    const t0 = performance.now();
    if (job?.kind !== 'snc-eval' || job.version !== 1) throw new UnrecoverableError(`worker ${this.name}: not an snc evaluation job (kind ${JSON.stringify(job?.kind)}, version ${JSON.stringify(job?.version)}); coordinator and worker run different snc versions`);
    const net = this.nets.find((n) => n.hash === job.supernet.hash);
    if (!net)
      throw new UnrecoverableError(
        `worker ${this.name}: supernet hash mismatch: the job needs '${job.supernet.name}' with hash ${job.supernet.hash}; this worker has ${this.nets.map((n) => `${n.label} ${n.hash}`).join(', ') || 'none'} (give snc worker --supernet a copy of the coordinator's supernet folder)`,
      );
    const ds = this.sets.find((d) => d.hash === job.data.hash);
    if (!ds)
      throw new UnrecoverableError(
        `worker ${this.name}: data set hash mismatch: the job needs ${job.data.annotations} (${job.data.images} images) with hash ${job.data.hash}; this worker has ${this.sets.map((d) => `${d.label} ${d.hash}`).join(', ') || 'none'} (give snc worker --data a copy of the coordinator's data set)`,
      );
    if (job.evaluator !== this.evaluator) throw new UnrecoverableError(`worker ${this.name}: evaluator mismatch: the search evaluates with '${job.evaluator}', this worker runs '${this.evaluator}' (install the same onnxruntime-node version)`);
    const key = `${net.hash}/${ds.hash}/${job.topK}`;
    let pool = this.pools.get(key);
    if (!pool) this.pools.set(key, (pool = new EvalPool(net.value, ds.value, { workers: this.opts.concurrency ?? 1, threads: this.opts.threads, prefetch: this.opts.prefetch, topK: job.topK, expectHash: net.hash })));
    let r;
    try {
      r = await pool.evaluate({ config: job.task.config, depths: job.task.depths, ...(job.task.queries ? { queries: job.task.queries } : {}), images: job.task.images, ...(job.task.bootstrap ? { bootstrap: job.task.bootstrap } : {}) });
    } catch (e) {
      // a pool whose thread died is closed: the next job starts a fresh one
      if (pool.isClosed && this.pools.get(key) === pool) this.pools.delete(key);
      if (e instanceof SncError) throw new UnrecoverableError(`worker ${this.name}: ${e.message}`);
      throw e;
    }
    return { metrics: r.metrics, ...(r.spread ? { spread: r.spread } : {}), images: r.images, skippedImages: r.skippedImages, seconds: r.seconds, processMs: performance.now() - t0, worker: this.name };
  }

  /** A short name of a job, for the worker's log. */
  static label(job: EvalJobData): string {
    return `${groupName(job.task.config)} on ${job.task.images ? `${job.task.images.length} images` : 'every image'}`;
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close()));
    this.pools.clear();
  }
}
