/**
 * The decoding thread of streamImages: reads, decodes, resizes and normalises the images it is
 * given, in order, `depth` at a time, and posts each tensor (transferred, not copied) or the
 * Problem that stopped it. The main thread may hold at most `depth` tensors at once: each it
 * gives back (with the buffer, for reuse) lets one more through. onnxruntime-node runs
 * synchronously on the main thread, so decoding there could only advance between inferences;
 * here it never waits for them.
 */
import { readFile, realpath } from 'node:fs/promises';
import { isAbsolute, relative, sep } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import type { Preprocess } from './preprocess.js';
import { prefetchMap } from '../util/prefetch.js';
import { Preprocessor } from './preprocess.js';
import type { Problem } from './problems.js';

export interface DecodeJob {
  id: number;
  file: string;
  /** The images folder: a file whose real path (symbolic links followed) is not inside it is not read. */
  root?: string;
  width?: number;
  height?: number;
}

export interface DecodeInit {
  jobs: DecodeJob[];
  preprocess: Preprocess;
  resolution: number;
  depth: number;
}

/** Main -> worker: start a run, or give one tensor back (with its buffer once the main thread no longer needs it). */
export type DecodeRequest = { kind: 'start'; init: DecodeInit } | { kind: 'ack'; buffer?: ArrayBuffer };

/** Worker -> main, for the current run; 'done' ends it. */
export type DecodeMessage =
  | { kind: 'image'; id: number; buffer: ArrayBuffer; width: number; height: number }
  | { kind: 'problem'; problem: Problem }
  | { kind: 'done' };

export async function prepareJob(pre: Preprocessor, job: DecodeJob, tensor: () => Float32Array, recycle: (t: Float32Array) => void): Promise<{ tensor: Float32Array; width: number; height: number } | Problem> {
  const { file, id } = job;
  let bytes: Buffer;
  try {
    if (job.root !== undefined) {
      const [real, root] = await Promise.all([realpath(file), realpath(job.root)]);
      const rel = relative(root, real);
      if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel))
        return { kind: 'outside-folder', file, id, message: `image ${id}: leads outside the images folder (to ${real}); it is skipped` };
    }
    bytes = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { kind: 'missing-image', file, id, message: `image ${id}: ${code === 'ENOENT' ? 'file does not exist' : `cannot be read (${(e as Error).message})`}` };
  }
  const t = tensor();
  try {
    const { width, height } = await pre.prepare(bytes, t);
    if ((job.width !== undefined && job.width !== width) || (job.height !== undefined && job.height !== height)) {
      recycle(t);
      return { kind: 'size-mismatch', file, id, message: `image ${id}: decoded size ${width}x${height} differs from ${job.width}x${job.height} in the annotations` };
    }
    return { tensor: t, width, height };
  } catch (e) {
    recycle(t);
    return { kind: 'undecodable-image', file, id, message: `image ${id}: cannot be decoded (${(e as Error).message.split('\n')[0]})` };
  }
}

/**
 * Serves runs one after the other (the thread is kept and reused by later streams): each 'start'
 * decodes its jobs in order, posting each result; at most `depth` tensors are out at once.
 */
function serve(port: NonNullable<typeof parentPort>): void {
  let free: Float32Array[] = [];
  let credits = 0;
  let wake: (() => void) | undefined;
  const run = async (init: DecodeInit) => {
    const pre = new Preprocessor(init.preprocess, init.resolution);
    free = free.filter((b) => b.length === pre.tensorSize);
    credits = Math.max(1, init.depth);
    const job = (j: DecodeJob) => prepareJob(pre, j, () => free.pop() ?? new Float32Array(pre.tensorSize), (t) => free.push(t));
    const jobs = init.jobs;
    let i = 0;
    for await (const r of prefetchMap(jobs, job, init.depth)) {
      const id = jobs[i++].id;
      if ('kind' in r) {
        port.postMessage({ kind: 'problem', problem: r } satisfies DecodeMessage);
        continue;
      }
      while (credits <= 0) await new Promise<void>((res) => (wake = res));
      credits--;
      const buffer = r.tensor.buffer as ArrayBuffer;
      port.postMessage({ kind: 'image', id, buffer, width: r.width, height: r.height } satisfies DecodeMessage, [buffer]);
    }
    port.postMessage({ kind: 'done' } satisfies DecodeMessage);
  };
  port.on('message', (m: DecodeRequest) => {
    if (m.kind === 'start') {
      run(m.init).catch((e) => {
        throw e; // an uncaught error ends the thread; the stream reports it
      });
      return;
    }
    if (m.buffer) free.push(new Float32Array(m.buffer));
    credits++;
    wake?.();
    wake = undefined;
  });
}

if (parentPort && workerData === 'snc-decode') serve(parentPort);
