/**
 * Reading a COCO-format detection set: a folder with `annotations.json` and `images/` (either can
 * be given separately). Only what bbox evaluation needs is kept: images (id, file, size),
 * categories (id, name) and annotations (bbox, area, iscrowd).
 *
 * A malformed file (not JSON, no images or categories list, an image or category without an id,
 * duplicate image or category ids) is an SncError. Items that cannot be used (an annotation that
 * refers to no image or category, a malformed or duplicate annotation) are Problems: skipped and
 * counted, or an error with --strict.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize, resolve, win32 } from 'node:path';
import { SncError } from '../errors.js';
import type { Box, GroundTruth } from './detection.js';
import { Problems } from './problems.js';

export interface CocoImage {
  id: number;
  fileName: string;
  /** As the annotations file says; undefined when it does not. */
  width?: number;
  height?: number;
}

export interface CocoCategory {
  id: number;
  name: string;
}

export interface CocoDataset {
  annotationsFile: string;
  imagesDir: string;
  /** In file order. */
  images: CocoImage[];
  /** In file order. */
  categories: CocoCategory[];
  /** The usable annotations, in file order. */
  annotations: GroundTruth[];
}

export interface DatasetLocation {
  /** The annotations file; default DIR/annotations.json. */
  annotations?: string;
  /** The images folder; default DIR/images. */
  images?: string;
}

/**
 * Whether an image's file_name leaves the images folder as written: an absolute path, or one
 * whose `..` parts climb above it. (A symbolic link inside the folder that points out is caught
 * when the image is read.)
 */
export function leavesFolder(fileName: string): boolean {
  if (isAbsolute(fileName) || win32.isAbsolute(fileName) || fileName.includes('\0')) return true;
  const n = normalize(fileName.replace(/\\/g, '/'));
  return n === '..' || n.startsWith('../');
}

export function imagePath(ds: CocoDataset, img: CocoImage): string {
  return join(ds.imagesDir, img.fileName);
}

/** Where a data set's annotations file and images folder are. */
export function locateDataset(dir: string | undefined, loc: DatasetLocation = {}): { annotationsFile: string; imagesDir: string } {
  if (dir !== undefined && !(existsSync(dir) && statSync(dir).isDirectory()))
    throw new SncError(`data: ${dir} is not a folder (a COCO folder holds images/ and annotations.json)`);
  const annotationsFile = loc.annotations ?? (dir !== undefined ? join(dir, 'annotations.json') : undefined);
  if (!annotationsFile) throw new SncError('data: give --data DIR (a COCO folder) or --annotations FILE');
  if (!existsSync(annotationsFile))
    throw new SncError(loc.annotations ? `data: ${annotationsFile} does not exist` : `data: ${dir} has no annotations.json (a COCO folder holds images/ and annotations.json; name another file with --annotations)`);
  const imagesDir = loc.images ?? join(dir ?? dirname(annotationsFile), 'images');
  return { annotationsFile: resolve(annotationsFile), imagesDir: resolve(imagesDir) };
}

/** Reads DIR (or the files `loc` names); bad items go to `problems`. */
export function readCocoDataset(dir: string | undefined, loc: DatasetLocation, problems: Problems): CocoDataset {
  const { annotationsFile, imagesDir } = locateDataset(dir, loc);
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(annotationsFile, 'utf8'));
  } catch (e) {
    throw new SncError(`${annotationsFile}: not valid JSON (${(e as Error).message})`);
  }
  return parseCocoDataset(doc, annotationsFile, imagesDir, problems);
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** A bbox of four finite numbers with w, h >= 0, or undefined. */
export function readBox(v: unknown, allowNegative = false): Box | undefined {
  if (!Array.isArray(v) || v.length !== 4 || !v.every(isNum)) return undefined;
  if (!allowNegative && (v[2] < 0 || v[3] < 0)) return undefined;
  return [v[0], v[1], v[2], v[3]];
}

