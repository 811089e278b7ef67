/**
 * From a subnet's outputs to detections in the original image, as RF-DETR post-processes:
 * sigmoid of the logits, the top k (default 100) of all Q x K (query, class) scores, label =
 * index % K and query = floor(index / K), the query's box from normalised (cx, cy, w, h) to
 * x0 y0 x1 y1 pixels of the original image (square resize, no letterbox: x by its width, y by its
 * height), reported as COCO [x, y, w, h]. No NMS.
 */
import { SncError, choices } from '../errors.js';
import type { Detection } from '../data/detection.js';

export const DEFAULT_TOP_K = 100;

export interface ClassMap {
  /** COCO category id of each class index, or -1 when the data set has no such category. */
  categoryOf: Int32Array;
  /** Class names the data set lacks (their scores are left out). */
  unmatched: string[];
}

/** Maps a supernet's class names to a data set's category ids by name. */
export function mapClasses(classes: readonly string[], categories: readonly { id: number; name: string }[]): ClassMap {
  const byName = new Map(categories.map((c) => [c.name, c.id]));
  const categoryOf = Int32Array.from(classes, (n) => byName.get(n) ?? -1);
  const unmatched = classes.filter((n) => !byName.has(n));
  if (unmatched.length === classes.length)
    throw new SncError(`eval: no class of the supernet (${choices(classes.slice(0, 6))}${classes.length > 6 ? ', ...' : ''}) is a category of the data set (${choices(categories.slice(0, 6).map((c) => c.name))}${categories.length > 6 ? ', ...' : ''}); classes are matched to categories by name`);
  return { categoryOf, unmatched };
}

/**
 * Indices of the k largest values of `v` (skipping those `skip` rejects), largest first, ties
 * by lower index; a bounded min-heap, O(n log k).
 */
export function topK(v: ArrayLike<number>, k: number, skip?: (i: number) => boolean): number[] {
  const heap: number[] = []; // min-heap on (value, -index): the root is the weakest kept
  const weaker = (a: number, b: number) => v[a] < v[b] || (v[a] === v[b] && a > b);
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && weaker(heap[l], heap[m])) m = l;
      if (r < heap.length && weaker(heap[r], heap[m])) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  };
  for (let i = 0; i < v.length; i++) {
    if (skip?.(i) || Number.isNaN(v[i])) continue;
    if (heap.length < k) {
      heap.push(i);
      for (let j = heap.length - 1; j > 0; ) {
        const p = (j - 1) >> 1;
        if (!weaker(heap[j], heap[p])) break;
        [heap[j], heap[p]] = [heap[p], heap[j]];
        j = p;
      }
    } else if (k > 0 && weaker(heap[0], i)) {
      heap[0] = i;
      down(0);
    }
  }
  return heap.sort((a, b) => (weaker(a, b) ? 1 : weaker(b, a) ? -1 : 0));
}

export interface RawOutputs {
  /** [1, Q, 4] normalised cx, cy, w, h. */
  boxes: Float32Array;
  /** [1, Q, K]. */
  logits: Float32Array;
  queries: number;
  classes: number;
}

export function postprocess(out: RawOutputs, width: number, height: number, map: ClassMap, k = DEFAULT_TOP_K): Detection[] {
  const K = out.classes;
  const skip = map.unmatched.length ? (i: number) => map.categoryOf[i % K] < 0 : undefined;
  const dets: Detection[] = [];
  for (const idx of topK(out.logits.subarray(0, out.queries * K), k, skip)) {
    const q = Math.floor(idx / K);
    const label = idx % K;
    const cx = out.boxes[4 * q];
    const cy = out.boxes[4 * q + 1];
    const w = out.boxes[4 * q + 2];
    const h = out.boxes[4 * q + 3];
    const x0 = (cx - 0.5 * w) * width;
    const y0 = (cy - 0.5 * h) * height;
    const x1 = (cx + 0.5 * w) * width;
    const y1 = (cy + 0.5 * h) * height;
    dets.push({ categoryId: map.categoryOf[label], bbox: [x0, y0, x1 - x0, y1 - y0], score: 1 / (1 + Math.exp(-out.logits[idx])) });
  }
  return dets;
}
