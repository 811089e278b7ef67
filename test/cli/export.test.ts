import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeModel } from '../../src/onnx/reader.js';
import { f32 } from '../../src/onnx/tensor.js';
import { saveSupernetDir } from '../../src/detr/supernet.js';
import { seededWeights } from '../../src/detr/weights.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const snc = (...args: string[]) => spawnSync(process.execPath, [join(root, 'bin/snc.js'), ...args], { encoding: 'utf8' });
const fixture = join(root, 'test/fixtures/parity');

test('snc export writes the subnet asked for', (t) => {
  const out = join(mkdtempSync(join(tmpdir(), 'snc-export-')), 'm.onnx');
  const r = snc('export', '--supernet', fixture, '--config', 'res=64,patch=8,windows=2,layers=1,queries=10', '--out', out, '--json');
  t.is(r.status, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  t.is(info.config, 'res=64,patch=8,windows=2,layers=1,queries=10');
  t.is(decodeModel(readFileSync(out)).metadata['snc.config'], info.config);
});

const bad: [string, string[], RegExp][] = [
  ['a knob value outside the grid', ['--config', 'res=72'], /^snc: config: res=72 is not in the knob grid; valid values are 64, 80 or 96\n$/],
  ['a resolution not divisible by patch x windows', ['--config', 'res=80,patch=16,windows=2'], /^snc: config: res=80 is not divisible by patch x windows = 16 x 2 = 32; valid resolutions .* are 64 or 96\n$/],
  ['an unknown knob', ['--config', 'depth=3'], /^snc: config: unknown knob 'depth'; valid knobs are /],
  ['an unknown flag', ['--colour'], /^snc: export: Unknown option '--colour'; valid options are /],
  ['a supernet that does not exist', ['--supernet', '/nonexistent/net'], /^snc: supernet: '\/nonexistent\/net' is neither a folder nor a preset; give a supernet folder or one of shapes-tiny or nano\n$/],
];
for (const [what, args, re] of bad)
  test(`snc export: ${what} is one error line, exit code 2, and no file`, (t) => {
    const out = join(mkdtempSync(join(tmpdir(), 'snc-export-')), 'm.onnx');
    const base = ['export', '--supernet', fixture, '--out', out];
    // later flags win in parseArgs, so the bad value replaces the good one
    const r = snc(...base, ...args);
    t.is(r.status, 2);
    t.regex(r.stderr, re);
    t.is(r.stderr.trim().split('\n').length, 1);
    t.false(existsSync(out));
  });

test('snc export: a missing or mis-shaped tensor in the supernet folder is named, exit code 2', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'snc-net-'));
  const spec = JSON.parse(readFileSync(join(fixture, 'supernet.json'), 'utf8'));
  const w = seededWeights(spec.architecture, 1);
  w.set('decoder.layers.0.ffn.fc1.weight', f32([3, 3], new Float32Array(9)));
  saveSupernetDir(dir, spec, w);
  const out = join(dir, 'm.onnx');
  let r = snc('export', '--supernet', dir, '--out', out);
  t.is(r.status, 2);
  t.regex(r.stderr, /^snc: .*weights\.safetensors: tensor 'decoder\.layers\.0\.ffn\.fc1\.weight' has shape \[3, 3\], expected \[64, 32\]\n$/);
  w.delete('decoder.layers.0.ffn.fc1.weight');
  saveSupernetDir(dir, spec, w);
  r = snc('export', '--supernet', dir, '--out', out);
  t.is(r.status, 2);
  t.regex(r.stderr, /tensor 'decoder\.layers\.0\.ffn\.fc1\.weight' is missing \(expected float32 \[64, 32\]\)/);
  t.false(existsSync(out));
});
