/**
 * The build report as one self-contained HTML page (inline CSS and SVG, no script, no network)
 * and as markdown, both drawn from plain data: per device its figures, the Pareto plot with the
 * chosen subnet marked and the budget, the LUT's validation plot (predicted against measured),
 * and the history of `snc check` with its baseline.
 */
import { renderSvg, type Chart, type Series } from './scatter.js';

export interface PagePoint {
  x: number;
  y: number;
  label: string;
}

export interface ParetoData {
  metric: string;
  xLabel: string;
  /** Every subnet evaluated on the whole set. */
  points: PagePoint[];
  front: PagePoint[];
  chosen: PagePoint | null;
  budgetMs: number;
}

export interface ValidationData {
  /** Named sets of (predicted, measured) pairs, e.g. the LUT's validation and the build's references. */
  sets: { name: string; points: PagePoint[] }[];
  /** One line under the plot (RMSPE, share within ±10%, ...). */
  note: string;
}

export interface CheckPoint {
  at: string;
  /** The model at the LUT's speed (ms): median and confidence interval. */
  valueMs: number;
  loMs: number;
  hiMs: number;
  verdict: string;
  mode: string;
  /** The regression limit this check was judged against (ms), when it had a baseline. */
  limitMs: number | null;
}

export interface CheckHistoryData {
  budgetMs: number;
  baselineMs: number | null;
  baselineSource: string | null;
  checks: CheckPoint[];
}

export interface DevicePage {
  name: string;
  /** Label/value rows of the figures table. */
  figures: [string, string][];
  pareto: ParetoData;
  validation: ValidationData | null;
  history: CheckHistoryData | null;
  /** The quantization table (float vs quantized model), when the device was built quantized. */
  quantization: { header: string[]; rows: string[][]; note: string } | null;
  /** Steps of the last build: name, ran or cached, seconds. */
  steps: { name: string; cached: boolean; seconds: number }[];
}

