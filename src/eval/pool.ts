/**
 * Group evaluations in parallel: a pool of worker threads (worker.ts), each with its own
 * onnxruntime-node session and image decoding thread. Tasks queue and go to the first free
 * thread; threads start on the first task and end with close().
 */
import { Worker } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import type { CocoDataset } from '../data/coco.js';
import { SncError } from '../errors.js';
import type { EvalWorkerInit, EvalWorkerReply, EvalWorkerRequest } from './worker.js';
import type { GroupEvaluation, GroupTask } from './multi-exit.js';
import { DEFAULT_TOP_K } from '../detr/postprocess.js';
import type { Supernet } from '../detr/supernet.js';

/**
 * An evaluation that failed for a reason confined to it (a queued job that failed on every
 * attempt): the search records it as missing and goes on with the others. Any other error ends
 * the search.
 */
export class GroupEvaluationFailed extends Error {
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message);
    this.name = 'GroupEvaluationFailed';
  }
}

/** EvalPool's id: the runtime and its version, part of the evaluation cache's key. */
export function evalPoolId(): string {
  return `onnxruntime-node ${ort.env.versions?.node ?? 'unknown'} cpu`;
}

/** What runs group evaluations for a search (EvalPool, or a QueueEvaluator: jobs for snc worker processes). */
export interface GroupEvaluator {
  /** Names the runtime and its version; part of the cache key. */
  readonly id: string;
  evaluate(task: GroupTask): Promise<GroupEvaluation>;
  close?(): Promise<void>;
  /**
   * Honours GroupTask's `keepDetections` and `prior`: the search then keeps each group's
   * screening detections and runs only the other images in its full evaluation.
   */
  readonly reusesDetections?: boolean;
}

export interface EvalPoolOptions {
  /** Threads evaluating at once (default 1). */
  workers?: number;
  /** onnxruntime intra-op threads per worker (default 1). */
  threads?: number;
  topK?: number;
  prefetch?: number;
  /** supernetHash() the threads must find in the supernet folder they load (else they fail). */
  expectHash?: string;
}

interface Slot {
  worker: Worker;
  busy: boolean;
}

export class EvalPool implements GroupEvaluator {
  readonly id = evalPoolId();
  readonly reusesDetections = true;
  private readonly slots: Slot[] = [];
  private readonly queue: { req: EvalWorkerRequest; resolve: (r: GroupEvaluation) => void; reject: (e: Error) => void }[] = [];
  private readonly pending = new Map<number, { slot: Slot; resolve: (r: GroupEvaluation) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private closed = false;
  readonly workers: number;
  private readonly init: EvalWorkerInit;

  constructor(net: Supernet, dataset: CocoDataset, opts: EvalPoolOptions = {}) {
    this.workers = Math.max(1, opts.workers ?? 1);
    this.init = { kind: 'snc-eval', supernetDir: net.dir, dataset, topK: opts.topK ?? DEFAULT_TOP_K, prefetch: opts.prefetch ?? 4, threads: Math.max(1, opts.threads ?? 1), ...(opts.expectHash ? { expectHash: opts.expectHash } : {}) };
  }

  evaluate(task: GroupTask): Promise<GroupEvaluation> {
    if (this.closed) return Promise.reject(new Error('EvalPool: closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ req: { id: this.nextId++, task }, resolve, reject });
      this.dispatch();
    });
  }

  private startSlot(): Slot {
    const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: this.init });
    const slot: Slot = { worker, busy: false };
    worker.on('message', (m: EvalWorkerReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      slot.busy = false;
      if ('result' in m) p.resolve(m.result);
      else p.reject(m.error.user ? new SncError(m.error.message) : Object.assign(new Error(m.error.message), { stack: m.error.stack }));
      this.dispatch();
    });
    // a thread that dies (it could not load the supernet, ran out of memory) ends the pool:
    // everything pending or queued fails with its error
    const fail = (e: Error) => {
      if (this.closed) return;
      this.closed = true;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
      for (const q of this.queue.splice(0)) q.reject(e);
      void this.close();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`evaluation thread exited with code ${code}`)));
    this.slots.push(slot);
    return slot;
  }

  private dispatch(): void {
    while (this.queue.length) {
      let slot = this.slots.find((s) => !s.busy);
      if (!slot && this.slots.length < this.workers) slot = this.startSlot();
      if (!slot) return;
      const job = this.queue.shift()!;
      slot.busy = true;
      this.pending.set(job.req.id, { slot, resolve: job.resolve, reject: job.reject });
      slot.worker.postMessage(job.req);
    }
  }

  /** Whether the pool has ended (close(), or a thread died): it evaluates nothing more. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Ends the threads; tasks not finished fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const q of this.queue.splice(0)) q.reject(new Error('EvalPool: closed'));
    for (const p of this.pending.values()) p.reject(new Error('EvalPool: closed'));
    this.pending.clear();
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}
