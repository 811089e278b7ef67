/**
 * A persistent cache of subnet evaluations: one small JSON file per (weights, data set, config,
 * top k, images scored, evaluator), under `cacheDir()/evals/`, written atomically. A search run
 * twice on the same supernet and data finds every evaluation here and runs none.
 *
 * The key holds everything the twelve numbers depend on: the weights' SHA-256, a hash of the data
 * set (its parsed annotations, and every image's file name and size), the full config, top k, the
 * images scored (all, or a hash of the subset's ids) and the evaluator (runtime and version). A
 * file whose stored key differs from the one asked for (a hash collision, an older format) or that
 * cannot be read is a miss.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CocoDataset } from '../data/coco.js';
import { imagePath } from '../data/coco.js';
import { writeFileAtomic } from '../util/fs.js';
import type { CocoMetrics } from './coco-eval.js';
import { cacheDir, sha256, type Supernet } from '../detr/supernet.js';

export const EVAL_CACHE_VERSION = 1;

export interface EvalKey {
  /** SHA-256 of the supernet's weights file. */
  weights: string;
  /** datasetHash() of the validation set. */
  data: string;
  /** configKey() of the subnet. */
  config: string;
  topK: number;
  /** imagesKey(): 'all', or the subset's size and hash. */
  images: string;
  /** What ran the subnet, e.g. 'onnxruntime-node 1.30.0'. */
  evaluator: string;
}

export interface CachedEval {
  version: number;
  key: EvalKey;
  metrics: CocoMetrics;
  /** Images scored. */
  images: number;
  /** Wall time of the run that produced it (a multi-exit run's time is shared by its depths). */
  seconds: number;
  createdAt: string;
}

const hashText = (s: string) => sha256(new TextEncoder().encode(s));

/**
 * Identity of a data set for evaluation: the parsed images, categories and annotations (what the
 * evaluator reads; key order and whitespace of the file do not matter) and each image file's name
 * and size in bytes (-1 when missing). Image contents are not read: replacing an image by another
 * of exactly the same size is not noticed.
 */
export function datasetHash(ds: CocoDataset): string {
  const sizes = ds.images.map((img) => {
    const p = imagePath(ds, img);
    return existsSync(p) ? statSync(p).size : -1;
  });
  return hashText(JSON.stringify({ images: ds.images, categories: ds.categories, annotations: ds.annotations, sizes })).slice(0, 32);
}

/**
 * Identity of a supernet for evaluation (32 hex): its spec (architecture, knobs, pre-processing,
 * classes) and the SHA-256 of its weights file. Two copies of one supernet folder hash the same.
 */
export function supernetHash(net: Pick<Supernet, 'spec' | 'weights'>): string {
  return hashText(JSON.stringify({ spec: net.spec, weights: net.weights.hash })).slice(0, 32);
}

/** 'all', or 'subset:N:<hash of the ids>' for a subset of image ids. */
export function imagesKey(ids: readonly number[] | null): string {
  if (!ids) return 'all';
  return `subset:${ids.length}:${hashText(JSON.stringify(ids)).slice(0, 16)}`;
}

export class EvalCache {
  constructor(readonly dir: string) {}

  /** The cache under cacheDir() (SNC_CACHE_DIR, default ~/.cache/snc). */
  static default(): EvalCache {
    return new EvalCache(join(cacheDir(), 'evals'));
  }

  fileOf(key: EvalKey): string {
    return join(this.dir, `${hashText(JSON.stringify(key)).slice(0, 40)}.json`);
  }

  get(key: EvalKey): CachedEval | undefined {
    const file = this.fileOf(key);
    let entry: CachedEval | undefined;
    try {
      entry = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      entry = undefined;
    }
    if (!entry || entry.version !== EVAL_CACHE_VERSION || JSON.stringify(entry.key) !== JSON.stringify(key) || typeof entry.metrics?.AP !== 'number') return undefined;
    return entry;
  }

  put(key: EvalKey, value: { metrics: CocoMetrics; images: number; seconds: number }): void {
    const entry: CachedEval = { version: EVAL_CACHE_VERSION, key, ...value, createdAt: new Date().toISOString() };
    writeFileAtomic(this.fileOf(key), JSON.stringify(entry) + '\n');
  }
}
