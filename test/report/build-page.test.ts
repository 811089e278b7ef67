import test from 'ava';
import { renderBuildHtml, renderBuildMarkdown, historyChart, type BuildPage, type DevicePage } from '../../src/report/build-page.js';

const device = (name: string, checks: number): DevicePage => ({
  name,
  figures: [
    ['budget', '15.00 ms'],
    ['chosen subnet', 'res=160,patch=16 <b>'],
  ],
  pareto: {
    metric: 'AP',
    xLabel: 'predicted (ms)',
    points: [1, 2, 3, 4].map((i) => ({ x: 4 * i, y: 0.1 * i, label: `s${i}` })),
    front: [1, 2, 3, 4].map((i) => ({ x: 4 * i, y: 0.1 * i, label: `s${i}` })),
    chosen: { x: 12, y: 0.3, label: 's3' },
    budgetMs: 15,
  },
  validation: { sets: [{ name: 'validate', points: [{ x: 5, y: 5.2, label: 'a' }, { x: 10, y: 9.5, label: 'b' }] }], note: 'RMSPE 4%' },
  history: checks ? { budgetMs: 15, baselineMs: 12, baselineSource: 'base.json', checks: Array.from({ length: checks }, (_, i) => ({ at: `t${i}`, valueMs: 12 + i, loMs: i ? 11 + i : -Infinity, hiMs: 13 + i, verdict: 'pass', mode: 'measure', limitMs: i ? 14.5 + i : null })) } : null,
  quantization: checks ? { header: ['model', 'AP'], rows: [['float', '0.3000'], ['int8 u8s8', '0.2950']], note: '12 layers quantized' } : null,
  steps: [{ name: 'search', cached: true, seconds: 0 }],
});

const page: BuildPage = {
  title: 'snc build: x & y',
  generatedAt: '2026-12-01T00:00:00Z',
  summary: { header: ['device', 'budget'], rows: [['a', '15 ms'], ['b', '50 ms']] },
  devices: [device('a', 3), device('b', 0)],
  notes: ['n1'],
};

test('the HTML page is self-contained: no script, no external reference, text escaped', (t) => {
  const html = renderBuildHtml(page);
  t.regex(html, /^<!DOCTYPE html>/);
  t.notRegex(html, /<script|<link|<img|<iframe|\ssrc=|\shref=|url\(http/i);
  t.false(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '').includes('http'), 'no URL but the SVG namespace');
  t.true(html.includes('snc build: x &amp; y'));
  t.true(html.includes('res=160,patch=16 &lt;b&gt;'));
  t.is(html.match(/<section class="device"/g)!.length, 2);
  t.is(html.match(/<figure class="pareto">/g)!.length, 2);
  t.is(html.match(/<figure class="history">/g)!.length, 1, 'a device without checks gets a note instead of a plot');
  t.is(html.match(/<table class="quantization">/g)!.length, 1, 'the quantization table only for the quantized device');
  t.true(html.includes('<td>int8 u8s8</td><td>0.2950</td>'));
  t.true(html.includes('snc check history: the model at the LUT speed, its confidence interval, the budget and the baseline: no data yet.') || html.includes('no data yet'));
});

test('the history plot keeps each bound at its check, leaving out unbounded ones', (t) => {
  const c = historyChart(device('a', 3))!;
  const low = c.series.find((s) => s.name === 'interval low')!;
  t.deepEqual(low.points.map((p) => p.x), [2, 3]);
  t.deepEqual(c.series.find((s) => s.name === 'median at the LUT speed')!.points.map((p) => [p.x, p.y]), [[1, 12], [2, 13], [3, 14]]);
});

test('the history draws the regression limit each check was judged against, and the table lists it', (t) => {
  const c = historyChart(device('a', 3))!;
  const limit = c.series.find((s) => s.name.startsWith('regression limit'))!;
  t.deepEqual(limit.points.map((p) => [p.x, p.y]), [[2, 15.5], [3, 16.5]], 'the first check had no baseline');
  t.true(limit.line);
  t.is(historyChart(device('b', 1))!.series.find((s) => s.name.startsWith('regression limit')), undefined, 'no baseline, no limit');
  const html = renderBuildHtml(page);
  t.regex(html, /<th>regression limit \(ms\)<\/th>/);
  t.regex(html, /<td>t0<\/td><td>measure<\/td><td>12\.00<\/td><td>−∞ to 13\.00<\/td><td>-<\/td><td>pass<\/td>/);
  t.regex(html, /<td>t2<\/td><td>measure<\/td><td>14\.00<\/td><td>13\.00 to 15\.00<\/td><td>16\.50<\/td><td>pass<\/td>/);
});

test('markdown: the summary table, figures per device and the last check', (t) => {
  const md = renderBuildMarkdown(page);
  t.true(md.includes('| device | budget |\n|---|---|\n| a | 15 ms |\n| b | 50 ms |'));
  t.true(md.includes('## a'));
  t.true(md.includes('### Quantization\n\n| model | AP |\n|---|---|\n| float | 0.3000 |\n| int8 u8s8 | 0.2950 |\n\n12 layers quantized'));
  t.regex(md, /Last check \(t2, measure\): 14\.00 ms at the LUT speed \(13\.00 to 15\.00\), pass\./);
});
