import { loadSupernet } from '../detr/supernet.js';
import { checkLutUse, readLut } from '../latency/lut.js';
import { checkAvailable } from '../latency/runtime.js';
import { DEFAULT_REFERENCES, SPEED_CHECK_MIN_SECONDS, checkSpeed } from '../latency/speed-check.js';
import { intOption, numberOption, parseCommand, progress, progressDone, requireString } from './args.js';

const USAGE = `usage: snc lut speed --lut FILE --supernet DIR|PRESET [--references ${DEFAULT_REFERENCES}] [--around-ms N] [--runs 30]
                     [--min-seconds ${SPEED_CHECK_MIN_SECONDS}] [--json]
  How fast this machine runs the LUT's subnets now: times reference subnets end to end
  (interleaved) and prints the median of measured / predicted, the factor by which to scale the
  LUT's predictions for this machine as it runs now (snc search --speed-check applies it).
  --around-ms N   take the references among subnets predicted within a factor of 2 of N ms
  --min-seconds S time the references for at least S seconds (default ${SPEED_CHECK_MIN_SECONDS})
`;

/** snc lut speed: this machine's speed factor against a LUT. */
export async function run(argv: string[]): Promise<number> {
  const cmd = parseCommand('lut speed', argv, {
    lut: { type: 'string' },
    supernet: { type: 'string' },
    references: { type: 'string' },
    'around-ms': { type: 'string' },
    runs: { type: 'string' },
    'min-seconds': { type: 'string' },
    json: { type: 'boolean' },
  }, USAGE);
  if (!cmd) return 0;
  const { values } = cmd;
  const lutPath = requireString('lut speed', values.lut, 'lut', 'a LUT file written by snc profile');
  const lut = readLut(lutPath);
  const net = loadSupernet(requireString('lut speed', values.supernet, 'supernet', 'a supernet folder or a preset name'));
  checkLutUse(lut, lutPath, { spec: net.spec });
  const aroundMs = numberOption('lut speed', values['around-ms'], 'around-ms', (n) => n > 0, 'a number of milliseconds > 0');
  const minSeconds = numberOption('lut speed', values['min-seconds'], 'min-seconds', (n) => n >= 0, 'a number of seconds >= 0') ?? SPEED_CHECK_MIN_SECONDS;
  await checkAvailable(lut.device);
  const check = await checkSpeed(net, lut.device, lut, {
    references: intOption('lut speed', values.references, 'references', 1) ?? DEFAULT_REFERENCES,
    aroundMs,
    measure: { runs: intOption('lut speed', values.runs, 'runs', 1) ?? 30, minSeconds },
    onProgress: (d, t) => progress(`speed check on ${lut.device.name}: ${d}/${t} runs`),
  });
  progressDone();
  if (values.json) {
    process.stdout.write(JSON.stringify({ lut: lutPath, profiledAt: lut.updatedAt, ...check }) + '\n');
    return 0;
  }
  const lines = [`${lut.device.name}: this machine runs ${lutPath}'s subnets x ${check.factor.toFixed(3)} (median of ${check.references.length} references; ratios ${check.ratioRange[0].toFixed(2)}-${check.ratioRange[1].toFixed(2)}; LUT profiled ${lut.updatedAt})`];
  for (const r of check.references) lines.push(`  ${r.predictedMs.toFixed(2).padStart(8)} ms predicted  ${r.measuredMs.toFixed(2).padStart(8)} ms measured (spread ${(r.spread * 100).toFixed(1)}%)  x ${r.ratio.toFixed(3)}  ${r.key}`);
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
