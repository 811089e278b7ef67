/**
 * COCO bbox evaluation with the numbers of pycocotools' COCOeval (iouType 'bbox').
 *
 * The rules, all as pycocotools has them:
 * - IoU thresholds np.linspace(.5, .95, 10), recall thresholds np.linspace(0, 1, 101), computed
 *   the way numpy computes them (i * step + start, last = stop), so that comparisons such as
 *   rc >= 0.07 come out the same;
 * - per image and category, detections sorted by descending score with a stable sort (mergesort)
 *   and cut to the largest maxDets (100); maxDets 1/10 cut that list further at accumulation;
 * - IoU of boxes as maskUtils.iou: for a crowd ground truth the union is the detection's area;
 * - ground truths with iscrowd, or with `area` outside the area range, are ignored and sorted
 *   last (stable); matching per IoU threshold t greedily in score order, best IoU >= min(t,
 *   1-1e-10), a crowd may take any number of detections, a detection matched to an ignored
 *   ground truth is ignored, an unmatched detection whose area (w*h) is outside the range is
 *   ignored;
 * - per category, area range and maxDets: all images' detections (images in ascending id order)
 *   sorted by descending score with a stable sort, cumulative TP/FP, precision made monotone
 *   from the right, 101-point interpolation with searchsorted(rc, recThrs, 'left');
 * - -1 where a category has no non-ignored ground truth (and no detections), the summary is the
 *   mean over the values > -1 (summed pairwise, as numpy does), -1 if there is none.
 */

import type { Box, Detection, GroundTruth } from '../data/detection.js';

export type { Box, Detection, GroundTruth };

function linspace(start: number, stop: number, num: number): number[] {
  const step = (stop - start) / (num - 1);
  const out: number[] = [];
  for (let i = 0; i < num; i++) out.push(i * step + start);
  out[num - 1] = stop;
  return out;
}

export const IOU_THRESHOLDS: readonly number[] = linspace(0.5, 0.95, 10);
export const RECALL_THRESHOLDS: readonly number[] = linspace(0, 1, 101);
export const AREA_LABELS = ['all', 'small', 'medium', 'large'] as const;
export type AreaLabel = (typeof AREA_LABELS)[number];
export const AREA_RANGES: readonly (readonly [number, number])[] = [
  [0 ** 2, 1e5 ** 2],
  [0 ** 2, 32 ** 2],
  [32 ** 2, 96 ** 2],
  [96 ** 2, 1e5 ** 2],
];
export const MAX_DETS: readonly number[] = [1, 10, 100];

/** The twelve summary numbers, in COCOeval.summarize order. */
export const METRIC_NAMES = ['AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10', 'AR100', 'ARs', 'ARm', 'ARl'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];
export type CocoMetrics = Record<MetricName, number>;

/** What pycocotools' summarize prints for each metric. */
export const METRIC_LINES: Record<MetricName, string> = {
  AP: 'Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ]',
  AP50: 'Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ]',
  AP75: 'Average Precision  (AP) @[ IoU=0.75      | area=   all | maxDets=100 ]',
  APs: 'Average Precision  (AP) @[ IoU=0.50:0.95 | area= small | maxDets=100 ]',
  APm: 'Average Precision  (AP) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ]',
  APl: 'Average Precision  (AP) @[ IoU=0.50:0.95 | area= large | maxDets=100 ]',
  AR1: 'Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ]',
  AR10: 'Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets= 10 ]',
  AR100: 'Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ]',
  ARs: 'Average Recall     (AR) @[ IoU=0.50:0.95 | area= small | maxDets=100 ]',
  ARm: 'Average Recall     (AR) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ]',
  ARl: 'Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ]',
};

/** maskUtils.iou for boxes: a [D x G] row-major matrix. */
export function boxIou(dts: readonly Box[], gts: readonly Box[], crowd: readonly boolean[]): Float64Array {
  const D = dts.length;
  const G = gts.length;
  const o = new Float64Array(D * G);
  for (let g = 0; g < G; g++) {
    const gb = gts[g];
    const ga = gb[2] * gb[3];
    for (let d = 0; d < D; d++) {
      const db = dts[d];
      const da = db[2] * db[3];
      const w = Math.min(db[2] + db[0], gb[2] + gb[0]) - Math.max(db[0], gb[0]);
      if (w <= 0) continue;
      const h = Math.min(db[3] + db[1], gb[3] + gb[1]) - Math.max(db[1], gb[1]);
      if (h <= 0) continue;
      const i = w * h;
      const u = crowd[g] ? da : da + ga - i;
      o[d * G + g] = i / u;
    }
  }
  return o;
}

