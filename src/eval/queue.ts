/**
 * Group evaluations as jobs on a BullMQ queue (Redis), run by `snc worker` processes on any
 * machine that holds the same supernet and data set: the other implementation of GroupEvaluator
 * (EvalPool runs them in this process). Documented in docs/scale-out.md.
 *
 * A job names what it needs by content: the supernet's hash (spec and weights), the data set's
 * hash (datasetHash), the evaluator (runtime and version: part of the evaluation cache's key),
 * top k, the group and its images. A worker that holds another supernet, data set or runtime
 * fails the job with the reason (evalJob in queue-worker.ts), so a result is never computed from
 * other inputs than the key it is cached under. The job id is a hash of all of it: the same
 * evaluation submitted twice, by one search or two, is one job with one result.
 */
import type { CocoDataset } from '../data/coco.js';
import { sha256 } from '../detr/supernet.js';
import type { Supernet } from '../detr/supernet.js';
import type { SubnetConfig } from '../detr/spec.js';
import { JobClient, JobFailed, type JobClientOptions, type JobClientStats, type QueueTarget } from '../util/job-queue.js';
import { datasetHash, supernetHash } from './cache.js';
import type { CocoMetrics } from './coco-eval.js';
import type { GroupEvaluation, GroupTask } from './multi-exit.js';
import type { BootstrapOptions, BootstrapSpread } from './bootstrap.js';
import { GroupEvaluationFailed, evalPoolId, type GroupEvaluator } from './pool.js';
import { DEFAULT_TOP_K } from '../detr/postprocess.js';

/** The queue every evaluation job goes to. */
export const EVAL_QUEUE = 'snc-eval';

export interface EvalJobData {
  kind: 'snc-eval';
  version: 1;
  supernet: { name: string; hash: string };
  data: { annotations: string; images: number; hash: string };
  /** evalPoolId() of the coordinator: the worker must run the same. */
  evaluator: string;
  topK: number;
  task: { config: SubnetConfig; depths: number[]; queries?: number[]; images: number[] | null; bootstrap?: BootstrapOptions };
}

export interface EvalJobResult {
  metrics: Record<string, CocoMetrics>;
  /** With task.bootstrap: AP and AP50's sampling error per subnet. */
  spread?: Record<string, BootstrapSpread>;
  images: number;
  skippedImages: number;
  /** Wall time of the evaluation on the worker, seconds. */
  seconds: number;
  /** Wall time of the whole job on the worker (checks, evaluation), ms. */
  processMs: number;
  /** The worker process (host:pid). */
  worker: string;
}

export function evalJobId(d: EvalJobData): string {
  return `eval-${sha256(new TextEncoder().encode(JSON.stringify(d))).slice(0, 40)}`;
}

/** The group a job scores, for messages: its resolution, patch and windows. */
export function groupName(c: SubnetConfig): string {
  return `res=${c.resolution},patch=${c.patch},windows=${c.windows}`;
}

export interface QueueEvaluatorOptions extends JobClientOptions {
  topK?: number;
  /** datasetHash(ds), when already computed. */
  dataHash?: string;
}

/** Per job: its id, the worker that ran it, the time from submit to result and the worker's share of it. */
export interface EvalJobRecord {
  id: string;
  group: string;
  images: number | 'all';
  worker: string;
  elapsedMs: number;
  processMs: number;
  attemptsStarted: number;
  stalls: number;
  readds: number;
  foundDone: boolean;
}

export class QueueEvaluator implements GroupEvaluator {
  readonly id = evalPoolId();
  /** Detections are not shipped through Redis: a full evaluation runs the screening images again. */
  readonly reusesDetections = false;
  readonly client: JobClient<EvalJobData, EvalJobResult>;
  readonly records: EvalJobRecord[] = [];
  private readonly base: Omit<EvalJobData, 'task'>;

  constructor(target: QueueTarget, net: Supernet, ds: CocoDataset, opts: QueueEvaluatorOptions = {}) {
    this.client = new JobClient(target, EVAL_QUEUE, opts);
    this.base = {
      kind: 'snc-eval',
      version: 1,
      supernet: { name: net.spec.name, hash: supernetHash(net) },
      data: { annotations: ds.annotationsFile, images: ds.images.length, hash: opts.dataHash ?? datasetHash(ds) },
      evaluator: this.id,
      topK: opts.topK ?? DEFAULT_TOP_K,
    };
  }

  async evaluate(task: GroupTask): Promise<GroupEvaluation> {
    const data: EvalJobData = { ...this.base, task: { config: task.config, depths: task.depths, ...(task.queries ? { queries: task.queries } : {}), images: task.images, ...(task.bootstrap ? { bootstrap: task.bootstrap } : {}) } };
    const id = evalJobId(data);
    try {
      const o = await this.client.submit('group', data, id);
      const r = o.result;
      this.records.push({
        id,
        group: groupName(task.config),
        images: task.images ? task.images.length : 'all',
        worker: r.worker,
        elapsedMs: o.elapsedMs,
        processMs: r.processMs,
        attemptsStarted: o.attemptsStarted,
        stalls: o.stalls,
        readds: o.readds,
        foundDone: o.foundDone,
      });
      return { metrics: r.metrics, ...(r.spread ? { spread: r.spread } : {}), images: r.images, seconds: r.seconds, skippedImages: r.skippedImages };
    } catch (e) {
      if (e instanceof JobFailed) throw new GroupEvaluationFailed(e.message, e.reason);
      throw e;
    }
  }

  get stats(): JobClientStats {
    return this.client.stats;
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
