import { readFileSync } from 'node:fs';
import { SncError } from '../errors.js';
import { decodeModel } from '../onnx/reader.js';
import { loadDevice } from '../latency/device.js';
import { DEFAULT_MEASURE, measureInterleaved } from '../latency/measure.js';
import { modelInputs } from '../latency/model-inputs.js';
import { checkAvailable, openSession } from '../latency/runtime.js';
import { intOption, numberOption, parseCommand, progress, progressDone, requireString } from './args.js';

/** Default --min-seconds of snc measure. */
export const MEASURE_MIN_SECONDS = 3;

const USAGE =
  `usage: snc measure --device NAME --model A.onnx [--model B.onnx ...] [--runs 30] [--min-seconds ${MEASURE_MIN_SECONDS}] [--warmup 5] [--json]\n` +
  '  End-to-end latency (median of runs, interleaved across models) with spread (IQR/median).\n' +
  `  Timing goes on past --runs until it has taken --min-seconds (default ${MEASURE_MIN_SECONDS}): a shared machine's\n` +
  '  speed changes within seconds, and a median over a few seconds is steady where 30 quick runs are not.\n';

export async function run(argv: string[]): Promise<number> {
  const cmd = parseCommand('measure', argv, {
    model: { type: 'string', multiple: true },
    device: { type: 'string' },
    runs: { type: 'string' },
    warmup: { type: 'string' },
    'min-seconds': { type: 'string' },
    json: { type: 'boolean' },
  }, USAGE);
  if (!cmd) return 0;
  const { values, positionals } = cmd;
  const models = [...((values.model as string[] | undefined) ?? []), ...positionals];
  if (!models.length) throw new SncError('measure: --model is required (an ONNX file)');
  const device = loadDevice(requireString('measure', values.device, 'device', 'a device name such as ort-cpu-1t'));
  await checkAvailable(device);
  const sessions = [];
  for (const path of models) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch {
      throw new SncError(`measure: cannot read ${path}`);
    }
    sessions.push(await openSession(device, bytes, modelInputs(decodeModel(bytes, path).graph, path), { source: path }));
  }
  const ms = await measureInterleaved(sessions, {
    ...DEFAULT_MEASURE,
    runs: intOption('measure', values.runs, 'runs', 1) ?? 30,
    warmup: intOption('measure', values.warmup, 'warmup', 0) ?? 5,
    minSeconds: numberOption('measure', values['min-seconds'], 'min-seconds', (n) => n >= 0, 'a number of seconds >= 0') ?? MEASURE_MIN_SECONDS,
    onRound: (d, t) => progress(`measure ${device.name}: ${d}/${t} runs`),
  });
  progressDone();
  await Promise.all(sessions.map((s) => s.release()));
  const rows = models.map((m, i) => ({ model: m, device: device.name, medianMs: ms[i].median, q1Ms: ms[i].q1, q3Ms: ms[i].q3, spread: ms[i].spread, runs: ms[i].n }));
  if (values.json) process.stdout.write(JSON.stringify(rows) + '\n');
  else for (const r of rows) process.stdout.write(`${r.model} on ${r.device}: median ${r.medianMs.toFixed(2)} ms (IQR ${r.q1Ms.toFixed(2)}-${r.q3Ms.toFixed(2)}, spread ${(r.spread * 100).toFixed(1)}%, ${r.runs} runs)\n`);
  return 0;
}
