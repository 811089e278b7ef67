import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportSubnetToFile } from '../../src/detr/export-subnet.js';
import { loadSupernetDir } from '../../src/detr/supernet.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const cli = join(root, 'bin/snc.js');
const tmp = mkdtempSync(join(tmpdir(), 'snc-cli-measure-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));
const snc = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
const net = loadSupernetDir(join(root, 'test/fixtures/parity'));
const model = join(tmp, 'default.onnx');
exportSubnetToFile(net, net.spec.default, model);

test('measure: the median of at least --runs runs, timed for at least --min-seconds', (t) => {
  const quick = snc('measure', '--device', 'ort-cpu-1t', '--model', model, '--runs', '3', '--min-seconds', '0', '--warmup', '1', '--json');
  t.is(quick.status, 0, quick.stderr);
  const [q] = JSON.parse(quick.stdout);
  t.like(q, { model, device: 'ort-cpu-1t', runs: 3 });
  t.true(q.q1Ms <= q.medianMs && q.medianMs <= q.q3Ms);
  const long = snc('measure', '--device', 'ort-cpu-1t', '--model', model, '--runs', '3', '--min-seconds', '0.5', '--warmup', '1', '--json');
  t.is(long.status, 0, long.stderr);
  const [l] = JSON.parse(long.stdout);
  // half a second of a model that runs in a few ms is more than 3 runs
  t.true(l.runs > 3, `${l.runs} runs of ${l.medianMs} ms`);
  const text = snc('measure', '--device', 'ort-cpu-1t', '--model', model, '--runs', '3', '--min-seconds', '0');
  t.regex(text.stdout, /^.*default\.onnx on ort-cpu-1t: median \d+\.\d\d ms \(IQR \d+\.\d\d-\d+\.\d\d, spread \d+\.\d%, 3 runs\)$/m);
});

test('measure: bad arguments are one line and exit code 2', (t) => {
  for (const [args, re] of [
    [['--device', 'ort-cpu-1t'], /measure: --model is required/],
    [['--device', 'ort-cpu-1t', '--model', model, '--min-seconds', 'soon'], /measure: --min-seconds "soon" is not a number of seconds >= 0/],
    [['--device', 'ort-cpu-9t', '--model', model], /'ort-cpu-9t' is not a known device; valid devices are .*ort-cpu-1t/],
    [['--device', 'ort-cpu-1t', '--model', join(tmp, 'none.onnx')], /cannot read .*none\.onnx/],
  ] as [string[], RegExp][]) {
    const r = snc('measure', ...args);
    t.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, re);
    t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    t.is(r.stdout, '');
  }
});
