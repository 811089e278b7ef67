import { join, relative } from 'node:path';
import { loadConfig } from '../export/config.js';
import { appendHistory } from '../export/history.js';
import { writeBuildPages } from '../export/report.js';
import { readBaseline } from '../gate/baseline.js';
import { check, CHECK_MODES, type CheckMode, type CheckResult } from '../gate/check.js';
import { benchmarkJson, junitXml, markdownSummary } from '../gate/outputs.js';
import { SncError, choices } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { Progress } from '../util/progress.js';
import { parseCommand } from './args.js';

/** Exit codes of snc check. */
export const EXIT = { pass: 0, fail: 1, usage: 2, inconclusive: 3 } as const;

const USAGE = `usage: snc check [--config FILE] [--baseline FILE] [--mode measure|predict] [--junit FILE] [--summary FILE] [--json FILE] [--device NAME ...] [--strict]
  The CI latency gate: every built model (snc build) against its budget and, with --baseline,
  against an earlier check. measure (default): the model is timed interleaved with reference
  subnets whose LUT latency is known; the machine's speed factor divides out; repeats go on
  until the confidence interval of the median is on one side of the limit. predict: the built
  subnet's LUT prediction (no timing).
  --baseline FILE   an earlier check: BUILD/check.json or the --json file of snc check
  --junit FILE      JUnit XML, a test case per device
  --summary FILE    a markdown summary (e.g. $GITHUB_STEP_SUMMARY)
  --json FILE       benchmark JSON (name, unit, value, range, extra) for benchmark-tracking actions
  --strict          exit 3 when a check is inconclusive (default: a warning and exit 0)
  Exit codes: 0 pass (or inconclusive without --strict), 1 a budget broken or a regression,
  2 usage or configuration error, 3 inconclusive with --strict.
  Every check also writes BUILD/check.json, appends to BUILD/check-history.json and redraws
  BUILD/report.html.
`;

export function exitCode(r: Pick<CheckResult, 'verdict'>, strict: boolean): number {
  if (r.verdict === 'fail') return EXIT.fail;
  if (r.verdict === 'inconclusive') return strict ? EXIT.inconclusive : EXIT.pass;
  return EXIT.pass;
}

export async function run(argv: string[]): Promise<number> {
  const cmd = parseCommand('check', argv, {
    config: { type: 'string' },
    baseline: { type: 'string' },
    mode: { type: 'string' },
    junit: { type: 'string' },
    summary: { type: 'string' },
    json: { type: 'string' },
    device: { type: 'string', multiple: true },
    strict: { type: 'boolean' },
  }, USAGE);
  if (!cmd) return 0;
  const { values } = cmd;
  const mode = (values.mode ?? 'measure') as CheckMode;
  if (!CHECK_MODES.includes(mode)) throw new SncError(`check: --mode '${values.mode}' is not one of ${choices([...CHECK_MODES])}`);
  const cfg = loadConfig(values.config as string | undefined, values.device as string[] | undefined, { needData: false });
  const baseline = typeof values.baseline === 'string' ? readBaseline(values.baseline) : undefined;
  const progress = new Progress().start();
  let result: CheckResult;
  try {
    result = await check({
      cfg,
      mode,
      baseline,
      onProgress: (device, repeat, vals) => progress.update(`check ${device}: repeat ${repeat} of ${cfg.check.repeats}-${cfg.check.maxRepeats}, latest ${vals[vals.length - 1].toFixed(2)} ms at the LUT speed`, device),
    });
  } finally {
    progress.stop();
  }
  const rel = (p: string) => relative(process.cwd(), p) || p;
  writeFileAtomic(join(cfg.out, 'check.json'), JSON.stringify(result, null, 1) + '\n');
  appendHistory(cfg.out, {
    at: result.at,
    mode: result.mode,
    verdict: result.verdict,
    baseline: result.baseline,
    devices: result.devices.map((d) => ({
      name: d.name,
      budgetMs: d.budgetMs,
      valueMs: d.interval.median,
      loMs: d.interval.lo,
      hiMs: d.interval.hi,
      verdict: d.verdict,
      baselineMs: d.regression?.baselineMs ?? null,
      limitMs: d.regression ? d.regression.baselineMs * d.regression.limit : null,
    })),
  });
  const pages = writeBuildPages(cfg.out);
  if (typeof values.junit === 'string') writeFileAtomic(values.junit, junitXml(result));
  if (typeof values.summary === 'string') writeFileAtomic(values.summary, markdownSummary(result));
  if (typeof values.json === 'string') writeFileAtomic(values.json, JSON.stringify(benchmarkJson(result), null, 1) + '\n');
  const lines = result.devices.map((d) => d.message);
  if (result.verdict === 'inconclusive')
    lines.push(`warning: inconclusive: the machine was too noisy to decide within ${cfg.check.maxRepeats} repeats, or a model sits on its limit${values.strict ? ' (exit 3, --strict)' : ' (exit 0; --strict makes this exit 3)'}`);
  lines.push(`snc check: ${result.verdict.toUpperCase()} in ${result.seconds.toFixed(1)} s; ${rel(join(cfg.out, 'check.json'))}, report ${rel(pages.html)}`);
  process.stdout.write(lines.join('\n') + '\n');
  return exitCode(result, values.strict === true);
}
