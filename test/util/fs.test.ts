import test from 'ava';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SncError } from '../../src/errors.js';
import { AtomicFileWriter, checkWritable, checkWritableDir, ensureDir, fsError, writeFileAtomic } from '../../src/util/fs.js';

const tmp = mkdtempSync(join(tmpdir(), 'snc-fs-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));

const errno = (code: string) => Object.assign(new Error(`${code}: raw node message`), { code });

test('file-system errors become one line naming the action, the path, the reason and the code', (t) => {
  for (const [code, reason] of [
    ['EACCES', 'permission denied'],
    ['EROFS', 'the file system is read-only'],
    ['ENOSPC', 'no space left on the device'],
    ['EISDIR', 'it is a folder, not a file'],
    ['ENOTDIR', 'a part of its path is a file, not a folder'],
    ['EDQUOT', 'disk quota exceeded'],
  ]) {
    const e = fsError(errno(code), 'write', '/x/y.json');
    t.true(e instanceof SncError, code);
    t.is(e.message, `cannot write /x/y.json: ${reason} (${code})`);
  }
  const bug = new TypeError('not a file-system error');
  t.is(fsError(bug, 'write', '/x'), bug);
  const snc = new SncError('already one line');
  t.is(fsError(snc, 'write', '/x'), snc);
});

test('--out that is a folder, or below a file, is one line and leaves nothing behind', (t) => {
  const dir = join(tmp, 'a-folder');
  mkdirSync(dir);
  const file = join(tmp, 'a-file');
  writeFileSync(file, 'x');
  t.throws(() => writeFileAtomic(dir, 'data'), { instanceOf: SncError, message: `cannot write ${dir}: it is a folder; give a file path` });
  t.throws(() => checkWritable(dir), { instanceOf: SncError, message: /it is a folder/ });
  t.throws(() => new AtomicFileWriter(dir), { instanceOf: SncError, message: /it is a folder/ });
  t.throws(() => writeFileAtomic(join(file, 'sub', 'x.json'), 'data'), { instanceOf: SncError, message: `cannot create folder ${join(file, 'sub')}: ${file} is a file, not a folder` });
  t.throws(() => checkWritableDir(join(file, 'out')), { instanceOf: SncError, message: /is a file, not a folder/ });
  t.deepEqual(readdirSync(dir), []);
  t.deepEqual(readdirSync(tmp).sort(), ['a-file', 'a-folder']);
});

test('folders are made level by level; a place that refuses new folders (/proc) is one line, not a hang', (t) => {
  const deep = join(tmp, 'p', 'q', 'r');
  ensureDir(deep);
  t.true(existsSync(deep));
  ensureDir(deep); // already there
  writeFileAtomic(join(tmp, 'p', 'new', 'f.json'), '{}');
  t.true(existsSync(join(tmp, 'p', 'new', 'f.json')));
  if (!existsSync('/proc/self')) return t.pass('no /proc here');
  t.throws(() => ensureDir('/proc/snc-d/e'), { instanceOf: SncError, message: /^cannot create folder \/proc\/snc-d\/e: / });
  t.throws(() => writeFileAtomic('/proc/snc-s/pareto.json', '{}'), { instanceOf: SncError, message: /^cannot create folder \/proc\/snc-s: / });
});

test('checkWritable writes nothing; AtomicFileWriter commits whole files or none', (t) => {
  const target = join(tmp, 'w', 'out.json');
  checkWritable(target);
  t.false(existsSync(target));
  t.deepEqual(readdirSync(join(tmp, 'w')), []);
  const w = new AtomicFileWriter(target);
  w.write('[1,');
  t.false(existsSync(target));
  w.abort();
  t.deepEqual(readdirSync(join(tmp, 'w')), []);
  const w2 = new AtomicFileWriter(target);
  w2.write('[1]');
  w2.commit();
  t.deepEqual(readdirSync(join(tmp, 'w')), ['out.json']);
});
