/**
 * A data set's images, decoded and pre-processed ahead of their use on a separate thread
 * (decode-worker.ts) into a few reused tensors: memory stays flat however many images there are,
 * and decoding goes on while the main thread is busy (onnxruntime-node's run blocks it). An image
 * that is missing, cannot be decoded or does not have the size its record says is a Problem
 * (skipped, or an error with --strict), reported in data set order.
 *
 * Decoding threads are kept for the life of the process (idle ones do not keep it alive) and
 * reused by later streams, so that evaluating many subnets pays for starting one only once.
 */
import { Worker } from 'node:worker_threads';
import 'sharp'; // loaded by the main thread first, so that its libraries outlive the workers (sharp's advice)
import { imagePath, type CocoDataset, type CocoImage } from './coco.js';
import type { DecodeInit, DecodeMessage, DecodeRequest } from './decode-worker.js';
import type { Preprocessor } from './preprocess.js';
import type { Problems } from './problems.js';

export interface PreparedImage {
  image: CocoImage;
  /** [1, 3, R, R] planes; valid until release(). */
  tensor: Float32Array;
  width: number;
  height: number;
  /** Gives the tensor back for reuse; it is detached afterwards. */
  release(): void;
}

export interface StreamOptions {
  /** Images decoded ahead (default 4). */
  prefetch?: number;
  /** Only the first N images. */
  limit?: number;
}

const idle: Worker[] = [];

function acquireWorker(): Worker {
  const w = idle.pop();
  if (w) {
    w.ref();
    return w;
  }
  const fresh = new Worker(new URL('./decode-worker.js', import.meta.url), { workerData: 'snc-decode' });
  fresh.on('exit', () => {
    const i = idle.indexOf(fresh);
    if (i >= 0) idle.splice(i, 1);
  });
  return fresh;
}

/** Images in data set order; iterate it once, or close() it if it is not to be iterated. */
export interface ImageStream extends AsyncIterable<PreparedImage> {
  /** Stops decoding; only for a stream that is not being iterated (breaking out of the loop stops it too). */
  close(): Promise<void>;
}

/**
 * Starts decoding at once (the thread works while the caller does other set-up, such as opening
 * an inference session) and returns the images in data set order.
 */
export function streamImages(ds: CocoDataset, pre: Preprocessor, problems: Problems, opts: StreamOptions = {}): ImageStream {
  const images = opts.limit !== undefined ? ds.images.slice(0, opts.limit) : ds.images;
  const init: DecodeInit = {
    jobs: images.map((i) => ({ id: i.id, file: imagePath(ds, i), root: ds.imagesDir, width: i.width, height: i.height })),
    preprocess: pre.pre,
    resolution: pre.resolution,
    depth: Math.max(1, opts.prefetch ?? 4),
  };
  const worker = acquireWorker();
  const inbox: DecodeMessage[] = [];
  let failure: Error | undefined;
  let notify: (() => void) | undefined;
  const wake = () => {
    notify?.();
    notify = undefined;
  };
  const onMessage = (m: DecodeMessage) => {
    inbox.push(m);
    wake();
  };
  const onError = (e: Error) => {
    failure = e;
    wake();
  };
  const onExit = (code: number) => {
    failure ??= new Error(`image decoding thread exited with code ${code}`);
    wake();
  };
  worker.on('message', onMessage);
  worker.on('error', onError);
  worker.on('exit', onExit);
  worker.postMessage({ kind: 'start', init } satisfies DecodeRequest);
  const byId = new Map(images.map((i) => [i.id, i]));
  let started = false;

  async function* run(): AsyncGenerator<PreparedImage> {
    let finished = false;
    try {
      for (;;) {
        while (!inbox.length && !failure) await new Promise<void>((r) => (notify = r));
        const m = inbox.shift();
        if (!m) throw failure;
        if (m.kind === 'done') {
          finished = true;
          return;
        }
        if (m.kind === 'problem') {
          problems.add(m.problem);
          continue;
        }
        const tensor = new Float32Array(m.buffer);
        let given = false;
        const give = (buffer?: ArrayBuffer) => {
          if (given) return;
          given = true;
          worker.postMessage({ kind: 'ack', buffer } satisfies DecodeRequest, buffer ? [buffer] : []);
        };
        yield { image: byId.get(m.id)!, tensor, width: m.width, height: m.height, release: () => give(m.buffer) };
        give(); // not released: the consumer keeps the tensor, the worker makes a new one
      }
    } finally {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (finished) {
        worker.unref();
        idle.push(worker);
      } else await worker.terminate(); // stopped early: the thread may still be busy with this run
    }
  }
  return {
    [Symbol.asyncIterator]() {
      if (started) throw new Error('streamImages: a stream can be iterated once');
      started = true;
      return run();
    },
    async close() {
      if (started) return;
      started = true;
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      await worker.terminate();
    },
  };
}
