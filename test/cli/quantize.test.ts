import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { synthesize } from '../../src/data/synth.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const cli = join(root, 'bin/snc.js');
const tmp = mkdtempSync(join(tmpdir(), 'snc-cli-quantize-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));
const snc = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
const set = join(tmp, 'set');
const ready = synthesize({ out: set, images: 3, seed: 9, size: 96 });
const CONFIG = 'res=160,windows=1,layers=1,queries=30';
const base = (out: string) => ['quantize', '--supernet', 'shapes-tiny', '--config', CONFIG, '--calib', set, '--out', out];

/** One error line, exit code 2, nothing written. */
function bad(t: import('ava').ExecutionContext, args: string[], out: string, pattern: RegExp): void {
  const r = snc(...args);
  t.is(r.status, 2, r.stderr);
  t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  t.regex(r.stderr, pattern);
  t.false(existsSync(out));
}

test('bad input: one line, exit code 2, nothing written', async (t) => {
  await ready;
  const out = join(tmp, 'bad.onnx');
  const empty = join(tmp, 'empty');
  mkdirSync(join(empty, 'images'), { recursive: true });
  writeFileSync(join(empty, 'annotations.json'), JSON.stringify({ images: [], annotations: [], categories: [{ id: 1, name: 'circle' }] }));
  bad(t, ['quantize', '--supernet', 'shapes-tiny', '--config', CONFIG, '--calib', empty, '--out', out], out, /--calib .*empty has no images/);
  bad(t, [...base(out), '--images', '0'], out, /--images "0" is not an integer >= 1/);
  bad(t, [...base(out), '--exclude', 'NoSuchLayer'], out, /--exclude "NoSuchLayer" names no node of the model; valid are op types .*MatMul/);
  bad(t, [...base(out), '--ranges', 'kl'], out, /--ranges "kl" is not a range method; valid methods are minmax, percentile, entropy or mse/);
  bad(t, [...base(out), '--weights', 'int4'], out, /--weights "int4" is not a weight format; valid formats are int8, nupes8, nupes4 or nupes3/);
  bad(t, [...base(out), '--format', 'u8u8'], out, /--format "u8u8" is not a QDQ format; valid formats are s8s8 or u8s8/);
  bad(t, ['quantize', '--supernet', 'shapes-tiny', '--config', CONFIG, '--calib', join(tmp, 'nowhere'), '--out', out], out, /nowhere is not a folder/);
});

test('quantize writes a model, a JSON and a markdown report; snc eval --model scores it from its metadata', async (t) => {
  await ready;
  const out = join(tmp, 'q.onnx');
  const report = join(tmp, 'q-report.json');
  const r = snc(...base(out), '--images', '2', '--sqnr-images', '1', '--per-channel', '--ranges', 'percentile', '--report', report, '--data', set, '--measure', 'ort-cpu-1t', '--runs', '2', '--json');
  t.is(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  t.like(j, { calibrationImages: 2, settings: { weights: 'int8', ranges: 'percentile', format: 'u8s8', perChannel: true } });
  t.true(j.fileBytes.quantized < j.fileBytes.float);
  t.true(j.layers.length > 10 && j.layers.every((l: { outputSqnrDb: number }) => typeof l.outputSqnrDb === 'number'));
  t.is(typeof j.ap.deltaPoints, 'number');
  t.like(j.latency, { device: 'ort-cpu-1t' });
  t.true(j.latency.floatMs > 0 && j.latency.quantizedMs > 0);
  t.deepEqual(JSON.parse(readFileSync(report, 'utf8')), j);
  t.regex(readFileSync(report.replace(/\.json$/, '.md'), 'utf8'), /\| backbone\.blocks\.0\.mlp\.fc1 \| MatMul \| 7 \|/);
  // the report exists now: without --force it is kept
  bad(t, [...base(join(tmp, 'other.onnx')), '--report', report], join(tmp, 'other.onnx'), /exists; give --force/);
  const e = snc('eval', '--model', out, '--data', set, '--threads', '1', '--json');
  t.is(e.status, 0, e.stderr);
  const ej = JSON.parse(e.stdout);
  t.like(ej, { model: out, supernet: 'shapes-tiny', config: 'res=160,patch=16,windows=1,layers=1,queries=30', images: 3, quant: { weights: 'int8' } });
  t.is(ej.metrics.AP, j.ap.quantized);
});

test('snc eval --model scores an fp32 export exactly as snc eval --supernet scores the subnet', async (t) => {
  await ready;
  const out = join(tmp, 'fp32.onnx');
  t.is(snc('export', '--supernet', 'shapes-tiny', '--config', CONFIG, '--out', out).status, 0);
  const a = snc('eval', '--model', out, '--data', set, '--threads', '1', '--json');
  const b = snc('eval', '--supernet', 'shapes-tiny', '--config', CONFIG, '--data', set, '--threads', '1', '--json');
  t.is(a.status, 0, a.stderr);
  t.deepEqual(JSON.parse(a.stdout).stats, JSON.parse(b.stdout).stats);
  const c = snc('eval', '--model', out, '--supernet', 'shapes-tiny', '--data', set);
  t.is(c.status, 2);
  t.regex(c.stderr, /give one of --supernet .*, --model .* or --detections/);
});
