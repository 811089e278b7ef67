import test from 'ava';
import { SncError } from '../../src/errors.js';
import { parseCommand } from '../../src/cli/args.js';

/** Runs `f` with process.stdout.write captured; returns what it wrote and f's result. */
function captured<T>(f: () => T): { out: string; value: T } {
  const write = process.stdout.write;
  let out = '';
  process.stdout.write = ((chunk: string) => {
    out += chunk;
    return true;
  }) as typeof process.stdout.write;
  let value: T;
  try {
    value = f();
  } finally {
    process.stdout.write = write;
  }
  return { out, value };
}

const opts = { out: { type: 'string' as const }, json: { type: 'boolean' as const }, seed: { type: 'string' as const } };

test.serial('parseCommand: --help prints the usage (a newline added when missing) and returns null', (t) => {
  const a = captured(() => parseCommand('demo', ['--help'], opts, 'usage: snc demo --out FILE'));
  t.is(a.value, null);
  t.is(a.out, 'usage: snc demo --out FILE\n');
  // a usage built from the flags given with --help
  const b = captured(() => parseCommand('demo', ['--out', 'x.onnx', '--help'], opts, (v) => `usage for ${String(v.out)}\n`));
  t.is(b.value, null);
  t.is(b.out, 'usage for x.onnx\n');
});

test.serial('parseCommand: str() gives string flags, undefined for absent or boolean ones; bad flags name the valid ones', (t) => {
  const c = captured(() => parseCommand('demo', ['--out', 'x.onnx', '--json'], opts, 'usage'));
  t.is(c.out, '');
  t.is(c.value!.str('out'), 'x.onnx');
  t.is(c.value!.str('json'), undefined);
  t.is(c.value!.str('seed'), undefined);
  t.is(c.value!.values.json, true);
  t.throws(() => parseCommand('demo', ['--bogus'], opts, 'usage'), { instanceOf: SncError, message: /^demo: .*'--bogus'.*; valid options are .*--out.*--help/ });
});
