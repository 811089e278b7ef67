import { join } from 'node:path';
import { loadDevice } from '../latency/device.js';
import { checkProfilable } from '../latency/kernel-profile.js';
import { buildOpLut } from '../latency/op-lut.js';
import { DEFAULT_ZOO } from '../latency/op-zoo.js';
import { checkWritable } from '../util/fs.js';
import { intOption, parseCommand, progress, progressDone, requireString } from './args.js';
import { fmtSeconds } from './profile.js';

const USAGE =
  'usage: snc lut ops --device NAME [--out FILE] [--model extra.onnx ...] [--runs 20] [--warmup 3]\n' +
  `                   [--zoo-cnn ${DEFAULT_ZOO.cnn}] [--zoo-transformer ${DEFAULT_ZOO.transformer}] [--seed 1] [--group 8] [--json]\n` +
  '  Profiles the op zoo (seeded small CNNs and transformer blocks) and any --model files with\n' +
  "  onnxruntime's per-node profiler on the device, and writes an op-level LUT (default\n" +
  '  lut/<device>/ops.json) that predicts any ONNX model: snc predict --lut FILE --model X.onnx.\n' +
  '  Devices: onnxruntime-node with the cpu provider (ort-cpu-1t, ort-cpu-2t) and ort-wasm-1t.\n';

/** snc lut ops: an op-level LUT from onnxruntime's per-node profiling of the op zoo (and extra models). */
export async function run(argv: string[]): Promise<number> {
  const cmd = parseCommand('lut ops', argv, {
    device: { type: 'string' },
    out: { type: 'string' },
    model: { type: 'string', multiple: true },
    runs: { type: 'string' },
    warmup: { type: 'string' },
    'zoo-cnn': { type: 'string' },
    'zoo-transformer': { type: 'string' },
    seed: { type: 'string' },
    group: { type: 'string' },
    json: { type: 'boolean' },
  }, USAGE);
  if (!cmd) return 0;
  const { values, positionals } = cmd;
  const device = loadDevice(requireString('lut ops', values.device, 'device', 'a device name such as ort-cpu-1t'));
  checkProfilable(device);
  const out = typeof values.out === 'string' ? values.out : join('lut', device.name, 'ops.json');
  checkWritable(out);
  const files = [...((values.model as string[] | undefined) ?? []), ...positionals];
  const lut = await buildOpLut(device, {
    out,
    files,
    runs: intOption('lut ops', values.runs, 'runs', 1),
    warmup: intOption('lut ops', values.warmup, 'warmup', 0),
    group: intOption('lut ops', values.group, 'group', 1),
    seed: intOption('lut ops', values.seed, 'seed', 0),
    zoo: {
      cnn: intOption('lut ops', values['zoo-cnn'], 'zoo-cnn', 0) ?? DEFAULT_ZOO.cnn,
      transformer: intOption('lut ops', values['zoo-transformer'], 'zoo-transformer', 0) ?? DEFAULT_ZOO.transformer,
      seed: intOption('lut ops', values.seed, 'seed', 0) ?? DEFAULT_ZOO.seed,
    },
    onProgress: (p) => progress(`lut ops ${device.name}: ${p.done}/${p.total} models, about ${fmtSeconds(p.etaSeconds)} left`),
  });
  progressDone();
  const cal = lut.calibration!;
  const warning =
    cal.rmspe > 0.15
      ? `calibration RMSPE ${(cal.rmspe * 100).toFixed(0)}% on zoo models of 1 ms or more: the machine was probably busy (other processes, or fewer free cores than the device's ${device.threads} threads); build the table again when it is idle`
      : undefined;
  const summary = {
    out,
    device: device.name,
    models: lut.models.length,
    entries: Object.keys(lut.entries).length,
    opTypes: [...new Set(Object.values(lut.entries).map((e) => e.op))].sort(),
    calibration: { a: cal.a, b: cal.b, rmspe: cal.rmspe, rmspeAll: cal.rmspeAll },
    profileSeconds: lut.profileSeconds,
    ...(warning ? { warning } : {}),
  };
  if (warning) process.stderr.write(`snc: warning: ${warning}\n`);
  if (values.json) process.stdout.write(JSON.stringify(summary) + '\n');
  else
    process.stdout.write(
      `wrote ${out}: ${summary.entries} kernel keys of ${summary.opTypes.length} op types from ${summary.models} models; ` +
        `calibration a=${cal.a.toFixed(3)} b=${cal.b.toFixed(3)} ms (RMSPE ${(cal.rmspe * 100).toFixed(1)}% on models of 1 ms or more, ${(cal.rmspeAll * 100).toFixed(1)}% on all); ` +
        `${fmtSeconds(lut.profileSeconds)} in all\n`,
    );
  return 0;
}
