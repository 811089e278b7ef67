/**
 * The build's reports: `<build>/<device>/report.json` (everything known of the device's build,
 * read back by snc check), and `<build>/report.md` and `<build>/report.html` for people, drawn
 * by src/report/ from plain data (with the check history when there is one).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { renderBuildHtml, renderBuildMarkdown, type BuildPage, type DevicePage } from '../report/build-page.js';
import type { SubnetConfig } from '../detr/spec.js';
import { SncError } from '../errors.js';
import type { Device } from '../latency/device.js';
import type { HostInfo } from '../latency/host.js';
import { writeFileAtomic } from '../util/fs.js';
import type { BuildResult, BuiltModel, Choice, ModelMeasurement, QuantizationSummary, StepRun } from './build.js';
import { readHistory, type HistoryEntry } from './history.js';
import type { LutSource } from './lut-source.js';

export interface DeviceReport {
  format: 'snc-build-device';
  version: 1;
  name: string;
  device: Device;
  budgetMs: number;
  precision: string;
  supernet: { name: string; dir: string; weightsSha256: string };
  data: { dir: string; images: number; hash: string };
  lut: { path: string; source: LutSource; sha256: string; host: HostInfo; runtime: string; calibrated: boolean; profileSeconds: number; skipped: string[] };
  search: { metric: string; mode: string; evaluated: { key: string; accuracy: number; predictedMs: number }[]; front: string[]; seconds: number };
  chosen: Choice;
  /** The fastest subnet of the grid on the LUT. */
  model: BuiltModel & { file: string };
  /** Devices built at int8 or nupes: what quantization did (AP before and after on the validation set). */
  quantization?: QuantizationSummary;
  measurement: ModelMeasurement | null;
  notMeasured?: string;
  /** The LUT's own validation (snc lut validate, beside the LUT file), when there is one. */
  validation: { samples: { config: string; predictedMs: number; measuredMs: number }[]; source: string } | null;
  steps: StepRun[];
  builtAt: string;
}

export interface BuildFiles {
  devices: string[];
  markdown: string;
  html: string;
}

/** The LUT validation beside a LUT file (`X.validation.json` for `X.json`) when it is of the same family. */
function lutValidation(lutPath: string, familyHash: string): DeviceReport['validation'] {
  const p = lutPath.replace(/\.json$/, '.validation.json');
  if (!existsSync(p)) return null;
  try {
    const v = JSON.parse(readFileSync(p, 'utf8'));
    if (v.lutFamilyHash !== familyHash || !Array.isArray(v.samples)) return null;
    return { samples: v.samples.map((s: { config: string; predictedMs: number; measuredMs: number }) => ({ config: s.config, predictedMs: s.predictedMs, measuredMs: s.measuredMs })), source: p };
  } catch {
    return null;
  }
}

export function deviceReports(r: BuildResult): DeviceReport[] {
  const builtAt = new Date().toISOString();
  return r.devices.map((s) => {
    const { lut } = s.lut;
    const search = s.search!;
    return {
      format: 'snc-build-device',
      version: 1,
      name: s.target.name,
      device: s.target.device,
      budgetMs: s.target.budgetMs,
      precision: s.target.precision,
      supernet: { name: r.net.spec.name, dir: r.net.dir, weightsSha256: r.net.weights.hash },
      data: { dir: r.dataDir, images: r.dataImages, hash: r.dataHash },
      lut: {
        path: s.lut.path,
        source: s.lut.source,
        sha256: s.lutSha256,
        host: lut.host,
        runtime: `${lut.runtime.runtime} ${lut.runtime.version}`,
        calibrated: !!lut.calibration,
        profileSeconds: lut.profileSeconds,
        skipped: s.lut.skipped,
      },
      search: {
        metric: search.metric,
        mode: search.mode,
        evaluated: search.evaluated.map((e) => ({ key: e.key, accuracy: e.metrics[search.metric], predictedMs: e.predictedMs })),
        front: search.front,
        seconds: search.seconds,
      },
      chosen: s.choice!,
      model: { ...s.model!, file: relative(r.cfg.out, s.model!.path) },
      ...(s.quantization ? { quantization: s.quantization } : {}),
      measurement: s.measurement ?? null,
      ...(s.notMeasured ? { notMeasured: s.notMeasured } : {}),
      validation: lutValidation(s.lut.path, lut.supernet.familyHash),
      steps: s.steps,
      builtAt,
    };
  });
}

