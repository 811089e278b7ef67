import { SncError, choices } from '../errors.js';

type Command = { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number> }> };

/** Subcommands, each in its own module, loaded on use. */
const COMMANDS: Record<string, Command> = {
  info: { summary: 'knob grid, subnet count, parameters and FLOPs of a supernet', load: () => import('./info.js') },
  export: { summary: 'write one subnet as an ONNX model', load: () => import('./export.js') },
  measure: { summary: 'time ONNX models end to end on a device (median and spread)', load: () => import('./measure.js') },
  profile: { summary: 'time every block of a supernet on a device into a latency LUT', load: () => import('./profile.js') },
  predict: { summary: 'predict a subnet\'s latency from a LUT', load: () => import('./predict.js') },
  lut: { summary: "LUT tools: validate (predicted vs measured), speed (this machine's speed against a LUT now), ops (op-level table for any ONNX model)", load: () => import('./lut.js') },
  data: { summary: 'detection data: synth (a synthetic COCO-format set)', load: () => import('./data.js') },
  eval: { summary: 'COCO bbox metrics of a subnet or of any model snc exported (onnxruntime-node), or of a detections file', load: () => import('./eval.js') },
  import: { summary: 'import a trained detector as a supernet folder: rfdetr (an RF-DETR .pth or .safetensors checkpoint)', load: () => import('./import.js') },
  build: { summary: 'build one model per device from snc.config.json: LUT, search, choice under the budget, export, measurement, report', load: () => import('./build.js') },
  check: { summary: 'CI latency gate: each built model against its budget (and a baseline), timed on a ratio to reference subnets', load: () => import('./check.js') },
  worker: { summary: 'run queued jobs (search evaluations, block timings) for snc search/profile --queue, on any machine', load: () => import('./worker.js') },
  quantize: { summary: 'post-training quantization of a subnet: calibrated int8 QDQ or NUPES power-exponent weights, with a report', load: () => import('./quantize.js') },
  search: { summary: 'accuracy/latency Pareto front of the subnets per device, and the best subnet within a latency budget', load: () => import('./search.js') },
};

export function registerCommand(name: string, c: Command): void {
  COMMANDS[name] = c;
}

function usage(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return ['usage: snc <command> [options]', '', 'commands:', ...Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(w)}  ${c.summary}`), '', 'snc <command> --help shows its options.'].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  if (name === '--version') {
    process.stdout.write('snc 0.1.0\n');
    return 0;
  }
  try {
    const cmd = COMMANDS[name];
    if (!cmd) throw new SncError(`unknown command '${name}'; valid commands are ${choices(Object.keys(COMMANDS))}`);
    return await (await cmd.load()).run(rest);
  } catch (e) {
    if (e instanceof SncError) {
      process.stderr.write(`snc: ${e.message}\n`);
      return e.exitCode;
    }
    throw e;
  }
}
