/**
 * A search's outputs: `pareto.json` (the SearchResult) and, per device, a plot of accuracy
 * against predicted latency (`pareto-<device>.svg` and `.png`): every subnet evaluated on the
 * whole set as a dot, those ruled out from their subset score as rings at their predicted
 * accuracy, the front as a line, each evaluated subnet's 90% bootstrap interval as an error bar, the chosen subnet ringed and named, the budget as a dashed line.
 */
import { join } from 'node:path';
import { writeChart, type Chart, type Series } from '../report/scatter.js';
import { writeFileAtomic } from '../util/fs.js';
import type { SearchResult } from './search.js';
import type { BootstrapSpread } from '../eval/bootstrap.js';

export interface SearchFiles {
  json: string;
  plots: { device: string; svg: string; png: string }[];
}

/** File stem of each device's plot; a device given twice gets a suffix. */
function plotNames(devices: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return devices.map((d) => {
    const n = (seen.get(d) ?? 0) + 1;
    seen.set(d, n);
    const safe = d.replace(/[^A-Za-z0-9._-]/g, '_');
    return `pareto-${safe}${n > 1 ? `-${n}` : ''}`;
  });
}

export function searchChart(r: SearchResult, d: number): Chart {
  const dev = r.devices[d];
  const m = r.metric;
  const evaluated = r.subnets.filter((s) => s.metrics);
  const ruledOut = r.subnets.filter((s) => !s.metrics && s.predictedMetric !== null && s.status !== 'missing');
  const series: Series[] = [];
  // error bars: the 90% bootstrap interval of the metric over the images (when the search ran one)
  const bar = (s: BootstrapSpread | null | undefined) => (s ? { yLo: s[m].lo90, yHi: s[m].hi90 } : {});
  const pm = (s: BootstrapSpread | null | undefined) => (s ? ` ± ${s[m].std.toFixed(3)} (90%: ${s[m].lo90.toFixed(3)}-${s[m].hi90.toFixed(3)})` : '');
  if (ruledOut.length)
    series.push({
      name: `ruled out from ${r.data.subsetImages} images (${ruledOut.length}; ${m} predicted)`,
      color: '#aab4c0',
      hollow: true,
      radius: 3,
      points: ruledOut.map((s) => ({ x: s.predictedMs[d], y: s.predictedMetric!, label: `${s.key}: ${m} ≈ ${s.predictedMetric!.toFixed(3)} (predicted), ${s.predictedMs[d].toFixed(2)} ms` })),
    });
  series.push({
    name: `evaluated on all ${r.data.images} images (${evaluated.length})`,
    color: '#5b6b7f',
    points: evaluated.map((s) => ({ x: s.predictedMs[d], y: s.metrics![m], ...bar(s.spread), label: `${s.key}: ${m} ${s.metrics![m].toFixed(3)}${pm(s.spread)}, ${s.predictedMs[d].toFixed(2)} ms` })),
  });
  series.push({
    name: `Pareto front (${dev.front.length})`,
    color: '#d9534f',
    line: true,
    radius: 4,
    points: dev.front.map((f) => ({ x: f.predictedMs, y: f.metrics[m], ...bar(f.spread), label: `${f.key}: ${m} ${f.metrics[m].toFixed(3)}${pm(f.spread)}, ${f.predictedMs.toFixed(2)} ms` })),
  });
  const close = dev.front.filter((f) => f.gain && !f.gain.separated);
  if (close.length)
    series.push({
      name: `within the sampling error of the previous front entry (${close.length})`,
      color: '#e0a030',
      hollow: true,
      radius: 6,
      points: close.map((f) => ({ x: f.predictedMs, y: f.metrics[m], label: `${f.key}: +${f.gain!.value.toFixed(3)} over the previous entry, 90% interval ${f.gain!.lo90.toFixed(3)} to ${f.gain!.hi90.toFixed(3)}` })),
    });
  if (dev.chosen)
    series.push({
      name: `chosen within ${r.budgetMs} ms`,
      color: '#2e8b57',
      hollow: true,
      radius: 8,
      labels: true,
      points: [{ x: dev.chosen.predictedMs, y: dev.chosen.metrics[m], label: dev.chosen.key }],
    });
  return {
    title: `${r.supernet.name} on ${dev.device}: ${m} vs predicted latency`,
    xLabel: `predicted latency on ${dev.device} (ms, from ${dev.lut.file})`,
    yLabel: `${m} (${r.data.images} images${r.bootstrap ? `; bars: 90% bootstrap interval, ${r.bootstrap.samples} resamples` : ''})`,
    series,
    vLines: r.budgetMs === null ? undefined : budgetLines(r.budgetMs, dev.speedCheck?.factor),
  };
}

/** The budget on the predicted-latency axis; with a speed check, also where it falls at the measured speed. */
function budgetLines(budgetMs: number, factor: number | undefined): Chart['vLines'] {
  const lines = [{ x: budgetMs, label: `budget ${budgetMs} ms`, color: '#2e8b57' }];
  if (factor !== undefined && factor !== 1) lines.push({ x: budgetMs / factor, label: `budget at the measured speed (x ${factor.toFixed(2)})`, color: '#e0a030' });
  return lines;
}

/** Writes pareto.json and every device's plot into `outDir` (atomically, file by file). */
export async function writeSearchReport(r: SearchResult, outDir: string): Promise<SearchFiles> {
  const names = plotNames(r.devices.map((d) => d.device));
  const plots: SearchFiles['plots'] = [];
  for (let d = 0; d < r.devices.length; d++) {
    const files = await writeChart(join(outDir, names[d]), searchChart(r, d));
    plots.push({ device: r.devices[d].device, ...files });
  }
  const json = join(outDir, 'pareto.json');
  writeFileAtomic(json, JSON.stringify(r, null, 1) + '\n');
  return { json, plots };
}
