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
import { SncError } from '../errors.js';
import { checkWritableDir, writeFileAtomic } from '../util/fs.js';
import { z } from 'zod';
import { METRIC_NAMES, type CocoMetrics, type MetricName } from './coco-eval.js';
import type { BootstrapSpread } from './bootstrap.js';
import { cacheDir, sha256, type Supernet } from '../detr/supernet.js';

/** 2: entries carry a hash of their content (`check`), and are validated like any input. */
export const EVAL_CACHE_VERSION = 2;

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
  /** Bootstrap spread of AP and AP50 over the images, when it was asked for. */
  spread?: BootstrapSpread;
  /** Wall time of the run that produced it (a multi-exit run's time is shared by its depths). */
  seconds: number;
  createdAt: string;
  /** Hash of key, metrics, images, seconds (and spread): an entry edited or damaged on disk is a miss. */
  check: string;
}

/** A COCO metric is a share in [0, 1], or -1 where pycocotools has nothing to average. */
const metric = z.number().refine((v) => v === -1 || (v >= 0 && v <= 1));
const ENTRY = z.object({
  version: z.literal(EVAL_CACHE_VERSION),
  key: z.object({ weights: z.string(), data: z.string(), config: z.string(), topK: z.number().int().positive(), images: z.string(), evaluator: z.string() }).strict(),
  metrics: z.object(Object.fromEntries(METRIC_NAMES.map((n) => [n, metric])) as Record<MetricName, typeof metric>).strict(),
  images: z.number().int().nonnegative(),
  seconds: z.number().nonnegative(),
  createdAt: z.string(),
  check: z.string(),
  spread: z
    .object({
      samples: z.number().int().positive(),
      seed: z.number().int(),
      AP: z.object({ std: z.number().nonnegative(), lo90: metric, hi90: metric }).strict(),
      AP50: z.object({ std: z.number().nonnegative(), lo90: metric, hi90: metric }).strict(),
      resamples: z.object({ images: z.number().int().nonnegative(), AP: z.array(metric), AP50: z.array(metric) }).strict().optional(),
    })
    .strict()
    .refine((s) => !s.resamples || (s.resamples.AP.length === s.samples && s.resamples.AP50.length === s.samples), 'one resample value per resample')
    .optional(),
});

const contentCheck = (e: Pick<CachedEval, 'key' | 'metrics' | 'images' | 'seconds' | 'spread'>) =>
  hashText(JSON.stringify({ key: e.key, metrics: e.metrics, images: e.images, seconds: e.seconds, ...(e.spread ? { spread: e.spread } : {}) })).slice(0, 32);

/**
 * A cache file's content as an entry for `key`, or undefined when it is not one: not JSON, not
 * the shape of an entry, a metric outside [0, 1], another key, or content that does not match
 * its check. Cache files are data from disk and are trusted no more than any other input.
 */
export function parseCachedEval(text: string, key: EvalKey): CachedEval | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  const r = ENTRY.safeParse(doc);
  if (!r.success) return undefined;
  const entry = r.data as CachedEval;
  if (JSON.stringify(entry.key) !== JSON.stringify(key) || entry.check !== contentCheck(entry)) return undefined;
  return entry;
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

  /** The entry for `key`, or undefined (a miss: evaluate again) when there is none or it does not check. */
  get(key: EvalKey): CachedEval | undefined {
    let text: string;
    try {
      text = readFileSync(this.fileOf(key), 'utf8');
    } catch {
      return undefined;
    }
    return parseCachedEval(text, key);
  }

  put(key: EvalKey, value: { metrics: CocoMetrics; images: number; seconds: number; spread?: BootstrapSpread }): void {
    const entry: CachedEval = { version: EVAL_CACHE_VERSION, key, ...value, createdAt: new Date().toISOString(), check: '' };
    entry.check = contentCheck(entry);
    try {
      writeFileAtomic(this.fileOf(key), JSON.stringify(entry) + '\n');
    } catch (e) {
      throw this.cacheError(e);
    }
  }

  /** Fails now, with one line, when entries could not be written (before a search's evaluations). */
  checkWritable(): void {
    try {
      checkWritableDir(this.dir);
    } catch (e) {
      throw this.cacheError(e);
    }
  }

  private cacheError(e: unknown): unknown {
    return e instanceof SncError ? new SncError(`evaluation cache: ${e.message}; set SNC_CACHE_DIR to a writable folder, or pass --no-cache`) : e;
  }
}
