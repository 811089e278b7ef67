import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { synthesize } from '../../src/data/synth.js';
import { smallSupernet } from '../helpers/small-supernet.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const cli = join(root, 'bin/snc.js');
const tmp = mkdtempSync(join(tmpdir(), 'snc-cli-search-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));

const env = { ...process.env, SNC_CACHE_DIR: join(tmp, 'cache') };
const snc = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env });
const set = join(tmp, 'set');
const ready = synthesize({ out: set, images: 8, seed: 5, size: 96 });
const small = smallSupernet(join(tmp, 'net'));

test('search: front per device, choice under the budget, pareto.json and plots; a re-run evaluates nothing', async (t) => {
  await ready;
  const out = join(tmp, 'out');
  const args = ['search', '--supernet', small.dir, '--data', set, '--lut', small.luts[0], '--lut', small.luts[1], '--budget-ms', '50', '--out', out, '--subset', '3', '--workers', '1', '--top-k', '20'];
  const r = snc(...args, '--json');
  t.is(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  t.like(j, { format: 'snc-pareto', metric: 'AP', mode: 'pruned', budgetMs: 50, counts: { configs: 8, groups: 2, subsetRun: 2 } });
  t.deepEqual(j.devices.map((d: { device: string }) => d.device), ['ort-cpu-1t', 'ort-cpu-2t']);
  for (const d of j.devices) {
    t.true(d.front.length >= 1);
    t.truthy(d.chosen);
    t.true(d.chosen.predictedMs <= 50);
    t.is(d.lut.file, small.luts[j.devices.indexOf(d)]);
  }
  for (const f of ['pareto.json', 'pareto-ort-cpu-1t.svg', 'pareto-ort-cpu-1t.png', 'pareto-ort-cpu-2t.svg', 'pareto-ort-cpu-2t.png']) t.true(existsSync(join(out, f)), f);
  t.deepEqual(JSON.parse(readFileSync(join(out, 'pareto.json'), 'utf8')).devices, j.devices);
  // the bootstrap (200 resamples by default): each front entry's rise over the previous one, paired over the same resampled images
  for (const d of j.devices) {
    t.is(d.front[0].gain, null);
    for (const f of d.front.slice(1)) t.like(f.gain, { paired: true, separated: f.gain.lo90 > 0 });
    t.like(d.separation, { pairs: d.front.length - 1, paired: true });
    t.true(d.front.every((f: { spread: { resamples?: unknown } }) => f.spread && f.spread.resamples === undefined), 'pareto.json keeps the spreads, not the resamples');
  }
  t.true(j.subnets.every((s: { spread: { resamples?: unknown } | null }) => !s.spread?.resamples));
  // what to do next: the exact export command of each device's choice
  t.deepEqual(
    j.next.map((n: { device: string; config: string; command: string }) => n.command),
    j.devices.map((d: { device: string; chosen: { key: string } }) => `snc export --supernet ${small.dir} --config ${d.chosen.key} --out out/shapes-small-${d.device}.onnx`),
  );
  const line = /^search: \d+ full evaluations of 2 groups \((\d+) run, 0 cached, (\d+) images reused from screening\); 2 on a 3-image subset \(2 run, 0 cached\); 8 subnets: /m.exec(r.stderr);
  t.truthy(line, r.stderr);
  // each full evaluation scores its group's 3 screened images from the screening run
  t.is(Number(line![2]), 3 * Number(line![1]));
  t.is(j.counts.imagesReused, 3 * j.counts.fullRun);

  const again = snc(...args);
  t.is(again.status, 0, again.stderr);
  t.regex(again.stdout, /^next, the chosen subnet of each device:\n {2}ort-cpu-1t: snc export --supernet \S+ --config res=160,\S+ --out out\/shapes-small-ort-cpu-1t\.onnx\n {2}ort-cpu-2t: snc export /m);
  t.regex(again.stderr, /\(0 run, \d+ cached\); 2 on a 3-image subset \(0 run, 2 cached\)/);
  t.regex(again.stdout, /^ort-cpu-1t \(.*\): front of \d+ of \d+ evaluated subnets$/m);
  if (j.devices[0].front.length > 1) {
    t.regex(again.stdout, /^ {2}\d+ of \d+ neighbours on the front rise by more than the sampling error \(the rise's 90% interval above zero, paired bootstrap\)$/m, 'the resamples came back from the cache');
    t.regex(again.stdout, / {2}\(\+\d\.\d{3} ± \d\.\d{3}(, within the sampling error)?\)/);
  }
  t.regex(again.stdout, /^ {2}within 50 ms: res=160,patch=16,\S+ \(AP \d\.\d{3}, \d+\.\d\d ms\)$/m);
  t.regex(again.stdout, /^wrote .*pareto\.json$/m);

  // with a speed check: still no evaluation, and the choice at the speed measured now. On a
  // loaded machine the measured speed can put every subnet over the budget: then exit code 1 and
  // the reason, which is the outcome the measured factor calls for
  const checked = snc(...args, '--speed-check');
  t.log(`with --speed-check: exit code ${checked.status}`);
  t.regex(checked.stderr, /\(0 run, \d+ cached\)/);
  t.regex(checked.stdout, /^ {2}speed check: this machine runs the LUT's subnets x \d+\.\d{3} \(6 references, ratios \d+\.\d\d-\d+\.\d\d\)$/m);
  if (checked.status === 0) {
    t.regex(checked.stdout, /^ {2}within 50 ms: res=160,patch=16,\S+ \(AP \d\.\d{3}, \d+\.\d\d ms predicted, \d+\.\d\d ms at the measured speed\)$/m);
  } else {
    t.is(checked.status, 1, checked.stderr);
    const reason = /^search: no subnet within 50 ms on ort-cpu-[12]t: no subnet is predicted within 50 ms on ort-cpu-[12]t at this machine's measured speed \(LUT predictions x (\d+\.\d{3}), from 6 reference subnets\); the fastest, res=160,patch=16,\S+, is predicted at (\d+\.\d\d) ms$/m.exec(checked.stderr);
    t.truthy(reason, checked.stderr);
    t.true(Number(reason![1]) > 1 && Number(reason![2]) > 50, reason![0]);
    t.regex(checked.stdout, /^wrote .*pareto\.json$/m, 'the results are written all the same');
  }

});

test('search: bad arguments are one line and exit code 2', async (t) => {
  await ready;
  const base = ['search', '--supernet', small.dir, '--data', set];
  for (const [args, re] of [
    [[...base, '--lut', join(tmp, 'none.json')], /none\.json does not exist \(make one with snc profile\)/],
    [[...base], /--lut is required/],
    [['search', '--supernet', small.dir, '--lut', small.luts[0]], /--data is required/],
    [[...base, '--lut', small.luts[0], '--budget-ms', 'abc'], /--budget-ms "abc" is not a number of milliseconds > 0/],
    [[...base, '--lut', small.luts[0], '--budget-ms', '0'], /--budget-ms "0" is not a number of milliseconds > 0/],
    [[...base, '--lut', small.luts[0], '--budget-ms', '1'], /--budget-ms 1 is impossible on ort-cpu-1t \(.*\): the fastest subnet, res=160,patch=16,windows=\d,layers=1,queries=30, is predicted at \d+\.\d\d ms; valid: a budget of at least/],
    [[...base, '--lut', small.luts[0], '--metric', 'map'], /--metric 'map' is not one of ap or ap50/],
    [[...base, '--lut', small.luts[0], '--workers', '0'], /--workers "0" is not an integer >= 1/],
    [[...base, '--lut', small.luts[0], '--margin', '2'], /--margin "2" is not a number from 0 to 1/],
    [[...base, '--lut', small.luts[0], '--exhaustive', '--subset', '5'], /--subset and --margin apply to the pruned search/],
    [[...base, '--lut', join(root, 'lut/ort-cpu-2t/shapes-tiny.json')], /LUT was profiled for supernet family 'shapes-tiny'/],
    [[...base, '--lut', small.luts[0], '--bogus'], /Unknown option '--bogus'.*valid options are/],
  ] as [string[], RegExp][]) {
    const r = snc(...args);
    t.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, re);
    t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});
