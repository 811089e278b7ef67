import test from 'ava';
import { fmtDuration, Progress } from '../../src/util/progress.js';

function sink(isTTY: boolean) {
  const out: string[] = [];
  return { out, isTTY, write: (s: string) => out.push(s) };
}

test('off a terminal: a plain line when the stage changes and at most one per interval otherwise', (t) => {
  let now = 0;
  const s = sink(false);
  const p = new Progress(s, { intervalMs: 5000, now: () => now });
  p.update('a 1', 'a');
  now = 1000;
  p.update('a 2', 'a'); // within the interval: dropped
  now = 5000;
  p.update('a 3', 'a');
  now = 5500;
  p.update('b 1', 'b'); // stage changed: shown
  p.log('done');
  t.deepEqual(s.out, ['a 1\n', 'a 3\n', 'b 1\n', 'done\n']);
});

test('off a terminal: tick repeats the last line after a silent interval, with how long it has stood', (t) => {
  let now = 0;
  const s = sink(false);
  const p = new Progress(s, { intervalMs: 5000, now: () => now });
  p.tick(); // nothing to repeat yet
  p.update('search 1/12', 'search');
  now = 4000;
  p.tick();
  now = 12000;
  p.tick();
  now = 13000;
  p.tick();
  t.deepEqual(s.out, ['search 1/12\n', 'search 1/12 (still at it, 12 s)\n']);
});

test('on a terminal: one line rewritten in place, cleared before a log line', (t) => {
  const s = sink(true);
  const p = new Progress(s, { now: () => 0 });
  p.update('x 1');
  p.update('x 2');
  p.log('step done');
  t.deepEqual(s.out, ['\r\x1b[Kx 1', '\r\x1b[Kx 2', '\r\x1b[K', 'step done\n']);
});

test('fmtDuration', (t) => {
  t.is(fmtDuration(42.4), '42 s');
  t.is(fmtDuration(150), '2.5 min');
  t.is(fmtDuration(undefined), '?');
  t.is(fmtDuration(NaN), '?');
});
