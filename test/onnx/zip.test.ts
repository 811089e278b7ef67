import test from 'ava';
import { SncError } from '../../src/errors.js';
import { ZipArchive } from '../../src/onnx/zip.js';
import { writeZip } from '../helpers/zip.js';

const entries: [string, Uint8Array][] = [
  ['a/data.pkl', Buffer.from('hello pickle')],
  ['a/data/0', new Uint8Array(new Float32Array([1, 2, 3]).buffer)],
  ['a/version', Buffer.from('3\n')],
];

function refused(t: import('ava').ExecutionContext, f: () => unknown, re: RegExp): void {
  const e = t.throws(f);
  t.true(e instanceof SncError, `${e?.name}: ${e?.message}`);
  t.regex(e!.message, re);
}

test('stored entries are views into the archive, 64-byte aligned as torch writes them', (t) => {
  const bytes = writeZip(entries);
  const zip = ZipArchive.open(bytes, 'z.zip');
  t.deepEqual([...zip.entries.keys()], entries.map(([k]) => k));
  const data = zip.read('a/data/0');
  t.is(data.buffer, bytes.buffer);
  t.is((data.byteOffset - bytes.byteOffset) % 64, 0);
  t.deepEqual(Array.from(new Float32Array(new Uint8Array(data).buffer)), [1, 2, 3]);
});

test('deflated entries and zip64 records read too', (t) => {
  for (const opts of [{ deflate: true }, { zip64: true }, { zip64: true, deflate: true }]) {
    const zip = ZipArchive.open(writeZip(entries, opts), 'z.zip');
    for (const [k, v] of entries) t.deepEqual(Buffer.from(zip.read(k)), Buffer.from(v), `${JSON.stringify(opts)} ${k}`);
  }
});

test('unsupported methods, encryption, missing entries and cut archives are named', (t) => {
  refused(t, () => ZipArchive.open(writeZip(entries, { method: 12 }), 'z.zip').read('a/version'), /^z\.zip: entry 'a\/version' uses compression method 12; supported: 0 \(stored\) and 8 \(deflate\)$/);
  refused(t, () => ZipArchive.open(writeZip(entries, { flags: 1 }), 'z.zip'), /^z\.zip: entry 'a\/data\.pkl' is encrypted$/);
  refused(t, () => ZipArchive.open(writeZip(entries), 'z.zip').read('a/nope'), /^z\.zip: zip archive has no entry 'a\/nope'$/);
  refused(t, () => ZipArchive.open(writeZip([...entries, entries[0]]), 'z.zip'), /entry 'a\/data\.pkl' appears twice/);
  const whole = writeZip(entries, { zip64: true });
  for (let n = 0; n < whole.length; n++) {
    try {
      const zip = ZipArchive.open(whole.subarray(0, n), 'z.zip');
      for (const k of zip.entries.keys()) zip.read(k);
      t.fail(`a ${n}-byte prefix read`);
    } catch (e) {
      t.true(e instanceof SncError, String(e));
    }
  }
});
