/**
 * Every file snc writes goes through here: written atomically (temporary file + rename), folders
 * created without Node's recursive mkdir (which loops forever on /proc and reports a read-only
 * mount as ENOENT), and every file-system failure turned into one SncError line naming the path
 * and the reason.
 */
import { closeSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeFileSync, writeSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { SncError } from '../errors.js';

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EISDIR: 'it is a folder, not a file',
  ENOTDIR: 'a part of its path is a file, not a folder',
  ENOENT: 'a folder on its path does not exist',
  EEXIST: 'it already exists',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many levels of symbolic links',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files',
  EIO: 'input/output error',
  EXDEV: 'the temporary file is on another device',
  EBUSY: 'it is busy',
  EINVAL: 'the file system does not allow it',
  ETXTBSY: 'it is busy',
};

const codeOf = (e: unknown): string | undefined => (e instanceof Error ? (e as NodeJS.ErrnoException).code : undefined);

/**
 * A file-system error as one SncError line: `cannot <action> <path>: <reason> (<CODE>)`. Errors
 * that are not file-system errors (and SncErrors) are returned as they are.
 */
export function fsError(e: unknown, action: string, path: string): Error {
  if (e instanceof SncError) return e;
  const code = codeOf(e);
  if (!code || !(code in REASONS)) return e instanceof Error ? e : new Error(String(e));
  return new SncError(`cannot ${action} ${path}: ${REASONS[code]} (${code})`);
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (e) {
    if (codeOf(e) === 'ENOENT' || codeOf(e) === 'ENOTDIR') return undefined;
    throw fsError(e, 'reach', path);
  }
}

/**
 * Creates a folder and its missing parents (mkdir -p), one level at a time, with one-line errors:
 * a parent that is a file, a read-only or full file system, a place (such as /proc) that refuses
 * new folders.
 */
export function ensureDir(dir: string): void {
  const missing: string[] = [];
  let d = resolve(dir);
  for (;;) {
    const st = statOrUndefined(d);
    if (st) {
      if (!st.isDirectory()) throw new SncError(`cannot create folder ${dir}: ${d} is a file, not a folder`);
      break;
    }
    missing.push(d);
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  for (const m of missing.reverse()) {
    try {
      mkdirSync(m);
    } catch (e) {
      if (codeOf(e) === 'EEXIST' && statOrUndefined(m)?.isDirectory()) continue;
      // the parent exists (made or checked just now): ENOENT here is a file system that refuses it
      if (codeOf(e) === 'ENOENT') throw new SncError(`cannot create folder ${dir}: the file system does not allow a folder at ${m}`);
      throw fsError(e, 'create folder', dir);
    }
  }
}

/** The checks before writing `path`: not a folder, its folder made. */
function prepareFile(path: string): void {
  if (statOrUndefined(path)?.isDirectory()) throw new SncError(`cannot write ${path}: it is a folder; give a file path`);
  ensureDir(dirname(path));
}

const tmpName = (path: string) => `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;

/**
 * Writes a file so that readers see either the old content or the new, never half of it:
 * write a temporary file beside the target, then rename it over.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  prepareFile(path);
  const tmp = tmpName(path);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw fsError(e, 'write', path);
  }
}

/**
 * Fails now, with one line, when `path` could not be written later: for commands that write
 * their output after minutes of work. Leaves nothing behind.
 */
export function checkWritable(path: string): void {
  prepareFile(path);
  const tmp = tmpName(path);
  try {
    writeFileSync(tmp, '');
  } catch (e) {
    throw fsError(e, 'write', path);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** checkWritable for a folder a command will write files into. */
export function checkWritableDir(dir: string): void {
  ensureDir(dir);
  const tmp = tmpName(resolve(dir, '.snc-write-check'));
  try {
    writeFileSync(tmp, '');
  } catch (e) {
    throw fsError(e, 'write into', dir);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Renames `from` over `to` (atomic on one file system), with a one-line error. */
export function replaceFile(from: string, to: string): void {
  try {
    if (statOrUndefined(to)?.isDirectory()) throw new SncError(`cannot write ${to}: it is a folder; give a file path`);
    ensureDir(dirname(to));
    renameSync(from, to);
  } catch (e) {
    throw fsError(e, 'write', to);
  }
}

/** rmSync with a one-line error. */
export function removeFile(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch (e) {
    throw fsError(e, 'remove', path);
  }
}

/**
 * writeFileAtomic for a file written piece by piece: the pieces go to a temporary file beside
 * the target, `commit` renames it over the target, `abort` removes it.
 */
export class AtomicFileWriter {
  private readonly tmp: string;
  private fd: number | undefined;
  constructor(readonly path: string) {
    prepareFile(path);
    this.tmp = tmpName(path);
    try {
      this.fd = openSync(this.tmp, 'w');
    } catch (e) {
      throw fsError(e, 'write', path);
    }
  }

  write(data: string | Uint8Array): void {
    if (this.fd === undefined) throw new Error(`AtomicFileWriter: ${this.path} is already closed`);
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    try {
      for (let off = 0; off < bytes.length; ) off += writeSync(this.fd, bytes, off, bytes.length - off);
    } catch (e) {
      this.abort();
      throw fsError(e, 'write', this.path);
    }
  }

  commit(): void {
    if (this.fd === undefined) throw new Error(`AtomicFileWriter: ${this.path} is already closed`);
    try {
      const fd = this.fd;
      this.fd = undefined;
      closeSync(fd);
      renameSync(this.tmp, this.path);
    } catch (e) {
      this.abort();
      throw fsError(e, 'write', this.path);
    }
  }

  abort(): void {
    const fd = this.fd;
    this.fd = undefined;
    try {
      if (fd !== undefined) closeSync(fd);
    } finally {
      rmSync(this.tmp, { force: true });
    }
  }
}
