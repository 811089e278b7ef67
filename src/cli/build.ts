import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { build, type BuildProgress } from '../export/build.js';
import { configJsonSchema, loadConfig } from '../export/config.js';
import { writeBuildReports } from '../export/report.js';
import { fmtDuration, Progress } from '../util/progress.js';
import { parseCommand } from './args.js';

const USAGE = `usage: snc build [--config FILE] [--device NAME ...] [--json]
  Builds one model per device of the config (default ./snc.config.json, else the embedded
  default: shapes-tiny, a generated synthetic validation set, ort-cpu-2t and ort-wasm-1t).
  Per device: its LUT (reused while device, supernet and host kind are unchanged, else profiled
  once), the search and the most accurate subnet within its budget, the export, a measurement
  of the model. Every step is cached by the hash of its inputs. Writes BUILD/<device>/model.onnx,
  BUILD/<device>/report.json, BUILD/report.md and BUILD/report.html.
  --config FILE   the config (snc.config.json; its JSON Schema: snc build --schema)
  --device NAME   build only this device of the config (repeatable)
  --schema        print the config's JSON Schema and exit
  --json          print the device reports as JSON on stdout
`;

function progressLine(p: BuildProgress): string {
  const left = p.secondsLeft !== undefined && Number.isFinite(p.secondsLeft) ? `, about ${fmtDuration(p.secondsLeft)} left` : '';
  return `build${p.device ? ` ${p.device}` : ''} [${p.step}]: ${p.detail}${left}`;
}

export async function run(argv: string[]): Promise<number> {
  const cmd = parseCommand('build', argv, {
    config: { type: 'string' },
    device: { type: 'string', multiple: true },
    schema: { type: 'boolean' },
    json: { type: 'boolean' },
  }, USAGE);
  if (!cmd) return 0;
  const { values } = cmd;
  if (values.schema) {
    process.stdout.write(JSON.stringify(configJsonSchema(), null, 2) + '\n');
    return 0;
  }
  const cfg = loadConfig(values.config as string | undefined, values.device as string[] | undefined);
  const progress = new Progress().start();
  const t0 = performance.now();
  let result;
  try {
    result = await build({ cfg, onProgress: (p) => progress.update(progressLine(p), `${p.device}/${p.step}`) });
  } finally {
    progress.stop();
  }
  const files = writeBuildReports(result);
  for (const s of result.devices) process.stderr.write(`build ${s.target.name}: ${s.steps.map((x) => `${x.name} ${x.cached ? 'cached' : `${x.seconds.toFixed(1)} s`}`).join(', ')}\n`);
  if (values.json) {
    process.stdout.write(JSON.stringify(files.devices.map((f) => JSON.parse(readFileSync(f, 'utf8')))) + '\n');
    return 0;
  }
  const rel = (p: string) => relative(process.cwd(), p) || p;
  const lines: string[] = [];
  for (const s of result.devices) {
    const c = s.choice!;
    const m = s.measurement;
    const metric = s.search!.metric;
    lines.push(`${s.target.name} (budget ${s.target.budgetMs} ms, ${s.target.precision}):`);
    lines.push(`  subnet     ${c.key}`);
    lines.push(`  accuracy   ${metric} ${c.metrics[metric].toFixed(3)} on ${result.dataImages} validation images`);
    const q = s.quantization;
    if (q) lines.push(`  quantized  ${q.precision}${q.format ? ` ${q.format}` : ''}: AP ${q.ap.float.toFixed(3)} -> ${q.ap.quantized.toFixed(3)} (${(100 * (q.ap.quantized - q.ap.float)).toFixed(2)} points), ${(q.bytes.float / 1e6).toFixed(2)} -> ${(q.bytes.quantized / 1e6).toFixed(2)} MB`);
    lines.push(`  predicted  ${c.predictedMs.toFixed(2)} ms (LUT ${rel(s.lut.path)}, ${s.lut.source})`);
    lines.push(
      m
        ? `  measured   ${m.measuredMs.toFixed(2)} ms median; machine at x${m.factor.toFixed(2)} the LUT's speed, so ${m.atLutSpeedMs.toFixed(2)} ms at the LUT's (${((100 * m.atLutSpeedMs) / s.target.budgetMs).toFixed(0)}% of the budget)`
        : `  measured   - (${s.notMeasured ?? 'not measured'})`,
    );
    lines.push(`  model      ${rel(s.model!.path)} (${(s.model!.bytes / 1e6).toFixed(2)} MB)`);
  }
  lines.push(`report: ${rel(files.html)} (and ${rel(files.markdown)}); built in ${fmtDuration((performance.now() - t0) / 1000)}`);
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

