import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SncError } from '../../src/errors.js';
import { readLut } from '../../src/latency/lut.js';
import { readOpLut } from '../../src/latency/op-lut.js';
import { opLutDoc } from '../helpers/op-lut-doc.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'snc-lut-schema-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));
const committed = JSON.parse(readFileSync(join(root, 'lut/ort-cpu-1t/shapes-tiny.json'), 'utf8'));

function write(name: string, doc: unknown): string {
  const path = join(tmp, name);
  writeFileSync(path, JSON.stringify(doc));
  return path;
}

test('every committed block LUT passes the check', (t) => {
  for (const d of ['ort-cpu-1t', 'ort-cpu-2t', 'ort-wasm-1t'])
    for (const s of ['shapes-tiny', 'nano']) t.notThrows(() => readLut(join(root, 'lut', d, `${s}.json`)));
});

test('block LUT: a non-numeric, null or negative median, a bad calibration or a missing header field is one line naming it', (t) => {
  const key = Object.keys(committed.entries)[0];
  const cases: [(l: any) => void, string][] = [
    [(l) => (l.entries[key].median_ms = 'fast'), `entries.${key}.median_ms is "fast"; expected a finite number >= 0`],
    [(l) => (l.entries[key].median_ms = null), `entries.${key}.median_ms is null; expected a finite number >= 0`],
    [(l) => (l.entries[key].median_ms = -3), `entries.${key}.median_ms is -3; expected a finite number >= 0`],
    [(l) => delete l.entries[key].median_ms, `entries.${key}.median_ms is missing; expected a finite number >= 0`],
    [(l) => (l.calibration.a = 'x'), 'calibration.a is "x"; expected a finite number'],
    [(l) => (l.calibration.samples = 3), 'calibration.samples is 3; expected a list'],
    [(l) => delete l.host, 'host is missing; expected an object'],
    [(l) => (l.supernet.familyHash = 7), 'supernet.familyHash is 7; expected a non-empty string'],
    [(l) => (l.device.threads = 0), 'device: threads 0 is not a positive integer'],
  ];
  cases.forEach(([mutate, message], i) => {
    const doc = structuredClone(committed);
    mutate(doc);
    const path = write(`block-${i}.json`, doc);
    t.throws(() => readLut(path), { instanceOf: SncError, message: `${path}: ${message}` });
  });
});

test('op LUT: the same checks, and keys that are not kernel shapes', (t) => {
  const ok = write('ops-ok.json', opLutDoc());
  t.notThrows(() => readOpLut(ok));
  const key = Object.keys(opLutDoc().entries)[0];
  const cases: [(l: any) => void, RegExp][] = [
    [(l) => (l.entries[key].median_us = 'fast'), /median_us is "fast"; expected a finite number >= 0$/],
    [(l) => (l.entries[key].median_us = -1), /median_us is -1; expected a finite number >= 0$/],
    [(l) => (l.calibration.b = null), /calibration\.b is null; expected a finite number$/],
    [(l) => (l.models[0].source = 'web'), /models\.0\.source is "web"; expected "zoo" or "file"$/],
    [(l) => (l.entries['Conv|in=1xAx3'] = l.entries[key]), /malformed key "Conv\|in=1xAx3"/],
    [(l) => (l.entries['Conv|in=1xAx3|out=2'] = l.entries[key]), /entry "Conv\|in=1xAx3\|out=2" has a shape that is not a list of sizes >= 0$/],
  ];
  cases.forEach(([mutate, re], i) => {
    const doc = structuredClone(opLutDoc()) as any;
    mutate(doc);
    const path = write(`ops-${i}.json`, doc);
    const e = t.throws(() => readOpLut(path), { instanceOf: SncError });
    t.regex(e!.message, re);
    t.true(e!.message.startsWith(`${path}: `), e!.message);
  });
});
