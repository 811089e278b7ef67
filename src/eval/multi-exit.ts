/**
 * Multi-exit evaluation: one run scores every subnet of a group (same resolution, patch and
 * windows) at once.
 * - Every prefix of the decoder is a detector: depth l's outputs are the very values the l-layer
 *   subnet returns (the same graph up to layer l).
 * - The backbone does not read the query count: one backbone run feeds a two-stage selection and
 *   a decoder per query count (buildSubnet's `queries` branches, outputs boxes_q<Q>_<l>,
 *   logits_q<Q>_<l>), each computing what the subnet with that query count computes.
 * So the numbers are those of evaluating each subnet separately, at the cost of one backbone and
 * one deepest decoder per query count.
 */
import ort from 'onnxruntime-node';
import type { CocoDataset } from '../data/coco.js';
import { Problems } from '../data/problems.js';
import type { PreparedImage } from '../data/stream.js';
import { exportSubnet } from '../detr/export-subnet.js';
import { CocoEvaluator, type CocoEvalResult, type CocoMetrics, type Detection } from './coco-eval.js';
import { openImages } from './evaluate.js';
import { bootstrapAp, type BootstrapOptions, type BootstrapSpread } from './bootstrap.js';
import { exitName } from '../detr/model.js';
import { DEFAULT_TOP_K, mapClasses, postprocess } from '../detr/postprocess.js';
import { configKey, type Preprocess, type SubnetConfig } from '../detr/spec.js';
import type { Supernet } from '../detr/supernet.js';

/**
 * One image's detections at one depth, packed as rows of [x, y, w, h, score, categoryId]
 * (float64, so unpacking gives back the very numbers), to keep and send between threads cheaply.
 */
export interface ImageDetections {
  imageId: number;
  rows: Float64Array;
}

/**
 * One multi-exit evaluation: a group's deepest config, the depths and query counts to score (every
 * pair of them is a subnet), the images. Results are keyed by the scored subnet's configKey.
 */
export interface GroupTask {
  /** The group's config with `layers` = its deepest depth (its query count is the main branch's). */
  config: SubnetConfig;
  /** Decoder depths to score (each <= config.layers). */
  depths: number[];
  /** Query counts to score (valid knob values); default [config.queries]. */
  queries?: number[];
  /** Image ids to run (a subset), or null for every image of the set. */
  images: number[] | null;
  /** Return every image's detections per scored subnet (to be given back later as `prior`). */
  keepDetections?: boolean;
  /**
   * Detections per scored subnet of images already run by this same task (not in `images`): they
   * are scored with the images run now, so a subset's run counts towards the whole set's metrics.
   */
  prior?: Record<string, ImageDetections[]>;
  /** Bootstrap over the scored images of each subnet's AP and AP50 (bootstrap.ts): resamples and seed. */
  bootstrap?: BootstrapOptions;
}

export interface GroupEvaluation {
  /** The twelve metrics per scored subnet (by configKey). */
  metrics: Record<string, CocoMetrics>;
  /** Images scored (run now, plus those given as `prior`). */
  images: number;
  /** Images given as `prior` (scored, not run). */
  priorImages?: number;
  /** Every image's detections per scored subnet, with `keepDetections`. */
  detections?: Record<string, ImageDetections[]>;
  /** With task.bootstrap: the sampling error of AP and AP50 per scored subnet (by configKey). */
  spread?: Record<string, BootstrapSpread>;
  /** Wall time, seconds. */
  seconds: number;
  /** Images skipped (missing, undecodable, size mismatch). */
  skippedImages: number;
}

/** One exit of a multi-exit session: the subnet it scores and its output names. */
export interface Exit {
  /** configKey of the subnet whose outputs these are. */
  key: string;
  boxes: string;
  logits: string;
}

/** The exits of a task: every depth of every query count. */
export function taskExits(task: Pick<GroupTask, 'config' | 'depths' | 'queries'>): Exit[] {
  return (task.queries ?? [task.config.queries]).flatMap((queries) =>
    task.depths.map((layers) => ({ key: configKey({ ...task.config, queries, layers }), boxes: exitName('boxes', queries, layers), logits: exitName('logits', queries, layers) })),
  );
}

