import { SncError } from '../errors.js';

export type ProblemKind =
  | 'missing-image'
  | 'outside-folder'
  | 'undecodable-image'
  | 'size-mismatch'
  | 'orphan-annotation'
  | 'bad-annotation'
  | 'duplicate-annotation'
  | 'orphan-detection'
  | 'bad-detection';

/** One item of a data set that cannot be used, named by its file and its id. */
export interface Problem {
  kind: ProblemKind;
  /** The file at fault: the image, or the annotations/results file. */
  file: string;
  /** The image, annotation or detection id (a detection's id is its 1-based position, as loadRes numbers them). */
  id: number;
  message: string;
}

export function problemLine(p: Problem): string {
  return `${p.file}: ${p.message}`;
}

/**
 * The policy for bad items: by default each is skipped and counted; with `strict` the first
 * one is an SncError (exit code 2) naming its file and id.
 */
export class Problems {
  readonly list: Problem[] = [];
  constructor(readonly strict = false) {}

  add(p: Problem): void {
    if (this.strict) throw new SncError(`${problemLine(p)} (--strict)`);
    this.list.push(p);
  }

  count(...kinds: ProblemKind[]): number {
    return this.list.filter((p) => kinds.includes(p.kind)).length;
  }

  /** Counts by kind, only kinds that occurred. */
  summary(): Partial<Record<ProblemKind, number>> {
    const out: Partial<Record<ProblemKind, number>> = {};
    for (const p of this.list) out[p.kind] = (out[p.kind] ?? 0) + 1;
    return out;
  }
}
