import { join } from 'node:path';
import sharp from 'sharp';
import { Problems } from '../data/problems.js';
import { EvalCache } from '../eval/cache.js';
import { mapClasses } from '../detr/postprocess.js';
import { writeSearchReport } from '../search/report.js';
import { DEFAULT_MARGIN, DEFAULT_SUBSET, SEARCH_METRICS, search, type SearchProgress, type SearchResult } from '../search/search.js';
import { loadSupernet } from '../detr/supernet.js';
import { SncError, choices } from '../errors.js';
import { readLut } from '../latency/lut.js';
import { fastestSubnet, smallestBudget } from '../search/budget.js';
import { DATA_SET_OPTIONS, readDataSet, requireDataSet, requireImagesDir } from './data-args.js';
import { DEFAULT_BOOTSTRAP_SAMPLES } from '../eval/bootstrap.js';
import { intOption, numberOption, parseCommand, progress, progressDone, requireString } from './args.js';
import { checkWritableDir } from '../util/fs.js';
import { fmtSeconds } from './profile.js';
import type { JobClientStats } from '../util/job-queue.js';
import { parseQueueUrl } from '../util/queue-url.js';
import type { EvalJobRecord } from '../eval/queue.js';

/** Group jobs in flight by default with --queue. */
const QUEUE_IN_FLIGHT = 16;

const USAGE = `usage: snc search --supernet DIR|PRESET --data DIR --lut FILE [--lut FILE ...] [--budget-ms N] [--speed-check] [--out DIR] [--json]
  The accuracy/latency Pareto front of the supernet's subnets on every LUT's device: accuracy
  measured on the validation set with onnxruntime-node (shared weights, no retraining), latency
  predicted from the LUT. Writes DIR/pareto.json and a plot per device (SVG and PNG).
  --budget-ms N        per device, choose the most accurate subnet predicted within N ms, and
                       print the snc export command for it; a budget that no subnet of the grid
                       meets on a LUT is refused before searching (exit 2, naming the fastest)
  --speed-check        after evaluating, time a few reference subnets on every LUT's device
                       that runs on this machine, and choose under the budget at the speed
                       measured (a shared machine drifts from the speed its LUT was profiled at)
  --out DIR            where to write (default out/search/<supernet>)
  --metric ap|ap50     accuracy axis: AP@[.5:.95] (default) or AP@.5
  --exhaustive         evaluate every subnet on every image (no screening, no pruning)
  --include-untrained  search subnets with knob values the weights were not trained at too
                       (an imported RF-DETR checkpoint's other patch sizes and window counts)
  --subset N           images of the screening subset (default ${DEFAULT_SUBSET})
  --margin X           smallest accuracy margin for ruling a subnet out from its subset score
                       (default ${DEFAULT_MARGIN}; the margin used also covers the predictor's observed error)
  --workers N          evaluations in parallel (default: cores - 1, at least 1), 1 thread each
  --queue URL          evaluate as jobs on a BullMQ queue in Redis (redis://HOST:PORT[/DB]), run
                       by snc worker processes on any machine holding the same supernet and data
                       (docs/scale-out.md); --workers is then the jobs in flight (default ${QUEUE_IN_FLIGHT}).
                       Exit code 3 when some group's job failed on every attempt (pareto.json
                       lists them under "missing"; the fronts are those of the other subnets)
  --top-k N            detections kept per image (default 100)
  --bootstrap N        resamples of the bootstrap over images that gives each evaluated subnet's
                       sampling error of AP and AP50 in pareto.json and the plot (default ${DEFAULT_BOOTSTRAP_SAMPLES}; 0: none)
  --no-cache           neither read nor write the evaluation cache (~/.cache/snc/evals, SNC_CACHE_DIR)
  --annotations FILE   another annotations file (with or instead of --data)
  --images DIR         another images folder
  Exit codes: 0 a choice per device (or no --budget-ms); 1 some device has no subnet within the
  budget at the speed --speed-check measured (the results are written, the reason on stderr);
  2 usage error.
`;

