import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { synthesize } from '../../src/data/synth.js';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { encodeModel } from '../../src/onnx/writer.js';
import { opLutDoc } from '../helpers/op-lut-doc.js';
import { smallSupernet } from '../helpers/small-supernet.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = join(root, 'bin/snc.js');
const tmp = mkdtempSync(join(tmpdir(), 'snc-cli-robust-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));
const snc = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, SNC_CACHE_DIR: join(tmp, 'cache'), ...env }, timeout: 120_000 });
const set = join(tmp, 'set');
const ready = synthesize({ out: set, images: 2, seed: 4, size: 64 });
const small = smallSupernet(join(tmp, 'net'));
const aFile = join(tmp, 'a-file');
writeFileSync(aFile, 'x');
const aDir = join(tmp, 'a-dir');
mkdirSync(aDir);
const proc = existsSync('/proc/self');

/** Exit code 2 and one stderr line matching `re`, nothing on stdout. */
function refused(t: import('ava').ExecutionContext, args: string[], re: RegExp, env?: Record<string, string>) {
  const r = snc(args, env);
  t.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
  t.regex(r.stderr.trim(), re, args.join(" "));
  t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  t.false(r.stderr.includes('[E:onnxruntime'), r.stderr);
  t.is(r.stdout, '');
}

test('outputs that cannot be written are one line and exit code 2, before any work', async (t) => {
  await ready;
  refused(t, ['export', '--supernet', 'shapes-tiny', '--out', aDir], /^snc: cannot write .*a-dir: it is a folder; give a file path$/);
  refused(t, ['export', '--supernet', 'shapes-tiny', '--out', join(aFile, 'm.onnx')], /^snc: cannot create folder .*a-file: .*a-file is a file, not a folder$/);
  refused(t, ['data', 'synth', '--out', join(aFile, 'd'), '--images', '2', '--seed', '1'], /is a file, not a folder$/);
  refused(t, ['eval', '--supernet', 'shapes-tiny', '--data', set, '--save-detections', aDir], /^snc: cannot write .*a-dir: it is a folder/);
  refused(t, ['lut', 'ops', '--device', 'ort-cpu-1t', '--out', aDir], /^snc: cannot write .*a-dir: it is a folder/);
  refused(t, ['lut', 'validate', '--lut', small.luts[0], '--supernet', small.dir, '--out', join(aFile, 'v')], /is a file, not a folder$/);
  refused(t, ['profile', '--device', 'ort-cpu-1t', '--supernet', small.dir, '--out', aDir], /^snc: cannot write .*a-dir: it is a folder; give a file path$/);
  const search = ['search', '--supernet', small.dir, '--data', set, '--lut', small.luts[0]];
  refused(t, [...search, '--out', join(aFile, 's')], /^snc: cannot create folder .*is a file, not a folder$/);
  refused(t, [...search, '--out', join(tmp, 'search-out')], /^snc: evaluation cache: cannot create folder .*; set SNC_CACHE_DIR to a writable folder, or pass --no-cache$/, { SNC_CACHE_DIR: join(aFile, 'cache') });
  refused(t, ['info', '--supernet', 'nano'], /^snc: supernet: preset 'nano' is made in the cache on first use: .*; set SNC_CACHE_DIR to a writable folder$/, { SNC_CACHE_DIR: join(aFile, 'cache') });
  if (proc) {
    // Node's recursive mkdir loops forever under /proc; these used to hang
    refused(t, ['data', 'synth', '--out', '/proc/snc-d', '--images', '2', '--seed', '1'], /^snc: cannot create folder \/proc\/snc-d: the file system does not allow a folder at \/proc\/snc-d$/);
    refused(t, [...search, '--out', '/proc/snc-s'], /^snc: cannot create folder \/proc\/snc-s: /);
  }
  t.deepEqual(readdirSync(aDir), []);
});

test('a model onnxruntime rejects is one line naming the file, with no native log line', (t) => {
  const b = new GraphBuilder('g');
  const x = b.input('x', 'float32', [1, 4]);
  b.output(b.op('FooBar', [x], [1, 4]), 'y');
  const bad = join(tmp, 'unknown-op.onnx');
  writeFileSync(bad, encodeModel({ graph: b.build(), opset: 17, metadata: {} }));
  refused(t, ['measure', '--device', 'ort-cpu-1t', '--model', bad, '--runs', '1'], /^snc: .*unknown-op\.onnx: onnxruntime-node cannot load it on ort-cpu-1t: .*No Op registered for FooBar/);
  refused(t, ['measure', '--device', 'ort-wasm-1t', '--model', bad, '--runs', '1'], /^snc: .*unknown-op\.onnx: onnxruntime-web cannot load it on ort-wasm-1t: .*No Op registered for FooBar/);
  refused(t, ['lut', 'ops', '--device', 'ort-cpu-1t', '--model', bad, '--zoo-cnn', '0', '--zoo-transformer', '0', '--out', join(tmp, 'ops.json')], /unknown-op\.onnx: onnxruntime-node cannot load it/);
  t.false(existsSync(join(tmp, 'ops.json')));
  const ops = join(tmp, 'ops-lut.json');
  writeFileSync(ops, JSON.stringify(opLutDoc()));
  refused(t, ['predict', '--lut', ops, '--model', bad], /^snc: .*unknown-op\.onnx: onnxruntime-node cannot load it on ort-cpu-1t: .*No Op registered for FooBar/);
});

