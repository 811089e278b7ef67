import { parseConfig, validateConfig, configKey } from '../detr/spec.js';
import { DEFAULT_SUPERNET, PRESETS } from '../detr/presets.js';
import { loadSupernet, sha256 } from '../detr/supernet.js';
import { exportSubnetToFile } from '../detr/export-subnet.js';
import { checkWritable } from '../util/fs.js';
import { parseCommand, requireString, type Parsed } from './args.js';

/** The usage, its example config the default of the supernet given, else of the default supernet. */
function usage(values: Parsed['values']): string {
  const spec = typeof values.supernet === 'string' ? loadSupernet(values.supernet).spec : PRESETS[DEFAULT_SUPERNET].spec;
  return (
    `usage: snc export --supernet DIR|PRESET [--config "${configKey(spec.default)}"] --out model.onnx [--exits] [--json]\n` +
    `  --config  knob=value pairs; omitted knobs take the supernet's default (${spec.name}: ${configKey(spec.default)})\n` +
    '  --exits   also output boxes_<l>/logits_<l> for every decoder depth\n'
  );
}

export async function run(argv: string[]): Promise<number> {
  const cmd = parseCommand('export', argv, {
    supernet: { type: 'string' },
    config: { type: 'string' },
    out: { type: 'string', short: 'o' },
    exits: { type: 'boolean' },
    json: { type: 'boolean' },
  }, usage);
  if (!cmd) return 0;
  const { values } = cmd;
  const out = requireString('export', values.out, 'out', 'the ONNX file to write');
  checkWritable(out);
  const net = loadSupernet(requireString('export', values.supernet, 'supernet', 'a supernet folder or a preset name'));
  const config = validateConfig(net.spec.knobs, typeof values.config === 'string' ? parseConfig(values.config, net.spec.default) : net.spec.default, net.spec.architecture);
  const t0 = performance.now();
  const bytes = exportSubnetToFile(net, config, out, { exits: values.exits === true });
  const ms = performance.now() - t0;
  const result = { out, config: configKey(config), bytes: bytes.length, sha256: sha256(bytes), exportMs: Math.round(ms) };
  if (values.json) process.stdout.write(JSON.stringify(result) + '\n');
  else process.stdout.write(`wrote ${out} (${(bytes.length / 1e6).toFixed(1)} MB, ${result.config}) in ${(ms / 1000).toFixed(2)} s\n`);
  return 0;
}
