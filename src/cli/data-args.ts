/**
 * The flags of commands that read a COCO-format set (`snc eval`, `snc search`): --data DIR, and
 * --annotations FILE / --images DIR to point at parts of it elsewhere.
 */
import { existsSync, statSync } from 'node:fs';
import { readCocoDataset, type CocoDataset } from '../data/coco.js';
import type { Problems } from '../data/problems.js';
import { SncError } from '../errors.js';
import type { Options, Parsed } from './args.js';

export const DATA_SET_OPTIONS = {
  data: { type: 'string' },
  annotations: { type: 'string' },
  images: { type: 'string' },
} satisfies Options;

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** Checks that a set is named (`what` says what --data should be, in the error). */
export function requireDataSet(command: string, values: Parsed['values'], what: string): void {
  if (!str(values.data) && !str(values.annotations)) throw new SncError(`${command}: --data is required (${what})`);
}

/** Reads the set the flags name. */
export function readDataSet(values: Parsed['values'], problems: Problems): CocoDataset {
  return readCocoDataset(str(values.data), { annotations: str(values.annotations), images: str(values.images) }, problems);
}

/** Running a model over a set needs its images folder. */
export function requireImagesDir(command: string, ds: CocoDataset): void {
  if (!existsSync(ds.imagesDir) || !statSync(ds.imagesDir).isDirectory()) throw new SncError(`${command}: images folder ${ds.imagesDir} does not exist (name another with --images)`);
}
