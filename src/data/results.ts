/**
 * The COCO results format: a JSON list of {image_id, category_id, bbox: [x, y, w, h], score},
 * what pycocotools' loadRes reads. Reading keeps the file order per image (it breaks score ties)
 * and, like loadRes, drops nothing that is well-formed; writing streams to an atomic file.
 */
import { readFileSync } from 'node:fs';
import { SncError } from '../errors.js';
import type { Detection } from './detection.js';
import { AtomicFileWriter } from '../util/fs.js';
import type { CocoDataset } from './coco.js';
import { readBox } from './coco.js';
import type { Problems } from './problems.js';

/** Detections per image id, each image's in file order. */
export type DetectionsByImage = Map<number, Detection[]>;

export function readCocoResults(file: string, dataset: CocoDataset, problems: Problems): DetectionsByImage {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new SncError(`${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `not valid JSON (${(e as Error).message})`}`);
  }
  return parseCocoResults(doc, file, dataset, problems);
}

/**
 * Checks a parsed results list against the data set. A detection whose image is not in the set
 * (loadRes refuses the whole file then) or whose category is not (COCOeval never scores it) is a
 * Problem; one without a 4-number bbox or a finite score is a bad detection. Ids are 1-based
 * positions in the list, as loadRes numbers them.
 */
export function parseCocoResults(doc: unknown, source: string, dataset: CocoDataset, problems: Problems): DetectionsByImage {
  if (!Array.isArray(doc)) throw new SncError(`${source}: not a COCO results file (expected a list of {image_id, category_id, bbox, score})`);
  const images = new Set(dataset.images.map((i) => i.id));
  const categories = new Set(dataset.categories.map((c) => c.id));
  const out: DetectionsByImage = new Map();
  doc.forEach((raw: Record<string, unknown>, i: number) => {
    const id = i + 1;
    const bad = (kind: 'bad-detection' | 'orphan-detection', message: string) => problems.add({ kind, file: source, id, message: `detection ${id}: ${message}` });
    if (typeof raw !== 'object' || raw === null) return bad('bad-detection', 'not an object');
    const bbox = readBox(raw.bbox, true);
    if (!bbox) return bad('bad-detection', `bbox ${JSON.stringify(raw.bbox)} is not [x, y, w, h]`);
    if (typeof raw.score !== 'number' || !Number.isFinite(raw.score)) return bad('bad-detection', `score ${JSON.stringify(raw.score)} is not a finite number`);
    if (typeof raw.image_id !== 'number' || !images.has(raw.image_id)) return bad('orphan-detection', `image_id ${JSON.stringify(raw.image_id)} is not an image of the data set`);
    if (typeof raw.category_id !== 'number' || !categories.has(raw.category_id)) return bad('orphan-detection', `category_id ${JSON.stringify(raw.category_id)} is not a category of the data set`);
    let list = out.get(raw.image_id);
    if (!list) out.set(raw.image_id, (list = []));
    list.push({ categoryId: raw.category_id, bbox, score: raw.score });
  });
  return out;
}

/** Writes detections as a COCO results file, image by image; nothing appears at `path` until commit. */
export class ResultsWriter {
  private readonly w: AtomicFileWriter;
  private first = true;
  constructor(path: string) {
    this.w = new AtomicFileWriter(path);
    this.w.write('[');
  }

  add(imageId: number, detections: readonly Detection[]): void {
    let s = '';
    for (const d of detections) {
      s += `${this.first ? '\n' : ',\n'}${JSON.stringify({ image_id: imageId, category_id: d.categoryId, bbox: d.bbox, score: d.score })}`;
      this.first = false;
    }
    if (s) this.w.write(s);
  }

  commit(): void {
    this.w.write('\n]\n');
    this.w.commit();
  }

  abort(): void {
    this.w.abort();
  }
}