/** Indices of `scores` by descending score, ties in index order (np.argsort(-s, kind='mergesort')). */
export function stableDescending(scores: ArrayLike<number>, n = scores.length): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  idx.sort((a, b) => {
    const sa = -scores[a];
    const sb = -scores[b];
    return sa < sb ? -1 : sa > sb ? 1 : a - b;
  });
  return idx;
}

/** numpy's pairwise summation of a float64 array (np.add.reduce), for summaries equal to the bit. */
export function pairwiseSum(a: ArrayLike<number>, start = 0, n = a.length - start): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[start + i];
    return res;
  }
  if (n <= 128) {
    const r = [0, 0, 0, 0, 0, 0, 0, 0];
    for (let j = 0; j < 8; j++) r[j] = a[start + j];
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] += a[start + i + j];
    let res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++) res += a[start + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, start, n2) + pairwiseSum(a, start + n2, n - n2);
}

/** np.mean(s[s > -1]), or -1 when nothing is > -1. */
function meanValid(values: number[]): number {
  const v = values.filter((x) => x > -1);
  return v.length ? (0 + pairwiseSum(v)) / v.length : -1;
}

const T = IOU_THRESHOLDS.length;
const R = RECALL_THRESHOLDS.length;
const A = AREA_RANGES.length;
const M = MAX_DETS.length;
const EPS = 2.220446049250313e-16; // np.spacing(1)

const AT = A * T;

/** evaluateImg's result for one image and category, kept compact. */
export interface ImageCategoryResult {
  imageId: number;
  /** Scores of the kept detections (at most maxDets[-1]), descending. */
  scores: Float64Array;
  /** [D x A x T] flags, det-major: bit 0 = matched (dtm != 0), bit 1 = ignored (dtIg). */
  flags: Uint8Array;
  /** Per area range: the number of ground truths not ignored. */
  notIgnored: Int32Array;
}

export interface Accumulated {
  /** [T, R, K, A, M], -1 where undefined. */
  precision: Float64Array;
  /** [T, K, A, M], -1 where undefined. */
  recall: Float64Array;
  categoryIds: number[];
}

export interface CocoEvalResult {
  metrics: CocoMetrics;
  /** The same twelve numbers, in summarize order (COCOeval.stats). */
  stats: number[];
  /** AP@[.5:.95] (all areas, maxDets 100) per category; -1 where it has no ground truth. */
  perCategory: { categoryId: number; AP: number }[];
  /** Images evaluated. */
  images: number;
}

/**
 * Evaluates images one at a time, as they come: each image is matched when it is added and only
 * its compact match flags are kept, so the cost is spread over the run and memory stays small.
 */
export class CocoEvaluator {
  readonly categoryIds: number[];
  private readonly catIndex = new Map<number, number>();
  /** Ground truths per image, then per category index, in file order. */
  private readonly gtByImage = new Map<number, Map<number, GroundTruth[]>>();
  private readonly perCategory: ImageCategoryResult[][];
  private readonly seen = new Set<number>();

  /**
   * @param categoryIds every category of the ground truth (COCOeval uses all of cocoGt's
   *   categories, sorted); detections of other categories are not scored.
   * @param groundTruth all annotations, in file order (ties between ground truths keep it).
   */
  constructor(categoryIds: readonly number[], groundTruth: readonly GroundTruth[]) {
    this.categoryIds = [...new Set(categoryIds)].sort((a, b) => a - b);
    this.categoryIds.forEach((c, i) => this.catIndex.set(c, i));
    this.perCategory = this.categoryIds.map(() => []);
    for (const g of groundTruth) {
      const k = this.catIndex.get(g.categoryId);
      if (k === undefined) continue;
      let byCat = this.gtByImage.get(g.imageId);
      if (!byCat) this.gtByImage.set(g.imageId, (byCat = new Map()));
      let list = byCat.get(k);
      if (!list) byCat.set(k, (list = []));
      list.push(g);
    }
  }

  /** Number of images added so far. */
  get images(): number {
    return this.seen.size;
  }

  /** Ids of the images added so far, ascending. */
  imageIds(): number[] {
    return [...this.seen].sort((a, b) => a - b);
  }

  /**
   * The per-image matching results so far, per category index (for resampling images, see
   * bootstrap.ts): flags are [D x AREA_RANGES x IOU_THRESHOLDS], det-major, bit 0 matched, bit 1 ignored.
   */
  imageResults(): readonly (readonly ImageCategoryResult[])[] {
    return this.perCategory;
  }

