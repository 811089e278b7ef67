import { readFileSync } from 'node:fs';
import { configKey, enumerateConfigs, parseConfig, validateConfig } from '../detr/spec.js';
import { loadSupernet } from '../detr/supernet.js';
import { SncError } from '../errors.js';
import { loadDevice } from '../latency/device.js';
import { hostDifferences, hostInfo } from '../latency/host.js';
import { checkLutUse, readLut } from '../latency/lut.js';
import { checkOpLutUse, lutKind, OpPredictor, predictModel, readOpLut } from '../latency/op-lut.js';
import { LatencyPredictor } from '../latency/predictor.js';
import { parseCommand, requireString, type Parsed } from './args.js';

const USAGE =
  'usage: snc predict --lut FILE --supernet DIR|PRESET [--config "res=..,..."] [--all] [--json]\n' +
  '       snc predict --lut OPS.json --model X.onnx [--model Y.onnx ...] [--kernels] [--json]\n' +
  '  With a block LUT (snc profile): a subnet of that supernet; --all predicts every config of the grid.\n' +
  '  With an op-level LUT (snc lut ops): any ONNX model. Its kernels are found by one profiled\n' +
  '  onnxruntime-node run on this machine (whose timings are discarded) and looked up in the table;\n' +
  '  --kernels lists every kernel with its time and how it was found.\n' +
  '  --device checks the LUT was measured there.\n';

export async function run(argv: string[]): Promise<number> {
  const cmd = parseCommand('predict', argv, {
    lut: { type: 'string' },
    supernet: { type: 'string' },
    config: { type: 'string' },
    all: { type: 'boolean' },
    model: { type: 'string', multiple: true },
    kernels: { type: 'boolean' },
    device: { type: 'string' },
    'allow-other-device': { type: 'boolean' },
    json: { type: 'boolean' },
  }, USAGE);
  if (!cmd) return 0;
  const { values, positionals } = cmd;
  const lutPath = requireString('predict', values.lut, 'lut', 'a LUT file written by snc profile or snc lut ops');
  const models = [...((values.model as string[] | undefined) ?? []), ...positionals];
  const kind = lutKind(lutPath);
  if (kind === 'ops' || models.length) return predictOps(lutPath, kind, models, cmd);
  const lut = readLut(lutPath);
  const net = loadSupernet(requireString('predict', values.supernet, 'supernet', 'a supernet folder or a preset name'));
  const device = typeof values.device === 'string' ? loadDevice(values.device) : undefined;
  checkLutUse(lut, lutPath, { spec: net.spec, device, allowOtherDevice: values['allow-other-device'] === true });
  const predictor = new LatencyPredictor(lut, net.spec.architecture);
  const configs = values.all ? enumerateConfigs(net.spec.knobs, net.spec.architecture) : [validateConfig(net.spec.knobs, typeof values.config === 'string' ? parseConfig(values.config, net.spec.default) : net.spec.default, net.spec.architecture)];
  const rows = configs.map((c) => ({ config: configKey(c), predictedMs: predictor.predict(c) }));
  if (values.json) process.stdout.write(JSON.stringify({ device: lut.device.name, lut: lutPath, calibrated: !!lut.calibration, predictions: rows }) + '\n');
  else for (const r of rows) process.stdout.write(`${r.config}  ${r.predictedMs.toFixed(2)} ms  (${lut.device.name})\n`);
  return 0;
}

const DISCOVERY_NOTE = "kernels found by one profiled run of each model in the LUT device's runtime on this machine; that run's timings are discarded";

async function predictOps(lutPath: string, kind: 'ops' | 'blocks', models: string[], { values }: Parsed): Promise<number> {
  if (kind !== 'ops')
    throw new SncError(`predict: ${lutPath} is a block LUT of one supernet family (snc profile); --model needs an op-level LUT: make one with snc lut ops --device NAME`);
  for (const flag of ['supernet', 'config', 'all'] as const)
    if (values[flag] !== undefined) throw new SncError(`predict: ${lutPath} is an op-level LUT, which predicts ONNX files given with --model; --${flag} needs a block LUT of a supernet (snc profile)`);
  if (!models.length) throw new SncError(`predict: ${lutPath} is an op-level LUT; give --model X.onnx (any ONNX model) to predict`);
  const lut = readOpLut(lutPath);
  const device = typeof values.device === 'string' ? loadDevice(values.device) : undefined;
  checkOpLutUse(lut, lutPath, { device, allowOtherDevice: values['allow-other-device'] === true });
  const hostDiff = hostDifferences(lut.host, hostInfo());
  const predictor = new OpPredictor(lut);
  const rows = [];
  for (const path of models) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(readFileSync(path));
    } catch {
      throw new SncError(`predict: cannot read ONNX model ${path}`);
    }
    const p = await predictModel(lut, bytes, path, predictor);
    const { detail, ...rest } = p;
    rows.push(values.kernels ? p : rest);
    if (!values.json) {
      process.stdout.write(
        `${path}  ${p.predictedMs.toFixed(2)} ms  (${lut.device.name}; ${p.kernels} kernels: ${p.exact} exact, ${p.interpolated} interpolated, ${p.fallback} fallback; ` +
          `kernel sum ${p.kernelSumMs.toFixed(2)} ms, ${(p.exactShare * 100).toFixed(0)}% of it from exact hits)\n`,
      );
      if (values.kernels)
        for (const k of detail) process.stdout.write(`  ${k.us.toFixed(1).padStart(9)} us${k.calls > 1 ? ` x${k.calls}` : ''}  ${k.how.padEnd(12)}  ${k.key}${k.basis ? `  [${k.basis}]` : ''}\n`);
    }
  }
  if (values.json)
    process.stdout.write(
      JSON.stringify({ device: lut.device.name, lut: lutPath, calibrated: !!lut.calibration, calibration: lut.calibration ? { a: lut.calibration.a, b: lut.calibration.b } : null, note: DISCOVERY_NOTE, hostDifferences: hostDiff, predictions: rows }) + '\n',
    );
  else {
    process.stdout.write(`  (${DISCOVERY_NOTE})\n`);
    if (hostDiff.length) process.stdout.write(`  note: this machine differs from the one the LUT was measured on (${hostDiff.join('; ')}); kernel shapes may differ\n`);
  }
  return 0;
}
