/** Boxes, ground truths and detections: the types data sets and the evaluator share. */

export type Box = [number, number, number, number];

export interface GroundTruth {
  /** Annotation id (pycocotools counts a match to a ground truth with id 0 as no match; so does this). */
  id: number;
  imageId: number;
  categoryId: number;
  /** [x, y, w, h] in pixels. */
  bbox: Box;
  /** The annotation's `area` (segment area in COCO), used for the area ranges. */
  area: number;
  iscrowd: boolean;
}

export interface Detection {
  categoryId: number;
  /** [x, y, w, h] in pixels; the area ranges use w*h, as loadRes does. */
  bbox: Box;
  score: number;
}
