import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fakeBuild } from '../helpers/fake-build.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const cli = join(root, 'bin/snc.js');
const tmp = mkdtempSync(join(tmpdir(), 'snc-cli-check-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));
const snc = (cwd: string, ...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd, env: { ...process.env, SNC_CACHE_DIR: join(tmp, 'cache') } });

test('check --mode predict: exit 1 over the budget, 0 within; JUnit, summary, benchmark JSON, history and report written', (t) => {
  const dir = join(tmp, 'p');
  fakeBuild(dir, { budgetMs: 12, predictedMs: 13 });
  const over = snc(dir, 'check', '--mode', 'predict', '--junit', 'junit.xml', '--summary', 'summary.md', '--json', 'bench.json');
  t.is(over.status, 1, over.stderr);
  t.regex(over.stdout, /^ort-cpu-1t: predicted at 13\.00 ms; OVER the 12 ms budget: FAIL$/m);
  t.regex(readFileSync(join(dir, 'junit.xml'), 'utf8'), /<failure message="ort-cpu-1t: predicted at 13\.00 ms; OVER the 12 ms budget: FAIL" type="budget">/);
  t.regex(readFileSync(join(dir, 'summary.md'), 'utf8'), /\| ort-cpu-1t \| 12 ms \| 13\.00 \| 13\.00 to 13\.00 \| 1 \| - \| ❌ fail \|/);
  t.like(JSON.parse(readFileSync(join(dir, 'bench.json'), 'utf8'))[0], { name: 'ort-cpu-1t latency at the LUT speed', unit: 'ms', value: 13 });
  for (const f of ['check.json', 'check-history.json', 'report.html', 'report.md']) t.true(existsSync(join(dir, 'build', f)), f);

  // the budget raised in the config: the same build passes, and the baseline is the first check
  const cfg = JSON.parse(readFileSync(join(dir, 'snc.config.json'), 'utf8'));
  cfg.devices[0].budgetMs = 15;
  writeFileSync(join(dir, 'snc.config.json'), JSON.stringify(cfg));
  const ok = snc(dir, 'check', '--mode', 'predict', '--baseline', 'bench.json');
  t.is(ok.status, 0, ok.stderr);
  t.regex(ok.stdout, /^ort-cpu-1t: predicted at 13\.00 ms; within the 15 ms budget; \+0\.0% against the baseline's 13\.00 ms, within 14\.30 ms \(\+10%\): PASS$/m);
  const history = JSON.parse(readFileSync(join(dir, 'build', 'check-history.json'), 'utf8')).entries;
  t.deepEqual(history.map((h: { verdict: string }) => h.verdict), ['fail', 'pass']);
  const limits = history.map((h: { devices: { limitMs: number | null }[] }) => h.devices[0].limitMs);
  t.is(limits[0], null, 'no baseline, no limit');
  t.true(Math.abs(limits[1] - 14.3) < 1e-9, `the limit the check was judged against: ${limits[1]}`);
  t.regex(readFileSync(join(dir, 'build', 'report.html'), 'utf8'), /<table class="history">.*<td>-<\/td><td>fail<\/td>.*<td>14\.30<\/td><td>pass<\/td>/s);
});