function progressLine(p: SearchProgress): string {
  if (p.phase === 'speed-check') return `search: speed check on ${p.device}: ${p.done}/${p.total} runs of the reference subnets`;
  const left = p.secondsLeft !== undefined ? `, ${p.phase === 'full' ? 'at most ' : ''}about ${fmtSeconds(p.secondsLeft)} left` : '';
  const what = p.phase === 'screen' ? 'screening on the subset' : 'full evaluations';
  return `search: ${what} ${p.done}/${p.total}${p.phase === 'full' && p.total > p.done ? ' (at most)' : ''}${left}`;
}

function countsLine(r: SearchResult): string {
  const c = r.counts;
  const parts = [`${c.fullEvaluations} full evaluations of ${c.groups} groups (${c.fullRun} run, ${c.fullCached} cached${c.imagesReused ? `, ${c.imagesReused} images reused from screening` : ''})`];
  if (r.mode === 'pruned') parts.push(`${c.subsetEvaluations} on a ${r.data.subsetImages}-image subset (${c.subsetRun} run, ${c.subsetCached} cached)`);
  parts.push(`${c.configs} subnets: ${c.configsEvaluated} evaluated on all ${r.data.images} images, ${c.configsRuledOut} ruled out${c.configsMissing ? `, ${c.configsMissing} missing` : ''}`);
  if (r.predictor) parts.push(`margin ${r.predictor.margin.toFixed(4)}`);
  parts.push(`${r.seconds.toFixed(1)} s`);
  return `search: ${parts.join('; ')}`;
}

