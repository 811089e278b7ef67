import { join, dirname, basename } from 'node:path';
import { SncError, choices } from '../errors.js';
import { loadSupernet } from '../detr/supernet.js';
import { loadDevice } from '../latency/device.js';
import { checkLutUse, readLut } from '../latency/lut.js';
import { validateLut } from '../latency/validate.js';
import { writeChart } from '../report/scatter.js';
import { existsSync } from 'node:fs';
import { checkWritable, writeFileAtomic } from '../util/fs.js';
import { intOption, parseCommand, progress, progressDone, requireString } from './args.js';
import { fmtSeconds } from './profile.js';

async function validate(argv: string[]): Promise<number> {
  const cmd = parseCommand('lut validate', argv, {
    lut: { type: 'string' },
    supernet: { type: 'string' },
    samples: { type: 'string' },
    seed: { type: 'string' },
    runs: { type: 'string' },
    warmup: { type: 'string' },
    group: { type: 'string' },
    passes: { type: 'string' },
    out: { type: 'string' },
    force: { type: 'boolean' },
    'allow-other-device': { type: 'boolean' },
    json: { type: 'boolean' },
  }, USAGE);
  if (!cmd) return 0;
  const { values } = cmd;
  const lutPath = requireString('lut validate', values.lut, 'lut', 'a LUT file written by snc profile');
  const samples = intOption('lut validate', values.samples, 'samples', 1) ?? 50;
  const seed = intOption('lut validate', values.seed, 'seed', 0) ?? 1;
  const measure = { runs: intOption('lut validate', values.runs, 'runs', 1) ?? 30, warmup: intOption('lut validate', values.warmup, 'warmup', 0) ?? 5 };
  const group = intOption('lut validate', values.group, 'group', 1);
  const passes = intOption('lut validate', values.passes, 'passes', 1);
  const lut = readLut(lutPath);
  const net = loadSupernet(requireString('lut validate', values.supernet, 'supernet', 'a supernet folder or a preset name'));
  const device = loadDevice(lut.device.name);
  checkLutUse(lut, lutPath, { spec: net.spec, device, allowOtherDevice: values['allow-other-device'] === true });
  const prefix = typeof values.out === 'string' ? values.out : join(dirname(lutPath), `${basename(lutPath, '.json')}.validation`);
  const outputs = ['json', 'svg', 'png'].map((x) => `${prefix}.${x}`);
  const kept = outputs.find((f) => existsSync(f));
  if (kept && values.force !== true) throw new SncError(`lut validate: ${kept} already exists; pass --force to replace the validation, or give another --out PREFIX`);
  for (const f of outputs) checkWritable(f); // before minutes of measuring
  const report = await validateLut(net, device, lut, {
    samples,
    seed,
    measure,
    group,
    passes,
    onProgress: (d, t, eta) => progress(`validate ${device.name}: ${d}/${t} subnets measured, about ${fmtSeconds(eta)} left`),
  });
  progressDone();
  writeFileAtomic(`${prefix}.json`, JSON.stringify(report, null, 1) + '\n');
  await writeChart(prefix, {
    title: `${net.spec.name} on ${device.name}: predicted vs measured (${report.samples.length} subnets)`,
    xLabel: 'measured latency (ms, median)',
    yLabel: 'predicted latency (ms)',
    identity: { band: 0.1 },
    series: [{ name: `subnets (±10% band shaded), Spearman ${report.spearman.toFixed(3)}`, color: '#d9534f', points: report.samples.map((s) => ({ x: s.measuredMs, y: s.predictedMs, label: `${s.config}: ${s.errorPct.toFixed(1)}%` })) }],
  });
  const summary = {
    device: device.name,
    supernet: net.spec.name,
    samples: report.samples.length,
    rmspe: report.rmspe,
    within10: report.within10,
    spearman: report.spearman,
    ...(report.atLutSpeed ? { atLutSpeed: report.atLutSpeed } : {}),
    noiseFloorRmspe: report.noiseFloor.rmspe,
    noiseFloorMaxDeviation: report.noiseFloor.maxDeviation,
    measureSeconds: report.measureSeconds,
    report: `${prefix}.json`,
    plot: [`${prefix}.svg`, `${prefix}.png`],
  };
  const shared = report.sharedFactor;
  const hint = shared
    ? `the errors share one factor: this machine runs the LUT's subnets x ${shared.factor.toFixed(3)} ` +
      `(times it, RMSPE ${(shared.rmspe * 100).toFixed(2)}%, within ±10% ${(shared.within10 * 100).toFixed(1)}%): the LUT ranks the subnets right ` +
      `but was profiled on a faster or slower machine, or this one is busy; check its speed now with snc lut speed --lut ${lutPath} --supernet ${values.supernet}, or profile this machine`
    : undefined;
  if (values.json) process.stdout.write(JSON.stringify({ ...summary, ...(shared ? { sharedFactor: shared, hint } : {}) }) + '\n');
  else
    process.stdout.write(
      `${net.spec.name} on ${device.name}, ${summary.samples} subnets: RMSPE ${(summary.rmspe * 100).toFixed(2)}%, ` +
        `within ±10% ${(summary.within10 * 100).toFixed(1)}%, Spearman ${summary.spearman.toFixed(4)}; ` +
        (report.atLutSpeed
          ? `at the LUT's speed (each group by its reference blocks; machine x${report.atLutSpeed.factor.toFixed(3)}) RMSPE ${(report.atLutSpeed.rmspe * 100).toFixed(2)}%, within ±10% ${(report.atLutSpeed.within10 * 100).toFixed(1)}%; `
          : '') +
        `noise floor (same model, ${report.noiseFloor.medians.length} groups) RMSPE ${(summary.noiseFloorRmspe * 100).toFixed(2)}%, ` +
        `max ${(summary.noiseFloorMaxDeviation * 100).toFixed(1)}%; measured in ${fmtSeconds(summary.measureSeconds)}\n  wrote ${summary.report}, ${summary.plot.join(', ')}\n` +
        (hint ? `  ${hint}\n` : ''),
    );
  return 0;
}

