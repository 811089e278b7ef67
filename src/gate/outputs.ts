/**
 * What `snc check` writes for CI: JUnit XML (a test case per device; a broken budget or a
 * regression is a failure, an inconclusive check is skipped with its reason), a markdown
 * summary fit for a CI job summary, and benchmark JSON in the form benchmark-tracking actions
 * read (github-action-benchmark's customSmallerIsBetter: name, unit, value, range, extra).
 */
import type { CheckResult } from './check.js';

export const BENCHMARK_SUFFIX = ' latency at the LUT speed';

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : v > 0 ? '∞' : '−∞');

export function junitXml(r: CheckResult): string {
  const failures = r.devices.filter((d) => d.verdict === 'fail').length;
  const skipped = r.devices.filter((d) => d.verdict === 'inconclusive').length;
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites name="snc check" tests="${r.devices.length}" failures="${failures}" skipped="${skipped}" time="${r.seconds.toFixed(3)}">`];
  out.push(`  <testsuite name="snc check (${r.mode})" tests="${r.devices.length}" failures="${failures}" skipped="${skipped}" errors="0" time="${r.seconds.toFixed(3)}" timestamp="${r.at}">`);
  for (const d of r.devices) {
    out.push(`    <testcase classname="snc.check.${xml(r.mode)}" name="${xml(d.name)}" time="${d.seconds.toFixed(3)}">`);
    if (d.verdict === 'fail') out.push(`      <failure message="${xml(d.message)}" type="${d.budgetVerdict === 'fail' ? 'budget' : 'regression'}">${xml(d.message)}\nvalues (ms at the LUT speed): ${d.values.map((v) => v.toFixed(3)).join(' ')}</failure>`);
    else if (d.verdict === 'inconclusive') out.push(`      <skipped message="${xml(`inconclusive: ${d.message}`)}"/>`);
    out.push(`      <system-out>${xml(d.message)}</system-out>`);
    out.push('    </testcase>');
  }
  out.push('  </testsuite>', '</testsuites>');
  return out.join('\n') + '\n';
}

const ICON: Record<string, string> = { pass: '✅ pass', fail: '❌ fail', inconclusive: '⚠️ inconclusive' };

export function markdownSummary(r: CheckResult): string {
  const pct = (x: number) => `${x >= 1 ? '+' : ''}${(100 * (x - 1)).toFixed(1)}%`;
  const out = [`### snc check: ${ICON[r.verdict]}`, '', `Mode ${r.mode}; ${Math.round(r.confidence * 100)}% intervals of the median over repeats; latencies at the LUT's speed (measured ÷ the machine's speed factor).`, ''];
  out.push('| device | budget | latency (ms) | interval (ms) | repeats | baseline | verdict |', '|---|---|---|---|---|---|---|');
  for (const d of r.devices) {
    const base = d.regression ? `${fmt(d.regression.baselineMs)} ms, ${pct(d.regression.ratio.median)}` : '-';
    out.push(`| ${d.name} | ${d.budgetMs} ms | ${fmt(d.interval.median)} | ${fmt(d.interval.lo)} to ${fmt(d.interval.hi)} | ${d.values.length} | ${base} | ${ICON[d.verdict]} |`);
  }
  out.push('');
  for (const d of r.devices) out.push(`- ${d.message}`);
  return out.join('\n') + '\n';
}

export interface BenchmarkEntry {
  name: string;
  unit: 'ms';
  value: number;
  range: string;
  extra: string;
}

export function benchmarkJson(r: CheckResult): BenchmarkEntry[] {
  return r.devices.map((d) => {
    const half = Math.max(d.interval.hi - d.interval.median, d.interval.median - d.interval.lo);
    return {
      name: `${d.name}${BENCHMARK_SUFFIX}`,
      unit: 'ms',
      value: +d.interval.median.toFixed(4),
      range: Number.isFinite(half) ? `± ${half.toFixed(3)}` : '± ∞',
      extra: `${d.verdict}; budget ${d.budgetMs} ms; ${Math.round(r.confidence * 100)}% interval ${fmt(d.interval.lo)}-${fmt(d.interval.hi)} ms over ${d.values.length} repeats (${r.mode}); model ${d.model.config}`,
    };
  });
}
