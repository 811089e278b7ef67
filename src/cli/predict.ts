import { configKey, enumerateConfigs, parseConfig, validateConfig } from '../detr/spec.js';
import { loadSupernet } from '../detr/supernet.js';
import { loadDevice } from '../latency/device.js';
import { checkLutUse, readLut } from '../latency/lut.js';
import { LatencyPredictor } from '../latency/predictor.js';
import { parse, requireString } from './args.js';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse('predict', argv, {
    lut: { type: 'string' },
    supernet: { type: 'string' },
    config: { type: 'string' },
    all: { type: 'boolean' },
    device: { type: 'string' },
    'allow-other-device': { type: 'boolean' },
    json: { type: 'boolean' },
    help: { type: 'boolean' },
  });
  if (values.help) {
    process.stdout.write(
      'usage: snc predict --lut FILE --supernet DIR|PRESET [--config "res=..,..."] [--all] [--json]\n' +
        '  --all predicts every config of the grid; --device checks the LUT was measured there.\n',
    );
    return 0;
  }
  const lutPath = requireString('predict', values.lut, 'lut', 'a LUT file written by snc profile');
  const lut = readLut(lutPath);
  const net = loadSupernet(requireString('predict', values.supernet, 'supernet', 'a supernet folder or a preset name'));
  const device = typeof values.device === 'string' ? loadDevice(values.device) : undefined;
  checkLutUse(lut, lutPath, { spec: net.spec, device, allowOtherDevice: values['allow-other-device'] === true });
  const predictor = new LatencyPredictor(lut, net.spec.architecture);
  const configs = values.all ? enumerateConfigs(net.spec.knobs) : [validateConfig(net.spec.knobs, typeof values.config === 'string' ? parseConfig(values.config, net.spec.default) : net.spec.default)];
  const rows = configs.map((c) => ({ config: configKey(c), predictedMs: predictor.predict(c) }));
  if (values.json) process.stdout.write(JSON.stringify({ device: lut.device.name, lut: lutPath, calibrated: !!lut.calibration, predictions: rows }) + '\n');
  else for (const r of rows) process.stdout.write(`${r.config}  ${r.predictedMs.toFixed(2)} ms  (${lut.device.name})\n`);
  return 0;
}
