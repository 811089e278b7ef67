import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const cli = join(root, 'bin/snc.js');
const tmp = mkdtempSync(join(tmpdir(), 'snc-cli-data-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));

const snc = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

test('snc data synth --json prints one JSON object; a second run into the same folder is refused', (t) => {
  const out = join(tmp, 'set');
  const r = snc('data', 'synth', '--out', out, '--images', '2', '--seed', '3', '--size', '64', '--json');
  t.is(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  t.like(j, { out, images: 2, seed: 3, size: 64 });
  t.true(j.imagesPerSecond > 0);
  t.true(existsSync(join(out, 'annotations.json')) && existsSync(join(out, 'images', '000002.jpg')));
  const again = snc('data', 'synth', '--out', out, '--images', '2', '--seed', '3', '--size', '64');
  t.is(again.status, 2);
  t.regex(again.stderr, /^snc: data synth: .* already holds a data set; choose another --out or pass --force to replace it\n$/);
});

test('snc data: bad arguments are one line and exit code 2', (t) => {
  for (const [args, re] of [
    [['data', 'nope'], /unknown subcommand 'nope'; valid subcommands are synth/],
    [['data', 'synth', '--images', '2', '--seed', '1'], /--out is required/],
    [['data', 'synth', '--out', join(tmp, 'x'), '--images', 'many', '--seed', '1'], /--images "many" is not an integer >= 1/],
    [['data', 'synth', '--out', join(tmp, 'x'), '--images', '1'], /--seed is required/],
    [['data', 'synth', '--out', join(tmp, 'x'), '--images', '1', '--seed', '1', '--colour'], /valid options are/],
  ] as [string[], RegExp][]) {
    const r = snc(...args);
    t.is(r.status, 2, args.join(' '));
    t.regex(r.stderr, re);
    t.is(r.stderr.trim().split('\n').length, 1);
  }
});