/** Reads `<build>/<name>/report.json` (written by snc build). */
export function readDeviceReport(buildDir: string, name: string): DeviceReport {
  const p = join(buildDir, name, 'report.json');
  if (!existsSync(p)) throw new SncError(`no build of ${name} in ${buildDir} (${p} does not exist); run snc build first`);
  let rep: DeviceReport;
  try {
    rep = JSON.parse(readFileSync(p, 'utf8'));
  } catch (e) {
    throw new SncError(`${p}: not valid JSON (${(e as Error).message})`);
  }
  if (rep?.format !== 'snc-build-device' || rep.version !== 1) throw new SncError(`${p}: not an snc build report (format ${JSON.stringify(rep?.format)})`);
  return rep;
}

/** Every device report in a build folder, by folder name. */
export function readDeviceReports(buildDir: string): DeviceReport[] {
  if (!existsSync(buildDir)) return [];
  return readdirSync(buildDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(buildDir, d.name, 'report.json')))
    .map((d) => readDeviceReport(buildDir, d.name))
    .sort((a, b) => a.name.localeCompare(b.name));
}

const ms = (v: number) => `${v.toFixed(2)} ms`;
const num = (v: number | null | undefined) => (typeof v === 'number' ? v : NaN);

export function configText(c: SubnetConfig): string {
  return `res ${c.resolution}, patch ${c.patch}, ${c.windows} windows, ${c.layers} decoder layers, ${c.queries} queries`;
}

export function summaryRow(d: DeviceReport): string[] {
  const m = d.measurement;
  return [
    d.name,
    `${d.budgetMs} ms`,
    d.chosen.key,
    `${d.search.metric} ${d.chosen.metrics[d.search.metric as 'AP'].toFixed(3)}`,
    ms(d.chosen.predictedMs),
    m ? `${ms(m.measuredMs)} (x${m.factor.toFixed(2)} machine speed: ${ms(m.atLutSpeedMs)} at the LUT's)` : 'not measured',
    d.model.file,
  ];
}

export const SUMMARY_HEADER = ['device', 'budget', 'chosen subnet', 'accuracy', 'predicted', 'measured', 'model'];

