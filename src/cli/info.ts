import { subnetCost } from '../detr/cost.js';
import { configKey, enumerateConfigs, KNOB_NAMES, parseConfig, untrainedKnobs, validateConfig } from '../detr/spec.js';
import { loadSupernet } from '../detr/supernet.js';
import { weightShapes } from '../detr/weights.js';
import { parseCommand, requireString } from './args.js';

const USAGE = 'usage: snc info --supernet DIR|PRESET [--config "res=..,patch=..,windows=..,layers=..,queries=.."] [--json]\n';

export async function run(argv: string[]): Promise<number> {
  const cmd = parseCommand('info', argv, {
    supernet: { type: 'string' },
    config: { type: 'string' },
    json: { type: 'boolean' },
  }, USAGE);
  if (!cmd) return 0;
  const { values } = cmd;
  const net = loadSupernet(requireString('info', values.supernet, 'supernet', 'a supernet folder or a preset name'));
  const config = validateConfig(net.spec.knobs, typeof values.config === 'string' ? parseConfig(values.config, net.spec.default) : net.spec.default, net.spec.architecture);
  const cost = subnetCost(net.spec.architecture, config);
  const stored = [...weightShapes(net.spec.architecture).values()].reduce((s, d) => s + d.reduce((p, x) => p * x, 1), 0);
  const result = {
    supernet: net.spec.name,
    dir: net.dir,
    weightsSha256: net.weights.hash,
    storedParams: stored,
    knobs: net.spec.knobs,
    ...(net.spec.untrained ? { untrained: net.spec.untrained } : {}),
    validSubnets: enumerateConfigs(net.spec.knobs, net.spec.architecture).length,
    config: configKey(config),
    configUntrained: untrainedKnobs(net.spec, config),
    params: cost.params,
    flops: cost.flops,
  };
  if (values.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  else {
    const lines = [
      `supernet      ${result.supernet} (${result.dir})`,
      `weights       sha256 ${result.weightsSha256.slice(0, 16)}…, ${(stored / 1e6).toFixed(2)} M stored parameters`,
      'knob grid:',
      ...KNOB_NAMES.map((k) => `  ${k.padEnd(11)} ${net.spec.knobs[k].map((v) => (net.spec.untrained?.[k]?.includes(v) ? `${v}*` : String(v))).join(', ')}`),
      ...(net.spec.untrained ? ['  * untrained: exportable; snc search leaves these out unless --include-untrained'] : []),
      `valid subnets ${result.validSubnets}`,
      `config        ${result.config}${result.configUntrained.length ? ` (untrained: ${result.configUntrained.join(', ')})` : ''}`,
      `  params      ${(cost.params / 1e6).toFixed(3)} M`,
      `  FLOPs       ${(cost.flops / 1e9).toFixed(3)} G`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
  }
  return 0;
}
