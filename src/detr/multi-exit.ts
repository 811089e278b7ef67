/**
 * Multi-exit evaluation: every prefix of the decoder is a detector, so one run of the deepest
 * subnet of a group (same resolution, patch, windows and queries) with every depth's outputs
 * (buildSubnet's `exits`: boxes_l, logits_l) scores all depths of the group at once. Depth l's
 * outputs are the very values the l-layer subnet returns (the same graph up to layer l), so the
 * numbers are those of evaluating each depth separately, at the cost of the deepest alone.
 */
import ort from 'onnxruntime-node';
import type { CocoDataset } from '../data/coco.js';
import { Problems } from '../data/problems.js';
import type { PreparedImage } from '../data/stream.js';
import { exportSubnet } from '../export/export-subnet.js';
import { CocoEvaluator, type CocoEvalResult, type CocoMetrics, type Detection } from './coco-eval.js';
import { openImages } from './evaluate.js';
import { DEFAULT_TOP_K, mapClasses, postprocess } from './postprocess.js';
import type { Preprocess, SubnetConfig } from './spec.js';
import type { Supernet } from './supernet.js';

/**
 * One image's detections at one depth, packed as rows of [x, y, w, h, score, categoryId]
 * (float64, so unpacking gives back the very numbers), to keep and send between threads cheaply.
 */
export interface ImageDetections {
  imageId: number;
  rows: Float64Array;
}

/** One multi-exit evaluation: a group's deepest config, the depths to score, the images. */
export interface GroupTask {
  /** The group's config with `layers` = its deepest depth. */
  config: SubnetConfig;
  /** Decoder depths to score (each <= config.layers). */
  depths: number[];
  /** Image ids to run (a subset), or null for every image of the set. */
  images: number[] | null;
  /** Return every image's detections per depth (to be given back later as `prior`). */
  keepDetections?: boolean;
  /**
   * Detections per depth of images already run by this same subnet (not in `images`): they are
   * scored with the images run now, so a subset's run counts towards the whole set's metrics.
   */
  prior?: Record<number, ImageDetections[]>;
}

export interface GroupEvaluation {
  /** The twelve metrics per depth. */
  metrics: Record<number, CocoMetrics>;
  /** Images scored (run now, plus those given as `prior`). */
  images: number;
  /** Images given as `prior` (scored, not run). */
  priorImages?: number;
  /** Every image's detections per depth, with `keepDetections`. */
  detections?: Record<number, ImageDetections[]>;
  /** Wall time, seconds. */
  seconds: number;
  /** Images skipped (missing, undecodable, size mismatch). */
  skippedImages: number;
}

export interface ExitsOptions {
  model: { resolution: number; preprocess: Preprocess; classes: readonly string[] };
  depths: number[];
  topK?: number;
  prefetch?: number;
  images?: AsyncIterable<PreparedImage>;
  onProgress?: (done: number, total: number) => void;
  /** Keep every image's detections per depth (returned as `detections`). */
  keepDetections?: boolean;
  /** Detections per depth of images not in `ds` to score with it (see GroupTask.prior). */
  prior?: Record<number, ImageDetections[]>;
}

export function packDetections(imageId: number, dets: readonly Detection[]): ImageDetections {
  const rows = new Float64Array(dets.length * 6);
  dets.forEach((d, i) => rows.set([d.bbox[0], d.bbox[1], d.bbox[2], d.bbox[3], d.score, d.categoryId], i * 6));
  return { imageId, rows };
}

export function unpackDetections(p: ImageDetections): Detection[] {
  const out: Detection[] = [];
  for (let i = 0; i < p.rows.length; i += 6) {
    const r = p.rows;
    out.push({ bbox: [r[i], r[i + 1], r[i + 2], r[i + 3]], score: r[i + 4], categoryId: r[i + 5] });
  }
  return out;
}