const SUB: Record<string, (argv: string[]) => Promise<number>> = {
  validate,
  ops: async (argv) => (await import('./lut-ops.js')).run(argv),
  speed: async (argv) => (await import('./lut-speed.js')).run(argv),
};

const SUMMARY: Record<string, string> = {
  validate: 'predicted vs measured latency of sampled subnets: RMSPE, share within ±10%, Spearman, a plot',
  speed: "this machine's speed now against a LUT (the factor its predictions are off by)",
  ops: 'an op-level LUT for any ONNX model, from onnxruntime per-node profiling',
};

function usage(): string {
  const names = Object.keys(SUB);
  const w = Math.max(...names.map((k) => k.length));
  return ['usage: snc lut <subcommand> [options]', '', 'subcommands:', ...names.map((k) => `  ${k.padEnd(w)}  ${SUMMARY[k] ?? ''}`), '', 'snc lut <subcommand> --help shows its options.', ''].join('\n');
}

const USAGE = 'usage: snc lut validate --lut FILE --supernet DIR|PRESET [--samples 50] [--seed 1] [--runs 30] [--group 8] [--passes 3] [--out PREFIX] [--force] [--json]\n  Writes PREFIX.json, .svg and .png (default beside the LUT: <lut>.validation.*); existing ones only with --force.\n';

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(usage());
    return sub === undefined ? 2 : 0;
  }
  const f = SUB[sub];
  if (!f) throw new SncError(`lut: unknown subcommand ${JSON.stringify(sub ?? '')}; valid subcommands are ${choices(Object.keys(SUB))}`);
  return f(rest);
}

export function registerLutSubcommand(name: string, f: (argv: string[]) => Promise<number>): void {
  SUB[name] = f;
}
