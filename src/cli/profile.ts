import { join } from 'node:path';
import { SncError } from '../errors.js';
import { loadSupernet } from '../detr/supernet.js';
import { loadDevice } from '../latency/device.js';
import { partialLutPath } from '../latency/lut.js';
import { profile } from '../latency/profiler.js';
import { quantile } from '../latency/stats.js';
import { intOption, parseCommand, progress, progressDone, requireString } from './args.js';
import { parseQueueUrl } from '../util/queue-url.js';

export const fmtSeconds = (s: number) => (Number.isFinite(s) ? (s >= 90 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(0)} s`) : '?');

function spreadOption(v: unknown): number {
  if (v === undefined) return 0.1;
  const n = Number(v);
  if (!(n > 0)) throw new SncError(`profile: --max-spread ${JSON.stringify(v)} is not a positive number (IQR/median above which a block is measured again; default 0.1)`);
  return n;
}

function spanOption(v: unknown): number {
  if (v === undefined) return 1;
  const n = Number(v);
  if (!(n > 0 && n <= 1)) throw new SncError(`profile: --calibration-span ${JSON.stringify(v)} is not a number in (0, 1] (the cheaper share of the grid the calibration subnets come from; default 1)`);
  return n;
}

const USAGE =
  'usage: snc profile --device NAME --supernet DIR|PRESET [--out FILE] [--resume] [--recalibrate] [--force] [--runs 30] [--warmup 5] [--max-spread 0.1] [--group 8] [--passes 3] [--calibration 6] [--calibration-span 1] [--seed 1] [--no-drift-reference] [--queue URL] [--json]\n' +
  '  Times every distinct block of the supernet\'s knob grid on the device and writes the LUT\n' +
  '  (default lut/<device>/<supernet>.json). Until it is complete the LUT is written beside it\n  (<name>.partial.json): an existing LUT is never replaced by an unfinished one, and never\n  replaced at all without --force. --resume continues an interrupted run;\n  --recalibrate measures the whole-subnet calibration of an existing LUT again.\n' +
  '  --calibration-span 0.75 draws the calibration subnets from the cheaper 75% of the grid\n  (the fit extrapolates to the dearest; worth it where whole subnets take seconds).\n' +
  '  One block is timed in every group as well and brings each group to the profile\'s median\n  speed (a busy or throttled machine changes speed by 15-40% within minutes);\n  --no-drift-reference times the groups as they come.\n' +
  '  --queue redis://HOST:PORT[/DB] times the blocks on the machine of an snc worker --device NAME\n  (same groups, passes and calibration; the LUT records that machine; docs/scale-out.md).\n';

/** The 5th and 95th percentile of the groups' speed factors. */
function speedRange(factors: number[]): [number, number] {
  const s = [...factors].sort((a, b) => a - b);
  return s.length ? [quantile(s, 0.05), quantile(s, 0.95)] : [1, 1];
}

export async function run(argv: string[]): Promise<number> {
  const cmd = parseCommand('profile', argv, {
    device: { type: 'string' },
    supernet: { type: 'string' },
    out: { type: 'string' },
    resume: { type: 'boolean' },
    force: { type: 'boolean' },
    recalibrate: { type: 'boolean' },
    runs: { type: 'string' },
    warmup: { type: 'string' },
    'max-spread': { type: 'string' },
    group: { type: 'string' },
    passes: { type: 'string' },
    calibration: { type: 'string' },
    'calibration-span': { type: 'string' },
    seed: { type: 'string' },
    'allow-other-device': { type: 'boolean' },
    'no-drift-reference': { type: 'boolean' },
    queue: { type: 'string' },
    json: { type: 'boolean' },
  }, USAGE);
  if (!cmd) return 0;
  const { values } = cmd;
  const device = loadDevice(requireString('profile', values.device, 'device', 'a device name such as ort-cpu-1t'));
  const net = loadSupernet(requireString('profile', values.supernet, 'supernet', 'a supernet folder or a preset name'));
  const out = typeof values.out === 'string' ? values.out : join('lut', device.name, `${net.spec.name}.json`);
  const runs = intOption('profile', values.runs, 'runs', 1) ?? 30;
  const target = typeof values.queue === 'string' ? parseQueueUrl(values.queue, 'profile: --queue') : undefined;
  // BullMQ is loaded only when asked for
  const timer = target
    ? new (await import('../latency/profile-jobs.js')).QueueTimer(target, net, device, { onNotice: (line) => (progressDone(), process.stderr.write(`profile: ${line}\n`)) })
    : undefined;
  const lut = await profile(net, device, {
    ...(timer ? { timer } : {}),
    out,
    resume: values.resume === true || values.recalibrate === true,
    force: values.force === true,
    recalibrate: values.recalibrate === true,
    measure: { runs, warmup: intOption('profile', values.warmup, 'warmup', 0) ?? 5, maxSpread: spreadOption(values['max-spread']) },
    group: intOption('profile', values.group, 'group', 1),
    passes: intOption('profile', values.passes, 'passes', 1),
    calibrationSamples: intOption('profile', values.calibration, 'calibration', 0),
    calibrationSpan: spanOption(values['calibration-span']),
    seed: intOption('profile', values.seed, 'seed', 0),
    allowOtherDevice: values['allow-other-device'] === true,
    driftReference: values['no-drift-reference'] !== true,
    onProgress: (p) => progress(`profile ${device.name}: ${p.phase} ${p.done}/${p.total}, about ${fmtSeconds(p.etaSeconds)} left`),
  }).finally(() => timer?.close());
  progressDone();
  const noisy = Object.values(lut.entries).filter((e) => e.spread > lut.protocol.maxSpread).length;
  const written = lut.complete ? out : partialLutPath(out);
  const summary = {
    out: written,
    device: device.name,
    supernet: net.spec.name,
    entries: Object.keys(lut.entries).length,
    keys: lut.keys,
    complete: lut.complete,
    noisyEntries: noisy,
    calibration: lut.calibration ? { a: lut.calibration.a, b: lut.calibration.b, samples: lut.calibration.samples.length, seconds: lut.calibration.seconds } : null,
    profileSeconds: lut.profileSeconds,
    ...(lut.drift ? { drift: { reference: lut.drift.reference, groups: lut.drift.factors.length, speedRange: speedRange(lut.drift.factors) } } : {}),
  };
  if (values.json) process.stdout.write(JSON.stringify(summary) + '\n');
  else
    process.stdout.write(
      `wrote ${written}: ${summary.entries}/${summary.keys} blocks, ${noisy} above spread ${lut.protocol.maxSpread} after re-measuring, ` +
        (lut.calibration ? `calibration a=${lut.calibration.a.toFixed(3)} b=${lut.calibration.b.toFixed(3)} ms (${lut.calibration.samples.length} subnets, ${fmtSeconds(lut.calibration.seconds)}), ` : '') +
        (summary.drift ? `machine speed over ${summary.drift.groups} groups ${summary.drift.speedRange[0].toFixed(2)}-${summary.drift.speedRange[1].toFixed(2)}x its median (reference ${summary.drift.reference}), ` : '') +
        `${fmtSeconds(lut.profileSeconds)} in all\n`,
    );
  return 0;
}
