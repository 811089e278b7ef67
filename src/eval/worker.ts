/**
 * A thread of EvalPool: loads the supernet once, then runs the multi-exit group evaluations it
 * is sent, one at a time, each in its own onnxruntime-node session (1 intra-op thread by
 * default) with its own image decoding thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { CocoDataset } from '../data/coco.js';
import { SncError } from '../errors.js';
import { evaluateGroup, type GroupEvaluation, type GroupTask } from './multi-exit.js';
import { loadSupernetDir } from '../detr/supernet.js';
import { supernetHash } from './cache.js';

export interface EvalWorkerInit {
  kind: 'snc-eval';
  supernetDir: string;
  dataset: CocoDataset;
  topK: number;
  prefetch: number;
  threads: number;
  /** supernetHash() the loaded supernet must have (a queued job's; the folder may have changed since the worker started). */
  expectHash?: string;
}

export type EvalWorkerRequest = { id: number; task: GroupTask };
export type EvalWorkerReply = { id: number; result: GroupEvaluation } | { id: number; error: { message: string; user: boolean; stack?: string } };

function serve(port: NonNullable<typeof parentPort>, init: EvalWorkerInit): void {
  const net = loadSupernetDir(init.supernetDir);
  if (init.expectHash && supernetHash(net) !== init.expectHash)
    throw new SncError(`supernet ${init.supernetDir} changed on disk: its hash is ${supernetHash(net)}, the worker started with ${init.expectHash}; restart the worker`);
  // one task at a time: the pool sends the next only after this one's reply
  port.on('message', async ({ id, task }: EvalWorkerRequest) => {
    try {
      const result = await evaluateGroup(net, init.dataset, task, { topK: init.topK, prefetch: init.prefetch, threads: init.threads });
      port.postMessage({ id, result } satisfies EvalWorkerReply);
    } catch (e) {
      const err = e as Error;
      port.postMessage({ id, error: { message: err.message, user: e instanceof SncError, stack: err.stack } } satisfies EvalWorkerReply);
    }
  });
}

if (parentPort && (workerData as EvalWorkerInit | undefined)?.kind === 'snc-eval') serve(parentPort, workerData as EvalWorkerInit);