export function devicePage(d: DeviceReport, history: HistoryEntry[], baseline?: { source: string; values: Record<string, number> }): DevicePage {
  const metric = d.search.metric;
  const pt = (e: { key: string; accuracy: number; predictedMs: number }) => ({ x: e.predictedMs, y: e.accuracy, label: `${e.key}: ${metric} ${e.accuracy.toFixed(3)}, ${e.predictedMs.toFixed(2)} ms` });
  const byKey = new Map(d.search.evaluated.map((e) => [e.key, e]));
  const m = d.measurement;
  const figures: [string, string][] = [
    ['device', `${d.device.name}: ${d.device.description ?? d.device.runtime}`],
    ['budget', ms(d.budgetMs)],
    ['precision', d.precision],
    ['chosen subnet', `${d.chosen.key} (${configText(d.chosen.config)})`],
    ['why', d.chosen.reason],
    [metric, d.chosen.metrics[metric as 'AP'].toFixed(4)],
    ['AP50', d.chosen.metrics.AP50.toFixed(4)],
    ['predicted latency', ms(d.chosen.predictedMs)],
    ['measured latency', m ? `${ms(m.measuredMs)} median, IQR/median ${(100 * m.spread).toFixed(1)}%` : (d.notMeasured ?? 'not measured')],
    ['machine speed at measurement', m ? `x${m.factor.toFixed(3)} the LUT's (median of ${m.references.length} reference subnets)` : '-'],
    ['at the LUT speed', m ? `${ms(m.atLutSpeedMs)} (${((100 * m.atLutSpeedMs) / d.chosen.predictedMs - 100).toFixed(1)}% from the prediction)` : '-'],
    ['headroom', m ? `${(100 - (100 * m.atLutSpeedMs) / d.budgetMs).toFixed(1)}% of the budget at the LUT speed` : `${(100 - (100 * d.chosen.predictedMs) / d.budgetMs).toFixed(1)}% predicted`],
    ['model', `${d.model.file}, ${(d.model.bytes / 1e6).toFixed(2)} MB, sha256 ${d.model.sha256.slice(0, 16)}`],
    ['LUT', `${d.lut.path} (${d.lut.source}; ${d.lut.runtime}; ${d.lut.host.cpu}, ${d.lut.host.cores} cores)`],
    ['search', `${d.search.mode}, ${d.search.evaluated.length} subnets evaluated on ${d.data.images} images, front of ${d.search.front.length}`],
  ];
  if (d.lut.skipped?.length) figures.push(['LUTs passed over', d.lut.skipped.join('; ')]);
  const q = d.quantization;
  if (q) figures.push(['quantization', `${q.precision}${q.format ? ` ${q.format}` : ''}: ${d.search.metric === 'AP50' ? `AP50 ${q.ap.ap50Float.toFixed(4)} -> ${q.ap.ap50Quantized.toFixed(4)}` : `AP ${q.ap.float.toFixed(4)} -> ${q.ap.quantized.toFixed(4)}`} on ${q.ap.images} images`]);
  const sets: { name: string; points: { x: number; y: number; label: string }[] }[] = [];
  if (d.validation) sets.push({ name: `snc lut validate (${d.validation.samples.length} subnets)`, points: d.validation.samples.map((s) => ({ x: s.predictedMs, y: s.measuredMs, label: `${s.config}: predicted ${s.predictedMs.toFixed(2)}, measured ${s.measuredMs.toFixed(2)} ms` })) });
  if (m)
    sets.push({
      name: `this build: model and references (machine x${m.factor.toFixed(2)})`,
      points: [
        ...m.references.map((r) => ({ x: r.predictedMs, y: r.measuredMs, label: `${r.key}: predicted ${r.predictedMs.toFixed(2)}, measured ${r.measuredMs.toFixed(2)} ms` })),
        { x: d.chosen.predictedMs, y: m.measuredMs, label: `built model ${d.chosen.key}: predicted ${d.chosen.predictedMs.toFixed(2)}, measured ${m.measuredMs.toFixed(2)} ms` },
      ],
    });
  const notes: string[] = [];
  if (d.validation) {
    const errs = d.validation.samples.map((s) => (s.predictedMs - s.measuredMs) / s.measuredMs);
    const rmspe = Math.sqrt(errs.reduce((a, e) => a + e * e, 0) / errs.length);
    notes.push(`RMSPE ${(100 * rmspe).toFixed(1)}%, ${errs.filter((e) => Math.abs(e) <= 0.1).length} of ${errs.length} within ±10% (${d.validation.source})`);
  }
  if (m) notes.push(`this build's measurement at x${m.factor.toFixed(2)} the LUT's speed`);
  const checks = history
    .map((h) => ({ h, dev: h.devices.find((x) => x.name === d.name) }))
    .filter((x) => x.dev)
    .map(({ h, dev }) => ({ at: h.at, mode: h.mode, valueMs: dev!.valueMs, loMs: dev!.loMs ?? -Infinity, hiMs: dev!.hiMs ?? Infinity, verdict: dev!.verdict, limitMs: num(dev!.limitMs) > 0 ? dev!.limitMs! : null }));
  const lastBaseline = [...history].reverse().find((h) => h.baseline && h.devices.some((x) => x.name === d.name && x.baselineMs !== null));
  const baselineMs = baseline?.values[d.name] ?? lastBaseline?.devices.find((x) => x.name === d.name)?.baselineMs ?? null;
  return {
    name: d.name,
    figures,
    pareto: { metric, xLabel: `predicted latency on ${d.device.name} (ms)`, points: d.search.evaluated.map(pt), front: d.search.front.map((k) => byKey.get(k)).filter((e) => e).map((e) => pt(e!)), chosen: byKey.has(d.chosen.key) ? pt(byKey.get(d.chosen.key)!) : null, budgetMs: d.budgetMs },
    validation: sets.length ? { sets, note: notes.join('; ') } : null,
    quantization: q ? quantTable(q) : null,
    history: checks.length ? { budgetMs: d.budgetMs, baselineMs: num(baselineMs) >= 0 ? baselineMs : null, baselineSource: baseline?.source ?? lastBaseline?.baseline ?? null, checks } : null,
    steps: d.steps,
  };
}