export async function run(argv: string[]): Promise<number> {
  const cmd = parseCommand('search', argv, {
    supernet: { type: 'string' },
    ...DATA_SET_OPTIONS,
    lut: { type: 'string', multiple: true },
    'budget-ms': { type: 'string' },
    'speed-check': { type: 'boolean' },
    out: { type: 'string' },
    metric: { type: 'string' },
    exhaustive: { type: 'boolean' },
    'include-untrained': { type: 'boolean' },
    subset: { type: 'string' },
    margin: { type: 'string' },
    workers: { type: 'string' },
    queue: { type: 'string' },
    'top-k': { type: 'string' },
    bootstrap: { type: 'string' },
    'no-cache': { type: 'boolean' },
    json: { type: 'boolean' },
  }, USAGE);
  if (!cmd) return 0;
  const { values } = cmd;
  const { str } = cmd;
  const supernetRef = requireString('search', values.supernet, 'supernet', 'a supernet folder or a preset name');
  requireDataSet('search', values, 'the validation set: a COCO folder with annotations.json and images/');
  const lutPaths = (values.lut as string[] | undefined) ?? [];
  if (!lutPaths.length) throw new SncError('search: --lut is required (a latency LUT of this supernet from snc profile, e.g. lut/ort-cpu-2t/shapes-tiny.json); repeat it for more devices');
  const budgetMs = numberOption('search', values['budget-ms'], 'budget-ms', (n) => n > 0, 'a number of milliseconds > 0');
  const metricName = str('metric') ?? 'ap';
  const metric = SEARCH_METRICS[metricName];
  if (!metric) throw new SncError(`search: --metric '${metricName}' is not one of ${choices(Object.keys(SEARCH_METRICS))}`);
  const margin = numberOption('search', values.margin, 'margin', (n) => n >= 0 && n <= 1, 'a number from 0 to 1 (accuracy units)');
  const subset = intOption('search', values.subset, 'subset', 1);
  const target = str('queue') !== undefined ? parseQueueUrl(str('queue')!, 'search: --queue') : undefined;
  const workers = intOption('search', values.workers, 'workers', 1) ?? (target ? QUEUE_IN_FLIGHT : undefined);
  const topK = intOption('search', values['top-k'], 'top-k', 1);
  const bootstrap = intOption('search', values.bootstrap, 'bootstrap', 0);
  if (values.exhaustive && (values.subset !== undefined || values.margin !== undefined)) throw new SncError('search: --subset and --margin apply to the pruned search, not to --exhaustive');

  const luts = lutPaths.map((path) => ({ path, lut: readLut(path) }));
  const net = loadSupernet(supernetRef);
  if (budgetMs !== undefined)
    for (const { path, lut } of luts) {
      // a budget no subnet can meet is a usage error, said before minutes of evaluation
      const f = fastestSubnet(net, lut, values['include-untrained'] === true);
      if (f.predictedMs > budgetMs)
        throw new SncError(`search: --budget-ms ${budgetMs} is impossible on ${lut.device.name} (${path}): the fastest subnet, ${f.key}, is predicted at ${f.predictedMs.toFixed(2)} ms; valid: a budget of at least ${smallestBudget(f)} ms`);
    }
  const problems = new Problems();
  const ds = readDataSet(values, problems);
  requireImagesDir('search', ds);
  mapClasses(net.spec.classes, ds.categories); // fails early when no class is a category
  const outDir = str('out') ?? join('out', 'search', net.spec.name);
  checkWritableDir(outDir); // fail now, not after the evaluations
  const cache = values['no-cache'] ? null : EvalCache.default();
  cache?.checkWritable();
  sharp.cache(false);

  // the queue's evaluator is loaded only when asked for (it brings BullMQ and a Redis client)
  const queued = target
    ? new (await import('../eval/queue.js')).QueueEvaluator(target, net, ds, { topK, onNotice: (line) => (progressDone(), process.stderr.write(`search: ${line}\n`)) })
    : undefined;
  let result: SearchResult;
  try {
    result = await search({
      net,
      data: ds,
      luts,
      metric,
      budgetMs,
      exhaustive: values.exhaustive === true,
      includeUntrained: values['include-untrained'] === true,
      subset,
      margin,
      workers,
      topK,
      bootstrap,
      speedCheck: values['speed-check'] === true,
      cache,
      ...(queued ? { evaluator: queued } : {}),
      onProgress: (p) => progress(progressLine(p)),
    });
  } finally {
    progressDone();
    await queued?.close();
  }
  const files = await writeSearchReport(result, outDir);
  process.stderr.write(countsLine(result) + '\n');
  const queue = queued ? { url: queued.client.target.url, stats: queued.stats, jobs: queued.records } : undefined;
  if (queue) process.stderr.write(queueLine(queue.url, queue.stats, queue.jobs) + '\n');
  for (const m of result.missing) process.stderr.write(`search: missing: group ${m.group} (${m.phase === 'full' ? 'every image' : 'screening subset'}): ${m.reason}\n`);
  if (result.missing.length) {
    const groups = new Set(result.missing.map((m) => m.group));
    process.stderr.write(`search: incomplete: ${groups.size} of ${result.counts.groups} groups failed (${result.counts.configsMissing} subnets without metrics); the fronts are those of the other subnets; exit code 3\n`);
  }
  for (const d of result.devices) if (d.speedCheckSkipped) process.stderr.write(`search: no speed check on ${d.device}, its LUT's speed is used: ${d.speedCheckSkipped}\n`);
  const next = nextSteps(result, supernetRef);
  // every device's budget was checked against its LUT above; none fits only at the speed measured by --speed-check
  const unmet = result.budgetMs !== null ? result.devices.filter((d) => !d.chosen) : [];
  for (const d of unmet) process.stderr.write(`search: no subnet within ${result.budgetMs} ms on ${d.device}: ${d.chosenReason}\n`);
  const code = result.missing.length ? 3 : unmet.length ? 1 : 0;
  if (values.json) {
    process.stdout.write(JSON.stringify({ ...result, files, next, ...(queue ? { queue } : {}) }, null, 1) + '\n');
    return code;
  }
  const m = result.metric;
  const lines: string[] = [];
  result.devices.forEach((d, i) => {
    lines.push(`${d.device} (${d.lut.file}): front of ${d.front.length} of ${d.evaluated} evaluated subnets`);
    const pm = (f: (typeof d.front)[number]) => (f.spread ? ` ± ${f.spread[m].std.toFixed(3)}` : '');
    const gain = (f: (typeof d.front)[number]) => (f.gain ? `  (+${f.gain.value.toFixed(3)} ± ${f.gain.std.toFixed(3)}${f.gain.separated ? '' : ', within the sampling error'})` : '');
    for (const f of d.front) lines.push(`  ${f.predictedMs.toFixed(2).padStart(8)} ms  ${m} ${f.metrics[m].toFixed(3)}${pm(f)}  ${f.key}${gain(f)}${d.chosen?.key === f.key ? '  <- chosen' : ''}`);
    const sep = d.separation;
    if (sep && sep.pairs) lines.push(`  ${sep.separated} of ${sep.pairs} neighbours on the front rise by more than the sampling error (the rise's 90% interval above zero, ${sep.paired ? 'paired bootstrap' : 'spreads taken as independent'})`);
    const sc = d.speedCheck;
    if (sc) lines.push(`  speed check: this machine runs the LUT's subnets x ${sc.factor.toFixed(3)} (${sc.references.length} references, ratios ${sc.ratioRange[0].toFixed(2)}-${sc.ratioRange[1].toFixed(2)})`);
    const at = (ms: number) => (sc ? `${ms.toFixed(2)} ms predicted, ${(ms * sc.factor).toFixed(2)} ms at the measured speed` : `${ms.toFixed(2)} ms`);
    if (result.budgetMs !== null) lines.push(d.chosen ? `  within ${result.budgetMs} ms: ${d.chosen.key} (${m} ${d.chosen.metrics[m].toFixed(3)}, ${at(d.chosen.predictedMs)})` : `  within ${result.budgetMs} ms: none; ${d.chosenReason}`);
    lines.push(`  plot: ${files.plots[i].svg}, ${files.plots[i].png}`);
  });
  if (result.bootstrap) lines.push(`± : the evaluation's sampling error (std over ${result.bootstrap.samples} bootstrap resamples of the images; 90% intervals in pareto.json); (+x ± e): the rise over the previous entry and its error`);
  lines.push(`wrote ${files.json}`);
  if (next.length) lines.push('next, the chosen subnet of each device:', ...next.map((n) => `  ${n.device}: ${n.command}`));
  else if (result.budgetMs === null) lines.push('next: give --budget-ms N to choose a subnet per device (or write snc.config.json and run snc build)');
  process.stdout.write(lines.join('\n') + '\n');
  return code;
}

