/**
 * Figures next to the twelve COCO numbers, to tell finding objects from naming them:
 * - class-agnostic COCO metrics: every detection and ground truth as one category, i.e. what
 *   pycocotools gives on the same set with a single category (the twelve numbers again, computed
 *   by a second CocoEvaluator, so they are exact in the same way);
 * - by object size (sqrt of the ground-truth box's w x h, in pixels; bins < 12, 12-24, 24-48,
 *   >= 48): the share of ground truths, recall at IoU 0.5 (class-agnostic matching) and, of the
 *   matched ground truths, the share whose detection names the right class.
 *
 * The matching for the size bins is COCOeval's at IoU 0.5 with one category: detections of the
 * image by descending score (stable, the first 100), each taking the unmatched non-crowd ground
 * truth of highest IoU >= 0.5. Crowd ground truths are not counted.
 */
import { boxIou, CocoEvaluator, MAX_DETS, stableDescending, type CocoEvalResult } from './coco-eval.js';
import type { Detection, GroundTruth } from '../data/detection.js';

/** Bin edges on sqrt(w*h) in pixels: [lo, hi). */
export const SIZE_BINS: readonly { label: string; lo: number; hi: number }[] = [
  { label: '<12', lo: 0, hi: 12 },
  { label: '12-24', lo: 12, hi: 24 },
  { label: '24-48', lo: 24, hi: 48 },
  { label: '>=48', lo: 48, hi: Infinity },
];

export interface SizeBinResult {
  label: string;
  /** Non-crowd ground truths in the bin. */
  objects: number;
  /** objects / all non-crowd ground truths. */
  share: number;
  /** Ground truths matched by some detection at IoU >= 0.5 (any class); NaN without objects. */
  recall: number;
  /** Of the matched ground truths, the share whose detection has the ground truth's class; NaN without matches. */
  classAccuracy: number;
}

export interface Breakdown {
  /** The twelve numbers with every detection and ground truth as one category. */
  agnostic: CocoEvalResult['metrics'];
  bySize: SizeBinResult[];
}

export function sizeBin(box: readonly number[]): number {
  const s = Math.sqrt(box[2] * box[3]);
  return SIZE_BINS.findIndex((b) => s >= b.lo && s < b.hi);
}

/** Accumulates the breakdown image by image, next to a CocoEvaluator fed the same images. */
export class BreakdownEvaluator {
  private readonly agnostic: CocoEvaluator;
  private readonly known: Set<number>;
  private readonly gtByImage = new Map<number, GroundTruth[]>();
  private readonly objects = new Int32Array(SIZE_BINS.length);
  private readonly matched = new Int32Array(SIZE_BINS.length);
  private readonly right = new Int32Array(SIZE_BINS.length);

  /** Same arguments as CocoEvaluator's: ground truth and detections of other categories are left out. */
  constructor(categoryIds: readonly number[], groundTruth: readonly GroundTruth[]) {
    this.known = new Set(categoryIds);
    const kept = groundTruth.filter((g) => this.known.has(g.categoryId));
    this.agnostic = new CocoEvaluator([0], kept.map((g) => ({ ...g, categoryId: 0 })));
    for (const g of kept) {
      let l = this.gtByImage.get(g.imageId);
      if (!l) this.gtByImage.set(g.imageId, (l = []));
      l.push(g);
    }
  }

  addImage(imageId: number, detectionsIn: readonly Detection[]): void {
    const detections = detectionsIn.filter((d) => this.known.has(d.categoryId));
    this.agnostic.addImage(imageId, detections.map((d) => ({ ...d, categoryId: 0 })));
    const gts = (this.gtByImage.get(imageId) ?? []).filter((g) => !g.iscrowd);
    if (!gts.length) return;
    const bins = gts.map((g) => sizeBin(g.bbox));
    for (const b of bins) this.objects[b]++;
    const dts = stableDescending(detections.map((d) => d.score)).slice(0, MAX_DETS[MAX_DETS.length - 1]).map((i) => detections[i]);
    if (!dts.length) return;
    const G = gts.length;
    const iou = boxIou(dts.map((d) => d.bbox), gts.map((g) => g.bbox), gts.map(() => false));
    const taken = new Uint8Array(G);
    dts.forEach((d, i) => {
      let best = -1;
      let bestIou = 0.5; // COCOeval: iou >= min(t, 1 - 1e-10), a later equal IoU wins
      for (let g = 0; g < G; g++) {
        if (taken[g]) continue;
        const v = iou[i * G + g];
        if (v < bestIou) continue;
        bestIou = v;
        best = g;
      }
      if (best < 0) return;
      taken[best] = 1;
      this.matched[bins[best]]++;
      if (d.categoryId === gts[best].categoryId) this.right[bins[best]]++;
    });
  }

  summarize(): Breakdown {
    const total = this.objects.reduce((a, b) => a + b, 0);
    return {
      agnostic: this.agnostic.summarize().metrics,
      bySize: SIZE_BINS.map((b, i) => ({
        label: b.label,
        objects: this.objects[i],
        share: total ? this.objects[i] / total : NaN,
        recall: this.objects[i] ? this.matched[i] / this.objects[i] : NaN,
        classAccuracy: this.matched[i] ? this.right[i] / this.matched[i] : NaN,
      })),
    };
  }
}
