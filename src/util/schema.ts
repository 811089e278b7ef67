/**
 * Reading files with zod schemas: field checks that name what they expect, and the first problem
 * as one SncError line, `SOURCE: field.path is VALUE; expected WHAT`.
 */
import { z } from 'zod';
import { SncError } from '../errors.js';

/** A field that must pass `ok`; `what` is the expectation named in the error. */
export const field = (ok: (v: unknown) => boolean, what: string) => z.unknown().refine(ok, { error: what });
const isInt = (v: unknown): v is number => Number.isInteger(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
export const posInt = field((v) => isInt(v) && v > 0, 'an integer > 0');
export const natInt = field((v) => isInt(v) && v >= 0, 'an integer >= 0');
export const posNum = field((v) => isNum(v) && v > 0, 'a finite number > 0');
export const nonNeg = field((v) => isNum(v) && v >= 0, 'a finite number >= 0');
export const finite = field(isNum, 'a finite number');
export const text = field((v) => typeof v === 'string', 'a string');
export const nonEmptyText = field((v) => typeof v === 'string' && v.length > 0, 'a non-empty string');
export const bool = field((v) => typeof v === 'boolean', 'true or false');
export const list = (item: z.ZodType, nonEmpty = false) =>
  z.array(item, { error: `a list${nonEmpty ? ' (not empty)' : ''}` }).refine((l) => !nonEmpty || l.length > 0, { error: 'a non-empty list' });
export const object = <T extends z.core.$ZodLooseShape>(shape: T, what = 'an object') => z.looseObject(shape, { error: what });
export const record = (value: z.ZodType) => z.record(z.string(), value, { error: 'an object' });

/** The value at a path of a parsed document (for error messages). */
function at(doc: unknown, path: readonly PropertyKey[]): unknown {
  let v = doc;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

/** A zod issue as `field.path is VALUE; expected WHAT`. */
export function describeIssue(doc: unknown, issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join('.') || 'the document';
  const got = at(doc, issue.path);
  const shown = got === undefined ? 'missing' : (JSON.stringify(got) ?? String(got)).slice(0, 80);
  const expected = /^Invalid input|^Too small|^Too big|^Invalid key/.test(issue.message) ? 'another value' : issue.message;
  return `${path} is ${shown}; expected ${expected}`;
}

/** `doc` checked against `schema`, or an SncError naming `source` and the first bad field. */
export function checkWith<T>(schema: z.ZodType, doc: unknown, source: string): T {
  const r = schema.safeParse(doc);
  if (!r.success) throw new SncError(`${source}: ${describeIssue(doc, r.error.issues[0])}`);
  return doc as T;
}