/** Runs an open multi-exit session over the images and scores every requested depth. */
export async function evaluateExits(
  session: ort.InferenceSession,
  ds: CocoDataset,
  problems: Problems,
  opts: ExitsOptions,
): Promise<{ byDepth: Map<number, CocoEvalResult>; images: number; priorImages: number; seconds: number; inferenceSeconds: number; detections?: Record<number, ImageDetections[]> }> {
  const R = opts.model.resolution;
  const map = mapClasses(opts.model.classes, ds.categories);
  const categoryIds = ds.categories.map((c) => c.id);
  const evaluators = new Map(opts.depths.map((l) => [l, new CocoEvaluator(categoryIds, ds.annotations)]));
  for (const l of opts.depths) {
    if (!session.outputNames.includes(`logits_${l}`)) throw new Error(`multi-exit session has no output logits_${l} (outputs: ${session.outputNames.join(', ')})`);
    if (opts.prior && !opts.prior[l]) throw new Error(`prior detections have no depth ${l} (depths: ${Object.keys(opts.prior).join(', ')})`);
  }
  const kept: Record<number, ImageDetections[]> | undefined = opts.keepDetections ? Object.fromEntries(opts.depths.map((l) => [l, []])) : undefined;
  const input = session.inputNames[0];
  const total = ds.images.length;
  const t0 = performance.now();
  let inferMs = 0;
  let done = 0;
  for await (const item of opts.images ?? openImages(ds, problems, { model: opts.model, prefetch: opts.prefetch })) {
    const ti = performance.now();
    const out = await session.run({ [input]: new ort.Tensor('float32', item.tensor, [1, 3, R, R]) });
    inferMs += performance.now() - ti;
    item.release();
    for (const [l, ev] of evaluators) {
      const logits = out[`logits_${l}`];
      const dets = postprocess(
        { boxes: out[`boxes_${l}`].data as Float32Array, logits: logits.data as Float32Array, queries: logits.dims[1], classes: logits.dims[2] },
        item.width,
        item.height,
        map,
        opts.topK ?? DEFAULT_TOP_K,
      );
      ev.addImage(item.image.id, dets);
      kept?.[l].push(packDetections(item.image.id, dets));
    }
    done++;
    opts.onProgress?.(done, total);
  }
  // the evaluator orders images by id, so scoring earlier images last changes nothing
  let priorImages = 0;
  if (opts.prior) {
    priorImages = opts.prior[opts.depths[0]]?.length ?? 0;
    for (const [l, ev] of evaluators) for (const p of opts.prior[l]) ev.addImage(p.imageId, unpackDetections(p));
    if (kept) for (const l of opts.depths) kept[l].push(...opts.prior[l]);
  }
  const byDepth = new Map([...evaluators].map(([l, ev]) => [l, ev.summarize()]));
  return { byDepth, images: done + priorImages, priorImages, seconds: (performance.now() - t0) / 1000, inferenceSeconds: inferMs / 1000, detections: kept };
}

/** Exports a group's deepest subnet with every exit and opens it in onnxruntime-node (CPU). */
export async function createExitSession(net: Supernet, config: SubnetConfig, threads = 1): Promise<ort.InferenceSession> {
  const bytes = exportSubnet(net, config, { exits: true });
  return ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
}

/** The data set cut to the given image ids (in data set order); ground truth of other images is not scored. */
export function subsetOf(ds: CocoDataset, ids: readonly number[] | null): CocoDataset {
  if (!ids) return ds;
  const keep = new Set(ids);
  return { ...ds, images: ds.images.filter((i) => keep.has(i.id)) };
}

/** One group task, in this thread: export, open, stream, score every depth. */
export async function evaluateGroup(net: Supernet, ds: CocoDataset, task: GroupTask, opts: { topK?: number; prefetch?: number; threads?: number } = {}): Promise<GroupEvaluation> {
  const t0 = performance.now();
  const sub = subsetOf(ds, task.images);
  const problems = new Problems();
  const model = { resolution: task.config.resolution, preprocess: net.spec.preprocess, classes: net.spec.classes };
  const images = openImages(sub, problems, { model, prefetch: opts.prefetch });
  const session = await createExitSession(net, task.config, opts.threads ?? 1).catch(async (e) => {
    await images.close();
    throw e;
  });
  try {
    const r = await evaluateExits(session, sub, problems, { model, depths: task.depths, topK: opts.topK, images, keepDetections: task.keepDetections, prior: task.prior });
    const metrics: Record<number, CocoMetrics> = {};
    for (const [l, res] of r.byDepth) metrics[l] = res.metrics;
    return {
      metrics,
      images: r.images,
      ...(task.prior ? { priorImages: r.priorImages } : {}),
      ...(r.detections ? { detections: r.detections } : {}),
      seconds: (performance.now() - t0) / 1000,
      skippedImages: problems.count('missing-image', 'undecodable-image', 'size-mismatch'),
    };
  } finally {
    await images.close(); // a no-op once iterated; stops the decoding thread if it never was
    await session.release();
  }
}
