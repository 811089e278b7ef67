import test from 'ava';
import { PlainProgress } from '../../src/cli/args.js';

test('progress when stderr is not a terminal: a plain line every few seconds, none for a short command', (t) => {
  let now = 0;
  const out: string[] = [];
  const p = new PlainProgress((s) => out.push(s), 5, () => now);
  // a command that ends within 5 s prints nothing
  for (now = 0; now < 4900; now += 100) p.update(`step at ${now}`);
  t.deepEqual(out, []);
  // past 5 s: one line, then the next 5 s later, each the latest state
  for (; now <= 15_000; now += 100) p.update(`step at ${now}`);
  t.deepEqual(out, ['step at 5000\n', 'step at 10000\n', 'step at 15000\n']);
  // a new phase starts its own count
  p.done();
  now += 1000;
  p.update('next');
  t.is(out.length, 3);
});
