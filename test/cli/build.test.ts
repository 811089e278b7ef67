import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { relabelForThisHost } from '../helpers/host-lut.js';
import { smallSupernet } from '../helpers/small-supernet.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const cli = join(root, 'bin/snc.js');
const tmp = mkdtempSync(join(tmpdir(), 'snc-cli-build-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));
const env = { ...process.env, SNC_CACHE_DIR: join(tmp, 'cache') };
const snc = (cwd: string, ...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env, cwd });

const small = smallSupernet(join(tmp, 'net'));
small.luts.forEach(relabelForThisHost);
mkdirSync(join(tmp, 'val', 'images'), { recursive: true });
writeFileSync(join(tmp, 'val', 'annotations.json'), JSON.stringify({ images: [], categories: [], annotations: [] }));
const good = { supernet: small.dir, data: { validation: join(tmp, 'val') }, devices: [{ device: 'ort-cpu-1t', budgetMs: 100, options: { lut: small.luts[0] } }] };

let n = 0;
/** Runs `snc build` on a config in a fresh folder: exit code, stderr, whether a build folder appeared. */
function buildWith(doc: unknown) {
  const dir = join(tmp, `p${n++}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'snc.config.json'), typeof doc === 'string' ? doc : JSON.stringify(doc));
  const r = snc(tmp, 'build', '--config', join(dir, 'snc.config.json'));
  return { status: r.status, stderr: r.stderr, lines: r.stderr.trim().split('\n'), wrote: existsSync(join(tmp, 'build')) || existsSync(join(dir, 'build')) };
}

const BAD: [string, unknown, RegExp][] = [
  ['unknown device', { ...good, devices: [{ device: 'ort-npu', budgetMs: 10 }] }, /^snc: .*snc\.config\.json: devices\[0\]\.device 'ort-npu' is not a known device; valid devices are .*ort-cpu-1t.*$/],
  ['impossible budget', { ...good, devices: [{ device: 'ort-cpu-1t', budgetMs: 1, options: { lut: small.luts[0] } }] }, /^snc: .*: devices\[0\]\.budgetMs 1 is impossible on ort-cpu-1t: the fastest subnet, res=160,patch=16,windows=\d,layers=1,queries=30, is predicted at \d+\.\d\d ms .*valid: a budget of at least \d+(\.\d{1,2})? ms$/],
  ['missing data folder', { ...good, data: { validation: 'no-such-folder' } }, /^snc: .*: data\.validation folder no-such-folder does not exist/],
  ['a precision the device does not run', { ...good, devices: [{ device: 'ort-cpu-1t', budgetMs: 10, precision: 'int8' }] }, /^snc: .*: devices\[0\]\.precision 'int8' does not fit device ort-cpu-1t, which runs fp32 models; valid precisions on it are fp32, nupes8 or nupes4; device ort-cpu-1t-int8 runs int8 models$/],
  ['malformed JSON', '{ "supernet": "shapes-tiny", ', /^snc: .*snc\.config\.json: not valid JSON \(/],
  ['unknown key', { ...good, devices: [{ device: 'ort-cpu-1t', budgetMs: 10, budget_ms: 10 }] }, /^snc: .*: unknown key 'budget_ms' in devices\[0\]; valid keys are device, name, budgetMs, precision or options$/],
];

for (const [what, doc, re] of BAD)
  test(`build: a bad config (${what}) is one line and exit code 2, nothing written`, (t) => {
    const r = buildWith(doc);
    t.is(r.status, 2, r.stderr);
    t.is(r.lines.length, 1, r.stderr);
    t.regex(r.lines[0], re);
    t.false(r.wrote);
  });

test('check: usage errors and a missing build exit 2', (t) => {
  const dir = join(tmp, 'nobuild');
  mkdirSync(dir);
  writeFileSync(join(dir, 'snc.config.json'), JSON.stringify(good));
  const r1 = snc(dir, 'check', '--mode', 'guess');
  t.is(r1.status, 2);
  t.regex(r1.stderr, /^snc: check: --mode 'guess' is not one of measure or predict\n$/);
  const r2 = snc(dir, 'check');
  t.is(r2.status, 2);
  t.regex(r2.stderr, /no build of ort-cpu-1t in .*build.*; run snc build first\n$/);
  const r3 = snc(dir, 'check', '--baseline', join(dir, 'none.json'));
  t.is(r3.status, 2);
  t.regex(r3.stderr, /--baseline .*none\.json does not exist/);
});

test('build --schema prints the JSON Schema', (t) => {
  const r = snc(tmp, 'build', '--schema');
  t.is(r.status, 0);
  t.like(JSON.parse(r.stdout), { type: 'object', additionalProperties: false, title: 'snc.config.json' });
});