function queueLine(url: string, s: JobClientStats, jobs: EvalJobRecord[]): string {
  const byWorker = new Map<string, number>();
  for (const j of jobs) byWorker.set(j.worker, (byWorker.get(j.worker) ?? 0) + 1);
  const found = jobs.filter((j) => j.foundDone).length;
  return (
    `search: queue ${url}: ${s.submitted} jobs, ${s.completed} completed${found ? ` (${found} already done in Redis)` : ''}, ${s.failed} failed, ${s.retried} retried (${s.stalls} stalls), ` +
    `${s.readded} re-added after Redis lost them; by worker: ${[...byWorker].map(([w, n]) => `${w} ${n}`).join(', ') || 'none'}`
  );
}

const shellWord = (s: string) => (/^[A-Za-z0-9_./=,:@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** Per device with a choice: the exact snc export command for it. */
export function nextSteps(r: SearchResult, supernetRef: string): { device: string; config: string; command: string }[] {
  return r.devices
    .filter((d) => d.chosen)
    .map((d) => {
      const out = join('out', `${r.supernet.name}-${d.device}.onnx`);
      return { device: d.device, config: d.chosen!.key, command: ['snc', 'export', '--supernet', supernetRef, '--config', d.chosen!.key, '--out', out].map(shellWord).join(' ') };
    });
}