function quantTable(q: QuantizationSummary): NonNullable<DevicePage['quantization']> {
  const mb = (b: number) => `${(b / 1e6).toFixed(2)} MB`;
  const pts = (a: number, b: number) => `${(100 * (b - a) >= 0 ? '+' : '') + (100 * (b - a)).toFixed(2)} points`;
  return {
    header: ['model', 'AP', 'AP50', 'file'],
    rows: [
      ['float (model.float.onnx)', q.ap.float.toFixed(4), q.ap.ap50Float.toFixed(4), mb(q.bytes.float)],
      [`${q.precision}${q.format ? ` ${q.format}` : ''} (model.onnx)`, q.ap.quantized.toFixed(4), q.ap.ap50Quantized.toFixed(4), mb(q.bytes.quantized)],
      ['change', pts(q.ap.float, q.ap.quantized), pts(q.ap.ap50Float, q.ap.ap50Quantized), `${((100 * q.bytes.quantized) / q.bytes.float).toFixed(1)}% of the float file`],
    ],
    note: `${q.layersQuantized} layers quantized, ${q.keptFloat} kept float; ${q.perChannel ? 'per-channel' : 'per-tensor'} weights${q.ranges ? `, ${q.ranges} activation ranges` : ''}${q.formatWhy ? ` (${q.formatWhy})` : ''}; calibrated on ${q.calibrationImages} images; AP on the ${q.ap.images} validation images.`,
  };
}

export function buildPage(reports: DeviceReport[], history: HistoryEntry[], generatedAt = new Date().toISOString()): BuildPage {
  const supernet = reports[0]?.supernet.name ?? '?';
  return {
    title: `snc build: ${supernet} on ${reports.map((r) => r.name).join(', ')}`,
    generatedAt,
    summary: { header: SUMMARY_HEADER, rows: reports.map(summaryRow) },
    devices: reports.map((r) => devicePage(r, history)),
    notes: [
      'Accuracy is measured on the validation set with the supernet\'s shared weights; latency is predicted from each device\'s LUT and the built model is measured against reference subnets to divide out the machine\'s speed.',
      `snc check times each model against its budget; its history is kept in check-history.json (${history.length} checks).`,
    ],
  };
}

/** Writes report.md and report.html from every device report in the build folder and the check history. */
export function writeBuildPages(buildDir: string): { markdown: string; html: string } {
  const reports = readDeviceReports(buildDir);
  const page = buildPage(reports, readHistory(buildDir));
  const markdown = join(buildDir, 'report.md');
  const html = join(buildDir, 'report.html');
  writeFileAtomic(markdown, renderBuildMarkdown(page));
  writeFileAtomic(html, renderBuildHtml(page));
  return { markdown, html };
}

/** Writes every device's report.json, then the pages. */
export function writeBuildReports(r: BuildResult): BuildFiles {
  const reps = deviceReports(r);
  const devices = reps.map((rep) => {
    const p = join(r.cfg.out, rep.name, 'report.json');
    writeFileAtomic(p, JSON.stringify(rep, null, 1) + '\n');
    return p;
  });
  return { devices, ...writeBuildPages(r.cfg.out) };
}