  /**
   * Scores one image: its detections (any order; ties keep this order) against its ground
   * truth. Every image of the evaluated set must be added once, with no detections if it has none.
   */
  addImage(imageId: number, detections: readonly Detection[]): void {
    if (this.seen.has(imageId)) throw new Error(`CocoEvaluator: image ${imageId} added twice`);
    this.seen.add(imageId);
    const gts = this.gtByImage.get(imageId);
    const dts = new Map<number, Detection[]>();
    for (const d of detections) {
      const k = this.catIndex.get(d.categoryId);
      if (k === undefined) continue;
      const list = dts.get(k);
      if (list) list.push(d);
      else dts.set(k, [d]);
    }
    const cats = new Set([...(gts?.keys() ?? []), ...dts.keys()]);
    for (const k of cats) this.perCategory[k].push(evaluateImageCategory(imageId, gts?.get(k) ?? [], dts.get(k) ?? []));
  }

  /** COCOeval.accumulate over the images added. */
  accumulate(): Accumulated {
    const K = this.categoryIds.length;
    const precision = new Float64Array(T * R * K * A * M).fill(-1);
    const recall = new Float64Array(T * K * A * M).fill(-1);
    for (let k = 0; k < K; k++) {
      const E = [...this.perCategory[k]].sort((a, b) => a.imageId - b.imageId);
      if (!E.length) continue;
      // every image's kept detections, images in id order: scores, rank in the image, flags
      const N = E.reduce((s, e) => s + e.scores.length, 0);
      const scores = new Float64Array(N);
      const rank = new Int32Array(N);
      const flags = new Uint8Array(N * AT);
      const npig = new Int32Array(A);
      let off = 0;
      for (const e of E) {
        const D = e.scores.length;
        scores.set(e.scores, off);
        flags.set(e.flags, off * AT);
        for (let d = 0; d < D; d++) rank[off + d] = d;
        for (let a = 0; a < A; a++) npig[a] += e.notIgnored[a];
        off += D;
      }
      // one stable sort serves every maxDets: cutting each image to its first maxDet detections
      // and sorting again keeps the same relative order
      const order = stableDescending(scores);
      const sel = new Int32Array(N);
      const rc = new Float64Array(N);
      const pr = new Float64Array(N);
      for (let m = 0; m < M; m++) {
        const maxDet = MAX_DETS[m];
        let n = 0;
        for (let j = 0; j < N; j++) if (rank[order[j]] < maxDet) sel[n++] = order[j] * AT;
        for (let a = 0; a < A; a++) {
          if (npig[a] === 0) continue;
          for (let t = 0; t < T; t++) {
            const col = a * T + t;
            let tps = 0;
            let fps = 0;
            for (let j = 0; j < n; j++) {
              const f = flags[sel[j] + col];
              if (!(f & 2)) {
                if (f & 1) tps++;
                else fps++;
              }
              rc[j] = tps / npig[a];
              pr[j] = tps / (fps + tps + EPS);
            }
            recall[((t * K + k) * A + a) * M + m] = n ? rc[n - 1] : 0;
            for (let j = n - 1; j > 0; j--) if (pr[j] > pr[j - 1]) pr[j - 1] = pr[j];
            let pi = 0;
            const base = ((t * R * K + k) * A + a) * M + m;
            for (let r = 0; r < R; r++) {
              const thr = RECALL_THRESHOLDS[r];
              while (pi < n && rc[pi] < thr) pi++;
              precision[base + r * K * A * M] = pi < n ? pr[pi] : 0;
            }
          }
        }
      }
    }
    return { precision, recall, categoryIds: this.categoryIds };
  }

  /** Accumulates and summarises into the twelve numbers. */
  summarize(): CocoEvalResult {
    const acc = this.accumulate();
    const stats = summarize(acc);
    const metrics = Object.fromEntries(METRIC_NAMES.map((n, i) => [n, stats[i]])) as CocoMetrics;
    const K = acc.categoryIds.length;
    const perCategory = acc.categoryIds.map((categoryId, k) => {
      const v: number[] = [];
      for (let t = 0; t < T; t++) for (let r = 0; r < R; r++) v.push(acc.precision[(((t * R + r) * K + k) * A + 0) * M + (M - 1)]);
      return { categoryId, AP: meanValid(v) };
    });
    return { metrics, stats, perCategory, images: this.images };
  }
}