export interface ExitsOptions {
  model: { resolution: number; preprocess: Preprocess; classes: readonly string[] };
  exits: Exit[];
  topK?: number;
  prefetch?: number;
  images?: AsyncIterable<PreparedImage>;
  onProgress?: (done: number, total: number) => void;
  /** Keep every image's detections per exit (returned as `detections`). */
  keepDetections?: boolean;
  /** Detections per exit of images not in `ds` to score with it (see GroupTask.prior). */
  prior?: Record<string, ImageDetections[]>;
  /** Also bootstrap each exit's AP and AP50 over the scored images. */
  bootstrap?: BootstrapOptions;
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

/** Runs an open multi-exit session over the images and scores every requested exit. */
export async function evaluateExits(
  session: ort.InferenceSession,
  ds: CocoDataset,
  problems: Problems,
  opts: ExitsOptions,
): Promise<{ byExit: Map<string, CocoEvalResult>; spread?: Record<string, BootstrapSpread>; images: number; priorImages: number; seconds: number; inferenceSeconds: number; detections?: Record<string, ImageDetections[]> }> {
  const R = opts.model.resolution;
  const map = mapClasses(opts.model.classes, ds.categories);
  const categoryIds = ds.categories.map((c) => c.id);
  const evaluators = new Map(opts.exits.map((e) => [e.key, new CocoEvaluator(categoryIds, ds.annotations)]));
  for (const e of opts.exits) {
    for (const name of [e.boxes, e.logits])
      if (!session.outputNames.includes(name)) throw new Error(`multi-exit session has no output ${name} (outputs: ${session.outputNames.join(', ')})`);
    if (opts.prior && !opts.prior[e.key]) throw new Error(`prior detections have no subnet ${e.key} (subnets: ${Object.keys(opts.prior).join('; ')})`);
  }
  const kept: Record<string, ImageDetections[]> | undefined = opts.keepDetections ? Object.fromEntries(opts.exits.map((e) => [e.key, []])) : undefined;
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
    for (const e of opts.exits) {
      const logits = out[e.logits];
      const dets = postprocess(
        { boxes: out[e.boxes].data as Float32Array, logits: logits.data as Float32Array, queries: logits.dims[1], classes: logits.dims[2] },
        item.width,
        item.height,
        map,
        opts.topK ?? DEFAULT_TOP_K,
      );
      evaluators.get(e.key)!.addImage(item.image.id, dets);
      kept?.[e.key].push(packDetections(item.image.id, dets));
    }
    done++;
    opts.onProgress?.(done, total);
  }
  // the evaluator orders images by id, so scoring earlier images last changes nothing
  let priorImages = 0;
  if (opts.prior) {
    priorImages = opts.prior[opts.exits[0].key]?.length ?? 0;
    for (const [k, ev] of evaluators) for (const p of opts.prior[k]) ev.addImage(p.imageId, unpackDetections(p));
    if (kept) for (const e of opts.exits) kept[e.key].push(...opts.prior[e.key]);
  }
  const byExit = new Map([...evaluators].map(([k, ev]) => [k, ev.summarize()]));
  const spread = opts.bootstrap ? Object.fromEntries([...evaluators].map(([k, ev]) => [k, bootstrapAp(ev, opts.bootstrap)])) : undefined;
  return { byExit, spread, images: done + priorImages, priorImages, seconds: (performance.now() - t0) / 1000, inferenceSeconds: inferMs / 1000, detections: kept };
}

/** Exports a group's deepest subnet with an exit per depth and query count, and opens it in onnxruntime-node (CPU). */
export async function createExitSession(net: Supernet, config: SubnetConfig, queries: number[] = [config.queries], threads = 1): Promise<ort.InferenceSession> {
  const bytes = exportSubnet(net, config, { queries });
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
  const session = await createExitSession(net, task.config, task.queries, opts.threads ?? 1).catch(async (e) => {
    await images.close();
    throw e;
  });
  try {
    const r = await evaluateExits(session, sub, problems, { model, exits: taskExits(task), topK: opts.topK, images, keepDetections: task.keepDetections, prior: task.prior, bootstrap: task.bootstrap });
    const metrics: Record<string, CocoMetrics> = {};
    for (const [k, res] of r.byExit) metrics[k] = res.metrics;
    return {
      metrics,
      images: r.images,
      ...(task.prior ? { priorImages: r.priorImages } : {}),
      ...(r.detections ? { detections: r.detections } : {}),
      ...(r.spread ? { spread: r.spread } : {}),
      seconds: (performance.now() - t0) / 1000,
      skippedImages: problems.count('missing-image', 'outside-folder', 'undecodable-image', 'size-mismatch'),
    };
  } finally {
    await images.close(); // a no-op once iterated; stops the decoding thread if it never was
    await session.release();
  }
}
