/**
 * Scoring on a COCO set: a subnet run with onnxruntime-node over the images, or a detections file.
 *
 * The subnet path is a small pipeline: images are read, decoded, resized and normalised ahead
 * (sharp works in libuv's thread pool, streamImages keeps `prefetch` of them in flight) while the
 * current one is inferred; each image's outputs are post-processed and matched as soon as they
 * arrive (CocoEvaluator.addImage), so that nothing but inference sits on the critical path and
 * memory does not grow with the set.
 */
import { availableParallelism } from 'node:os';
import ort from 'onnxruntime-node';
import type { CocoDataset } from '../data/coco.js';
import { Preprocessor } from '../data/preprocess.js';
import type { Problem, Problems } from '../data/problems.js';
import type { DetectionsByImage, ResultsWriter } from '../data/results.js';
import { streamImages, type ImageStream, type PreparedImage } from '../data/stream.js';
import { exportSubnet } from '../detr/export-subnet.js';
import { CocoEvaluator, type CocoEvalResult } from './coco-eval.js';
import { BreakdownEvaluator, type Breakdown } from './breakdown.js';
import { bootstrapAp, type BootstrapOptions, type BootstrapSpread } from './bootstrap.js';
import { DEFAULT_TOP_K, mapClasses, postprocess, type ClassMap } from '../detr/postprocess.js';
import type { Preprocess, SubnetConfig } from '../detr/spec.js';
import type { Supernet } from '../detr/supernet.js';

export interface EvalReport extends CocoEvalResult {
  /** Items left out: images (missing, undecodable), annotations, detections. */
  skipped: { images: number; annotations: number; detections: number };
  problems: Problem[];
  /** Wall time of the whole pass (decode to summary), seconds. */
  seconds: number;
  imagesPerSecond: number;
  /** Time inside session.run, seconds (subnet path only). */
  inferenceSeconds?: number;
  /** Class names of the supernet that the data set has no category for. */
  unmatchedClasses?: string[];
  /** Class-agnostic metrics and figures by object size (breakdown.ts). */
  breakdown: Breakdown;
  /** With `bootstrap`: the sampling error of AP and AP50 over the images (bootstrap.ts). */
  spread?: BootstrapSpread;
}

export function defaultThreads(): number {
  return Math.max(1, availableParallelism() - 1);
}

/** Exports a subnet and opens it in onnxruntime-node (CPU). */
export async function createSession(net: Supernet, config: SubnetConfig, threads = defaultThreads()): Promise<ort.InferenceSession> {
  const bytes = exportSubnet(net, config);
  return ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
}

function skippedOf(problems: Problems): EvalReport['skipped'] {
  return {
    images: problems.count('missing-image', 'outside-folder', 'undecodable-image', 'size-mismatch'),
    annotations: problems.count('orphan-annotation', 'bad-annotation', 'duplicate-annotation'),
    detections: problems.count('orphan-detection', 'bad-detection'),
  };
}

export interface SessionEvalOptions {
  /** What the model expects. */
  model: { resolution: number; preprocess: Preprocess; classes: readonly string[] };
  topK?: number;
  prefetch?: number;
  limit?: number;
  /** Also write every image's detections here (COCO results format). */
  detectionsOut?: ResultsWriter;
  onProgress?: (done: number, total: number) => void;
  /** Also bootstrap AP and AP50 over the images (EvalReport.spread). */
  bootstrap?: BootstrapOptions;
  /**
   * The images, from openImages() with the same data set, model, prefetch and limit: opened
   * before the session, decoding starts while the session is created. Default: opened here.
   */
  images?: AsyncIterable<PreparedImage>;
}

/** Starts decoding a data set's images for a model (see SessionEvalOptions.images). */
export function openImages(ds: CocoDataset, problems: Problems, opts: Pick<SessionEvalOptions, 'model' | 'prefetch' | 'limit'>): ImageStream {
  return streamImages(ds, new Preprocessor(opts.model.preprocess, opts.model.resolution), problems, { prefetch: opts.prefetch, limit: opts.limit });
}

/** Runs an open session over the data set's images and scores its detections. */
export async function evaluateSession(session: ort.InferenceSession, ds: CocoDataset, problems: Problems, opts: SessionEvalOptions): Promise<EvalReport> {
  const { resolution: R } = opts.model;
  const map: ClassMap = mapClasses(opts.model.classes, ds.categories);
  const evaluator = new CocoEvaluator(ds.categories.map((c) => c.id), ds.annotations);
  const breakdown = new BreakdownEvaluator(ds.categories.map((c) => c.id), ds.annotations);
  const total = opts.limit !== undefined ? Math.min(opts.limit, ds.images.length) : ds.images.length;
  const input = session.inputNames[0];
  const t0 = performance.now();
  let inferMs = 0;
  let done = 0;
  for await (const item of opts.images ?? openImages(ds, problems, opts)) {
    const ti = performance.now();
    const out = await session.run({ [input]: new ort.Tensor('float32', item.tensor, [1, 3, R, R]) });
    inferMs += performance.now() - ti;
    item.release();
    const boxes = out.boxes;
    const logits = out.logits;
    const dets = postprocess(
      { boxes: boxes.data as Float32Array, logits: logits.data as Float32Array, queries: logits.dims[1], classes: logits.dims[2] },
      item.width,
      item.height,
      map,
      opts.topK ?? DEFAULT_TOP_K,
    );
    evaluator.addImage(item.image.id, dets);
    breakdown.addImage(item.image.id, dets);
    opts.detectionsOut?.add(item.image.id, dets);
    opts.onProgress?.(++done, total);
  }
  const result = evaluator.summarize();
  const seconds = (performance.now() - t0) / 1000;
  return {
    ...result,
    skipped: skippedOf(problems),
    problems: problems.list,
    seconds,
    imagesPerSecond: result.images / seconds,
    inferenceSeconds: inferMs / 1000,
    unmatchedClasses: map.unmatched,
    breakdown: breakdown.summarize(),
    ...(opts.bootstrap ? { spread: bootstrapAp(evaluator, opts.bootstrap) } : {}),
  };
}

/** Scores detections read from a results file: every image of the set is evaluated, as COCOeval does. */
export function evaluateDetections(ds: CocoDataset, byImage: DetectionsByImage, problems: Problems, opts: { bootstrap?: BootstrapOptions } = {}): EvalReport {
  const t0 = performance.now();
  const evaluator = new CocoEvaluator(ds.categories.map((c) => c.id), ds.annotations);
  const breakdown = new BreakdownEvaluator(ds.categories.map((c) => c.id), ds.annotations);
  for (const img of ds.images) {
    evaluator.addImage(img.id, byImage.get(img.id) ?? []);
    breakdown.addImage(img.id, byImage.get(img.id) ?? []);
  }
  const result = evaluator.summarize();
  const seconds = (performance.now() - t0) / 1000;
  return { ...result, breakdown: breakdown.summarize(), ...(opts.bootstrap ? { spread: bootstrapAp(evaluator, opts.bootstrap) } : {}), skipped: skippedOf(problems), problems: problems.list, seconds, imagesPerSecond: result.images / seconds };
}