/** COCOeval.summarize for iouType 'bbox': the twelve numbers. */
export function summarize(acc: Accumulated): number[] {
  const K = acc.categoryIds.length;
  const one = (ap: boolean, iouThr: number | undefined, area: AreaLabel, maxDets: number): number => {
    const a = AREA_LABELS.indexOf(area);
    const m = MAX_DETS.indexOf(maxDets);
    const ts = iouThr === undefined ? IOU_THRESHOLDS.map((_, i) => i) : IOU_THRESHOLDS.flatMap((x, i) => (x === iouThr ? [i] : []));
    const v: number[] = [];
    for (const t of ts) {
      if (ap) for (let r = 0; r < R; r++) for (let k = 0; k < K; k++) v.push(acc.precision[(((t * R + r) * K + k) * A + a) * M + m]);
      else for (let k = 0; k < K; k++) v.push(acc.recall[((t * K + k) * A + a) * M + m]);
    }
    return meanValid(v);
  };
  return [
    one(true, undefined, 'all', 100),
    one(true, 0.5, 'all', 100),
    one(true, 0.75, 'all', 100),
    one(true, undefined, 'small', 100),
    one(true, undefined, 'medium', 100),
    one(true, undefined, 'large', 100),
    one(false, undefined, 'all', 1),
    one(false, undefined, 'all', 10),
    one(false, undefined, 'all', 100),
    one(false, undefined, 'small', 100),
    one(false, undefined, 'medium', 100),
    one(false, undefined, 'large', 100),
  ];
}

/** COCOeval.evaluateImg for one image and category, for every area range at once. */
function evaluateImageCategory(imageId: number, gts: readonly GroundTruth[], dtsIn: readonly Detection[]): ImageCategoryResult {
  const maxDet = MAX_DETS[M - 1];
  let sorted = true;
  for (let i = 1; i < dtsIn.length && sorted; i++) sorted = !(dtsIn[i].score > dtsIn[i - 1].score);
  const dts = sorted ? dtsIn.slice(0, maxDet) : stableDescending(dtsIn.map((d) => d.score)).slice(0, maxDet).map((i) => dtsIn[i]);
  const D = dts.length;
  const G = gts.length;
  const crowd = gts.map((g) => g.iscrowd);
  const ious = D && G ? boxIou(dts.map((d) => d.bbox), gts.map((g) => g.bbox), crowd) : undefined;
  const flags = new Uint8Array(D * AT);
  const notIgnored = new Int32Array(A);
  const gtm = new Uint8Array(G);
  const dtIgArea = new Uint8Array(D);
  const order = new Int32Array(G);
  const gtIg = new Uint8Array(G);
  for (let a = 0; a < A; a++) {
    const [lo, hi] = AREA_RANGES[a];
    // ground truths sorted ignore last, stable
    let n = 0;
    for (let g = 0; g < G; g++) if (!(gts[g].iscrowd || gts[g].area < lo || gts[g].area > hi)) order[n++] = g;
    notIgnored[a] = n;
    for (let g = 0; g < G; g++) if (gts[g].iscrowd || gts[g].area < lo || gts[g].area > hi) order[n++] = g;
    for (let gi = 0; gi < G; gi++) gtIg[gi] = gi < notIgnored[a] ? 0 : 1;
    for (let d = 0; d < D; d++) {
      const w = dts[d].bbox[2] * dts[d].bbox[3];
      dtIgArea[d] = w < lo || w > hi ? 1 : 0;
    }
    for (let t = 0; t < T; t++) {
      gtm.fill(0);
      const col = a * T + t;
      for (let d = 0; d < D; d++) {
        let m = -1;
        if (ious) {
          let iou = Math.min(IOU_THRESHOLDS[t], 1 - 1e-10);
          for (let gi = 0; gi < G; gi++) {
            const g = order[gi];
            if (gtm[gi] && !crowd[g]) continue;
            if (m > -1 && gtIg[m] === 0 && gtIg[gi] === 1) break;
            const v = ious[d * G + g];
            if (v < iou) continue;
            iou = v;
            m = gi;
          }
        }
        let f: number;
        if (m === -1) f = dtIgArea[d] ? 2 : 0;
        else {
          gtm[m] = 1;
          // dtm holds the ground truth's id: an id of 0 reads as no match (pycocotools does the same)
          const matched = gts[order[m]].id !== 0;
          f = (matched ? 1 : 0) | (gtIg[m] || (!matched && dtIgArea[d]) ? 2 : 0);
        }
        flags[d * AT + col] = f;
      }
    }
  }
  return { imageId, scores: Float64Array.from(dts, (d) => d.score), flags, notIgnored };
}