/** Checks and indexes a parsed annotations document. */
export function parseCocoDataset(doc: unknown, source: string, imagesDir: string, problems: Problems): CocoDataset {
  const d = doc as Record<string, unknown>;
  if (typeof d !== 'object' || d === null || Array.isArray(d)) throw new SncError(`${source}: not a COCO annotations file (expected an object with images, annotations and categories)`);
  if (!Array.isArray(d.images)) throw new SncError(`${source}: no "images" list`);
  if (!Array.isArray(d.categories)) throw new SncError(`${source}: no "categories" list`);

  const images: CocoImage[] = [];
  const imageIds = new Set<number>();
  const outside = new Set<number>();
  d.images.forEach((raw: Record<string, unknown>, i: number) => {
    if (!isNum(raw?.id)) throw new SncError(`${source}: images[${i}] has no numeric id`);
    if (typeof raw.file_name !== 'string' || !raw.file_name) throw new SncError(`${source}: image ${raw.id} has no file_name`);
    if (imageIds.has(raw.id)) throw new SncError(`${source}: image id ${raw.id} appears twice`);
    imageIds.add(raw.id);
    if (leavesFolder(raw.file_name)) {
      // never read: skipped and reported (an error with --strict), its annotations dropped with it
      outside.add(raw.id);
      return problems.add({ kind: 'outside-folder', file: source, id: raw.id, message: `image ${raw.id}: file_name ${JSON.stringify(raw.file_name)} leads outside the images folder; it is skipped` });
    }
    images.push({ id: raw.id, fileName: raw.file_name, width: isNum(raw.width) ? raw.width : undefined, height: isNum(raw.height) ? raw.height : undefined });
  });

  const categories: CocoCategory[] = [];
  const categoryIds = new Set<number>();
  d.categories.forEach((raw: Record<string, unknown>, i: number) => {
    if (!isNum(raw?.id)) throw new SncError(`${source}: categories[${i}] has no numeric id`);
    if (categoryIds.has(raw.id)) throw new SncError(`${source}: category id ${raw.id} appears twice`);
    categoryIds.add(raw.id);
    categories.push({ id: raw.id, name: typeof raw.name === 'string' ? raw.name : String(raw.id) });
  });

  if (d.annotations === undefined)
    throw new SncError(`${source}: no "annotations" list; a data set to evaluate on needs its ground-truth boxes ("annotations": [] if its images have none)`);
  if (!Array.isArray(d.annotations)) throw new SncError(`${source}: "annotations" is not a list`);
  const annotations: GroundTruth[] = [];
  const annIds = new Set<number>();
  ((d.annotations ?? []) as Record<string, unknown>[]).forEach((raw, i) => {
    const bad = (kind: 'bad-annotation' | 'orphan-annotation' | 'duplicate-annotation', id: number, message: string) => problems.add({ kind, file: source, id, message });
    if (!isNum(raw?.id)) return bad('bad-annotation', i, `annotations[${i}] has no numeric id`);
    const id = raw.id;
    if (annIds.has(id)) return bad('duplicate-annotation', id, `annotation ${id} appears twice; the later one is skipped`);
    annIds.add(id);
    if (isNum(raw.image_id) && outside.has(raw.image_id)) return;
    if (!isNum(raw.image_id) || !imageIds.has(raw.image_id)) return bad('orphan-annotation', id, `annotation ${id} refers to image ${JSON.stringify(raw.image_id)}, which is not in images`);
    if (!isNum(raw.category_id) || !categoryIds.has(raw.category_id)) return bad('orphan-annotation', id, `annotation ${id} refers to category ${JSON.stringify(raw.category_id)}, which is not in categories`);
    const bbox = readBox(raw.bbox);
    if (!bbox) return bad('bad-annotation', id, `annotation ${id}: bbox ${JSON.stringify(raw.bbox)} is not [x, y, w, h] with w, h >= 0`);
    if (raw.area !== undefined && !isNum(raw.area)) return bad('bad-annotation', id, `annotation ${id}: area ${JSON.stringify(raw.area)} is not a number`);
    annotations.push({
      id,
      imageId: raw.image_id,
      categoryId: raw.category_id,
      bbox,
      area: isNum(raw.area) ? raw.area : bbox[2] * bbox[3],
      iscrowd: Boolean(raw.iscrowd),
    });
  });
  return { annotationsFile: source, imagesDir, images, categories, annotations };
}
