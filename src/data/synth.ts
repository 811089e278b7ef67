/**
 * `snc data synth`: a synthetic COCO-format detection set of shapes. Image i of seed s is a
 * function of (s, i, size) alone, so the same arguments give byte-identical folders and a set
 * can be made in any order; different seeds draw from independent streams.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SncError } from '../errors.js';
import { SHAPE_CLASSES } from './shapes.js';
import { checkWritableDir, removeFile, writeFileAtomic } from '../util/fs.js';
import { renderScene } from './render.js';
import { makeScene } from './scene.js';

export const SYNTH_VERSION = 1;
export const SYNTH_CATEGORIES = SHAPE_CLASSES.map((name, i) => ({ id: i + 1, name, supercategory: 'shape' }));

export interface SynthOptions {
  out: string;
  images: number;
  seed: number;
  size: number;
  /**
   * Smallest object, px: the square root of its shape's area (its box is larger). Default:
   * sqrt(40) ≈ 6.3 (DEFAULT_MIN_OBJECT_AREA), with which sets stay byte-identical to earlier ones.
   */
  minSize?: number;
  /** Images rendered at once (sharp works in its thread pool). */
  concurrency?: number;
  /** Replace an existing set in `out`. */
  force?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface SynthResult {
  out: string;
  images: number;
  annotations: number;
  seconds: number;
  imagesPerSecond: number;
}

export function imageFileName(index: number, total: number): string {
  return `${String(index + 1).padStart(Math.max(6, String(total).length), '0')}.jpg`;
}

const OUR_IMAGE = /^\d{6,}\.jpg$/;

/** Refuses to write over a folder that holds something, unless --force; then clears our old images. */
function prepareOut(out: string, names: Set<string>, force: boolean): void {
  if (existsSync(out) && !statSync(out).isDirectory()) throw new SncError(`data synth: --out ${out} exists and is not a folder`);
  checkWritableDir(out);
  const imagesDir = join(out, 'images');
  const old = existsSync(imagesDir) ? readdirSync(imagesDir) : [];
  const occupied = existsSync(join(out, 'annotations.json')) || old.length > 0;
  if (occupied && !force) throw new SncError(`data synth: ${out} already holds a data set; choose another --out or pass --force to replace it`);
  // the old index goes first (a half-replaced set must not look complete); images of an
  // earlier, larger set would otherwise stay behind
  removeFile(join(out, 'annotations.json'));
  for (const f of old) if (OUR_IMAGE.test(f) && !names.has(f)) removeFile(join(imagesDir, f));
}

export async function synthesize(opts: SynthOptions): Promise<SynthResult> {
  const { out, images: N, seed, size } = opts;
  if (!Number.isInteger(N) || N < 1) throw new SncError(`data synth: --images must be an integer >= 1, got ${N}`);
  if (!Number.isInteger(size) || size < 64 || size > 4096) throw new SncError(`data synth: --size must be an integer from 64 to 4096, got ${size}`);
  const minSize = opts.minSize;
  if (minSize !== undefined && !(Number.isFinite(minSize) && minSize > 0 && minSize * minSize < 0.3 * size * size))
    throw new SncError(`data synth: --min-size must be a number of pixels > 0 and below ${Math.floor(Math.sqrt(0.3) * size)} (the largest objects at --size ${size}), got ${minSize}`);
  const minArea = minSize === undefined ? undefined : minSize * minSize;
  const names = Array.from({ length: N }, (_, i) => imageFileName(i, N));
  prepareOut(out, new Set(names), opts.force === true);
  checkWritableDir(join(out, 'images'));
  const imagesOut: object[] = new Array(N);
  const annsOut: object[][] = new Array(N);
  const t0 = performance.now();
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < N) {
      const i = next++;
      const scene = makeScene(seed, i, size, minArea);
      const jpeg = await renderScene(scene);
      writeFileAtomic(join(out, 'images', names[i]), jpeg);
      imagesOut[i] = { id: i + 1, file_name: names[i], width: size, height: size };
      annsOut[i] = scene.objects.map((o) => ({ image_id: i + 1, category_id: o.cls + 1, bbox: o.bbox, area: o.area, iscrowd: 0 }));
      opts.onProgress?.(++done, N);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker));
  let id = 1;
  const annotations = annsOut.flat().map((a) => ({ id: id++, ...a }));
  const doc = {
    info: { description: 'snc synthetic shapes', version: String(SYNTH_VERSION), generator: 'snc data synth', seed, size, images: N, ...(minSize !== undefined ? { minSize } : {}) },
    licenses: [],
    categories: SYNTH_CATEGORIES,
    images: imagesOut,
    annotations,
  };
  // written last: a folder with annotations.json is a complete set
  writeFileAtomic(join(out, 'annotations.json'), JSON.stringify(doc) + '\n');
  const seconds = (performance.now() - t0) / 1000;
  return { out, images: N, annotations: annotations.length, seconds, imagesPerSecond: N / seconds };
}