export interface BuildPage {
  title: string;
  generatedAt: string;
  /** Summary table: one row per device. */
  summary: { header: string[]; rows: string[][] };
  devices: DevicePage[];
  notes: string[];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function paretoChart(d: DevicePage): Chart {
  const p = d.pareto;
  const series: Series[] = [
    { name: `evaluated subnets (${p.points.length})`, color: '#5b6b7f', points: p.points },
    { name: `Pareto front (${p.front.length})`, color: '#d9534f', line: true, radius: 4, points: p.front },
  ];
  if (p.chosen) series.push({ name: `chosen within ${p.budgetMs} ms`, color: '#2e8b57', hollow: true, radius: 8, labels: true, points: [p.chosen] });
  return { title: `${d.name}: ${p.metric} vs predicted latency`, xLabel: p.xLabel, yLabel: p.metric, series, vLines: [{ x: p.budgetMs, label: `budget ${p.budgetMs} ms`, color: '#2e8b57' }], width: 640, height: 440 };
}

const SET_COLORS = ['#4a90d9', '#e0a030', '#8e44ad', '#16a085'];

export function validationChart(d: DevicePage): Chart | null {
  const v = d.validation;
  if (!v || !v.sets.some((s) => s.points.length)) return null;
  return {
    title: `${d.name}: LUT predicted vs measured`,
    xLabel: 'predicted (ms)',
    yLabel: 'measured (ms)',
    identity: { band: 0.1 },
    series: v.sets.filter((s) => s.points.length).map((s, i) => ({ name: s.name, color: SET_COLORS[i % SET_COLORS.length], points: s.points })),
    width: 640,
    height: 440,
  };
}

export function historyChart(d: DevicePage): Chart | null {
  const h = d.history;
  if (!h || !h.checks.length) return null;
  const n = h.checks.length;
  const xs = n > 1 ? [1, n] : [0.5, 1.5];
  const series: Series[] = [
    { name: 'budget', color: '#2e8b57', line: true, radius: 0.01, points: xs.map((x) => ({ x, y: h.budgetMs, label: `budget ${h.budgetMs} ms` })) },
  ];
  if (h.baselineMs !== null) series.push({ name: `baseline (${h.baselineSource})`, color: '#e0a030', line: true, radius: 0.01, points: xs.map((x) => ({ x, y: h.baselineMs!, label: `baseline ${h.baselineMs!.toFixed(2)} ms` })) });
  const limits = h.checks.map((c, i) => ({ x: i + 1, y: c.limitMs ?? NaN, label: `${c.at}: regression limit ${(c.limitMs ?? NaN).toFixed(2)} ms` })).filter((p) => Number.isFinite(p.y));
  if (limits.length) series.push({ name: "regression limit (the baseline's upper bound + tolerance)", color: '#d9534f', line: limits.length > 1, radius: limits.length > 1 ? 0.01 : 4, points: limits });
  const bound = (which: 'loMs' | 'hiMs', word: string) =>
    h.checks.map((c, i) => ({ x: i + 1, y: c[which], label: `${c.at}: ${word} ${c[which].toFixed(2)} ms` })).filter((p) => Number.isFinite(p.y));
  series.push({ name: 'interval low', color: '#aab4c0', hollow: true, radius: 3, points: bound('loMs', 'low') });
  series.push({ name: 'interval high', color: '#aab4c0', hollow: true, radius: 3, points: bound('hiMs', 'high') });
  series.push({ name: 'median at the LUT speed', color: '#4a90d9', line: true, radius: 4, points: h.checks.map((c, i) => ({ x: i + 1, y: c.valueMs, label: `${c.at}: ${c.valueMs.toFixed(2)} ms, ${c.verdict} (${c.mode})` })) });
  return { title: `${d.name}: snc check history`, xLabel: 'check', yLabel: 'latency at the LUT speed (ms)', series, width: 640, height: 360 };
}

function table(header: string[], rows: string[][], cls = ''): string {
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

function figure(chart: Chart | null, caption: string, cls: string): string {
  if (!chart) return `<p class="none ${cls}">${esc(caption)}: no data yet.</p>`;
  return `<figure class="${cls}">${renderSvg(chart).replace('<svg ', '<svg role="img" ')}<figcaption>${esc(caption)}</figcaption></figure>`;
}

const CSS = `body{font-family:DejaVu Sans,Arial,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:32px}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;font-size:13px}
th{background:#f3f5f7}.figs{display:flex;flex-wrap:wrap;gap:16px}figure{margin:0;max-width:660px}figcaption{font-size:12px;color:#555}
.pass{color:#2e7d32}.fail{color:#c62828}.inconclusive{color:#b26a00}.none{color:#777;font-style:italic}`;

export function renderBuildHtml(p: BuildPage): string {
  const out: string[] = [];
  out.push('<!DOCTYPE html>', '<html lang="en"><head><meta charset="utf-8">', `<title>${esc(p.title)}</title>`, `<style>${CSS}</style></head><body>`);
  out.push(`<h1>${esc(p.title)}</h1>`, `<p>Generated ${esc(p.generatedAt)}.</p>`);
  out.push(table(p.summary.header, p.summary.rows, 'summary'));
  for (const d of p.devices) {
    out.push(`<section class="device" id="device-${esc(d.name)}"><h2>${esc(d.name)}</h2>`);
    out.push(table(['figure', 'value'], d.figures, 'figures'));
    out.push('<div class="figs">');
    out.push(figure(paretoChart(d), 'Pareto front: accuracy measured on the validation set, latency predicted from the LUT; the chosen subnet ringed', 'pareto'));
    out.push(figure(validationChart(d), `LUT validation: ${d.validation?.note ?? ''}`, 'validation'));
    out.push(figure(historyChart(d), 'snc check history: the model at the LUT speed, its confidence interval, the budget, the baseline and the regression limit it was judged against', 'history'));
    out.push('</div>');
    if (d.quantization) out.push(`<h3>Quantization</h3>`, table(d.quantization.header, d.quantization.rows, 'quantization'), `<p class="note">${esc(d.quantization.note)}</p>`);
    if (d.history?.checks.length)
      out.push(
        table(
          ['check', 'mode', 'median (ms)', 'interval (ms)', 'regression limit (ms)', 'verdict'],
          d.history.checks.map((c) => [c.at, c.mode, c.valueMs.toFixed(2), `${fmt(c.loMs)} to ${fmt(c.hiMs)}`, c.limitMs === null ? '-' : c.limitMs.toFixed(2), c.verdict]),
          'history',
        ),
      );
    out.push(table(['step', 'ran', 'seconds'], d.steps.map((s) => [s.name, s.cached ? 'cached' : 'ran', s.seconds.toFixed(1)]), 'steps'));
    out.push('</section>');
  }
  if (p.notes.length) out.push(`<ul class="notes">${p.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`);
  out.push('</body></html>');
  return out.join('\n') + '\n';
}

const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : v > 0 ? '∞' : '−∞');

function mdTable(header: string[], rows: string[][]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  return [`| ${header.map(cell).join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}

export function renderBuildMarkdown(p: BuildPage): string {
  const out: string[] = [`# ${p.title}`, '', `Generated ${p.generatedAt}.`, '', mdTable(p.summary.header, p.summary.rows), ''];
  for (const d of p.devices) {
    out.push(`## ${d.name}`, '', mdTable(['figure', 'value'], d.figures), '');
    if (d.quantization) out.push('### Quantization', '', mdTable(d.quantization.header, d.quantization.rows), '', d.quantization.note, '');
    if (d.history?.checks.length) {
      const last = d.history.checks[d.history.checks.length - 1];
      out.push(`Last check (${last.at}, ${last.mode}): ${last.valueMs.toFixed(2)} ms at the LUT speed (${fmt(last.loMs)} to ${fmt(last.hiMs)}), ${last.verdict}.`, '');
    }
  }
  for (const n of p.notes) out.push(`- ${n}`);
  return out.join('\n') + '\n';
}
