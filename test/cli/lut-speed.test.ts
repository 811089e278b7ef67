import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { smallSupernet } from '../helpers/small-supernet.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const cli = join(root, 'bin/snc.js');
const tmp = mkdtempSync(join(tmpdir(), 'snc-cli-speed-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));
const snc = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
const small = smallSupernet(join(tmp, 'net'));

test('lut speed: the factor, its references and the LUT it was checked against', (t) => {
  const r = snc('lut', 'speed', '--lut', small.luts[0], '--supernet', small.dir, '--references', '2', '--runs', '4', '--min-seconds', '0', '--json');
  t.is(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  t.like(j, { lut: small.luts[0], device: 'ort-cpu-1t' });
  t.is(j.references.length, 2);
  t.true(j.factor > 0 && j.factor >= j.ratioRange[0] && j.factor <= j.ratioRange[1]);
  const text = snc('lut', 'speed', '--lut', small.luts[0], '--supernet', small.dir, '--references', '1', '--runs', '3', '--around-ms', '5');
  t.is(text.status, 0, text.stderr);
  t.regex(text.stdout, /^ort-cpu-1t: this machine runs .*'s subnets x \d+\.\d{3} \(median of 1 references; /);
  t.regex(text.stdout, /^ +\d+\.\d\d ms predicted +\d+\.\d\d ms measured \(spread \d+\.\d%\) +x \d+\.\d{3} +res=160,patch=16,/m);
});

test('lut speed: bad arguments are one line and exit code 2', (t) => {
  for (const [args, re] of [
    [['--supernet', small.dir], /lut speed: --lut is required/],
    [['--lut', small.luts[0]], /lut speed: --supernet is required/],
    [['--lut', small.luts[0], '--supernet', small.dir, '--around-ms=-3'], /--around-ms "-3" is not a number of milliseconds > 0/],
    [['--lut', small.luts[0], '--supernet', small.dir, '--references', '0'], /--references/],
    [['--lut', small.luts[0], '--supernet', small.dir, '--min-seconds', 'x'], /--min-seconds "x" is not a number of seconds >= 0/],
    [['--lut', small.luts[0], '--supernet', 'shapes-tiny'], /LUT was profiled for supernet family 'shapes-small'/],
  ] as [string[], RegExp][]) {
    const r = snc('lut', 'speed', ...args);
    t.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, re);
    t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    t.is(r.stdout, '');
  }
});