test('bad files and flags a newcomer trips on: one line naming the value and what is valid', async (t) => {
  await ready;
  // supernet.json without preprocess: refused when loaded, not a TypeError in eval or search
  const net = join(tmp, 'no-pre');
  mkdirSync(net);
  const spec = JSON.parse(readFileSync(join(small.dir, 'supernet.json'), 'utf8'));
  delete spec.preprocess;
  writeFileSync(join(net, 'supernet.json'), JSON.stringify(spec));
  refused(t, ['eval', '--supernet', net, '--data', set], /supernet\.json: preprocess is missing; expected an object with mean, std and resize$/);
  refused(t, ['search', '--supernet', net, '--data', set, '--lut', small.luts[0]], /supernet\.json: preprocess is missing/);
  // a LUT median of "fast"
  const lut = JSON.parse(readFileSync(small.luts[0], 'utf8'));
  const key = Object.keys(lut.entries)[0];
  lut.entries[key].median_ms = 'fast';
  const badLut = join(tmp, 'bad-lut.json');
  writeFileSync(badLut, JSON.stringify(lut));
  refused(t, ['predict', '--lut', badLut, '--supernet', small.dir], new RegExp(`bad-lut\\.json: entries\\.${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.median_ms is "fast"; expected a finite number >= 0$`));
  // negative numbers name the flag and the range
  refused(t, ['lut', 'validate', '--lut', small.luts[0], '--supernet', small.dir, '--samples', '-3'], /^snc: lut validate: --samples "-3" is not an integer >= 1$/);
  refused(t, ['search', '--supernet', small.dir, '--data', set, '--lut', small.luts[0], '--budget-ms', '-5'], /^snc: search: --budget-ms "-5" is not a number of milliseconds > 0$/);
  // configs
  refused(t, ['export', '--supernet', 'shapes-tiny', '--config', '', '--out', join(tmp, 'x.onnx')], /^snc: config: '' names no knob; write knob=value pairs such as res=224,patch=16,windows=2,layers=3,queries=60$/);
  refused(t, ['export', '--supernet', 'shapes-tiny', '--config', 'res=224,res=160', '--out', join(tmp, 'x.onnx')], /res is given twice/);
  // an existing validation is not replaced without --force
  const prefix = join(tmp, 'val');
  writeFileSync(`${prefix}.json`, '{}');
  refused(t, ['lut', 'validate', '--lut', small.luts[0], '--supernet', small.dir, '--out', prefix], /^snc: lut validate: .*val\.json already exists; pass --force to replace the validation, or give another --out PREFIX$/);
  t.is(readFileSync(`${prefix}.json`, 'utf8'), '{}');
});

test('every command and subcommand answers --help with its usage on stdout and exit 0, before any other check', (t) => {
  const commands = ['info', 'export', 'measure', 'profile', 'predict', 'data synth', 'eval', 'import', 'build', 'check', 'worker', 'quantize', 'search', 'lut validate', 'lut speed', 'lut ops'];
  for (const c of commands) {
    // with a flag that is required elsewhere left out: --help alone must not ask for it
    const r = snc([...c.split(' '), '--help']);
    t.is(r.status, 0, `${c}: ${r.stderr}`);
    t.regex(r.stdout, new RegExp(`^usage: snc ${c}`), c);
    t.true(r.stdout.endsWith('\n'), c);
    t.is(r.stderr, '', c);
  }
});

test('snc lut and snc lut --help list the subcommands; export --help shows a config valid for the default supernet', (t) => {
  const bare = snc(['lut']);
  t.is(bare.status, 2);
  t.regex(bare.stdout, /^usage: snc lut <subcommand>/);
  for (const s of ['validate', 'speed', 'ops']) t.regex(bare.stdout, new RegExp(`^  ${s} `, 'm'));
  const help = snc(['lut', '--help']);
  t.is(help.status, 0);
  t.is(help.stdout, bare.stdout);
  const ex = snc(['export', '--help']);
  t.is(ex.status, 0);
  const config = /--config "([^"]+)"/.exec(ex.stdout)![1];
  t.is(config, 'res=224,patch=16,windows=2,layers=3,queries=60');
  const r = snc(['info', '--supernet', 'shapes-tiny', '--config', config]);
  t.is(r.status, 0, r.stderr);
});
