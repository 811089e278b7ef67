/**
 * Summarises the committed LUTs and their validations (lut/<device>/<supernet>.json and
 * .validation.json) as a markdown table: LUT build time, validation figures, and the cost of
 * measuring every subnet of the grid end to end instead (estimated from the validation's own
 * time per subnet).
 *
 *   npm run build && node dist/bench/latency-report.js [--lut-dir lut]
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { enumerateConfigs } from '../src/detr/spec.js';
import { PRESETS } from '../src/detr/presets.js';
import type { Lut } from '../src/latency/lut.js';
import type { ValidationReport } from '../src/latency/validate.js';

const { values } = parseArgs({ options: { 'lut-dir': { type: 'string', default: 'lut' } } });
const dir = values['lut-dir']!;
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const min = (s: number) => `${(s / 60).toFixed(1)} min`;
const rows: string[] = [];
rows.push('| supernet | device | LUT build (blocks + calibration) | samples | within ±10% | RMSPE | Spearman | noise floor RMSPE (max) | validation time | every subnet end to end (est.) | LUT cheaper by |');
rows.push('|---|---|---|---|---|---|---|---|---|---|---|');
for (const device of readdirSync(dir).sort()) {
  for (const f of readdirSync(join(dir, device)).filter((n) => n.endsWith('.json') && !n.includes('.validation') && n !== 'ops.json').sort()) {
    const lut: Lut = JSON.parse(readFileSync(join(dir, device, f), 'utf8'));
    const vpath = join(dir, device, f.replace(/\.json$/, '.validation.json'));
    const grid = PRESETS[lut.supernet.name] ? enumerateConfigs(PRESETS[lut.supernet.name].spec.knobs).length : NaN;
    const build = `${min(lut.profileSeconds)} (calibration ${min(lut.calibration?.seconds ?? 0)})`;
    if (!existsSync(vpath)) {
      rows.push(`| ${lut.supernet.name} | ${device} | ${build} | not validated | | | | | | | |`);
      continue;
    }
    const v: ValidationReport = JSON.parse(readFileSync(vpath, 'utf8'));
    const full = (v.measureSeconds / v.samples.length) * grid;
    rows.push(
      `| ${lut.supernet.name} | ${device} | ${build} | ${v.samples.length} | ${pct(v.within10)} | ${pct(v.rmspe)} | ${v.spearman.toFixed(4)} | ${pct(v.noiseFloor.rmspe)} (${pct(v.noiseFloor.maxDeviation)}) | ${min(v.measureSeconds)} | ${min(full)} (${grid} subnets) | ${(full / lut.profileSeconds).toFixed(1)}x |`,
    );
  }
}
console.log(rows.join('\n'));
