/**
 * Op-level LUT on ONNX models that snc did not build: predicted vs measured end-to-end latency.
 *
 *   npm run build
 *   /usr/bin/python3 train/export_foreign_models.py      # cnn, mobilenet -> test/fixtures/foreign/, vit -> out/foreign/
 *   node dist/bench/op-lut-foreign.js [--devices ort-cpu-1t,ort-cpu-2t] [--runs 30] [--warmup 5]
 *        [--lut-dir lut] [--build] [--model X.onnx ...] [--out out/op-lut-foreign.json]
 *
 * For each device it reads the op-level LUT <lut-dir>/<device>/ops.json, building it first
 * (snc lut ops with its defaults: the op zoo only, no foreign model) when it is missing or
 * --build is given. The foreign models are never part of the table. Then, per device: each
 * model is predicted (its kernels found by one profiled run whose timings are discarded, each
 * kernel looked up or interpolated, the sum calibrated), and all models are measured end to end
 * without the profiler, interleaved (measureInterleaved: warm-up, then --runs rounds in a fresh
 * shuffled order, re-measured when IQR/median > 10%). It prints predicted, measured median with
 * IQR and spread, and the error; a JSON report goes to --out.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeModel } from '../src/onnx/reader.js';
import { loadDevice } from '../src/latency/device.js';
import { hostInfo } from '../src/latency/host.js';
import { measureInterleaved } from '../src/latency/measure.js';
import { modelInputs } from '../src/latency/model-inputs.js';
import { buildOpLut, OpPredictor, predictModel, readOpLut, type OpLut } from '../src/latency/op-lut.js';
import { openSession, type TimedSession } from '../src/latency/runtime.js';
import { writeFileAtomic } from '../src/util/fs.js';

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: 'ort-cpu-1t,ort-cpu-2t' },
    runs: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '5' },
    'lut-dir': { type: 'string', default: 'lut' },
    build: { type: 'boolean', default: false },
    model: { type: 'string', multiple: true },
    out: { type: 'string', default: 'out/op-lut-foreign.json' },
  },
});
const runs = Number(values.runs);
const warmup = Number(values.warmup);
const foreignDirs = ['test/fixtures/foreign', 'out/foreign'];
const models = values.model?.length
  ? values.model
  : foreignDirs.flatMap((d) => (existsSync(d) ? readdirSync(d).filter((f) => f.endsWith('.onnx')).sort().map((f) => join(d, f)) : []));
if (!models.length) {
  process.stderr.write('no models: run /usr/bin/python3 train/export_foreign_models.py first, or give --model X.onnx\n');
  process.exit(2);
}
const host = hostInfo();
console.log(`host: ${host.cpu}, ${host.cores} cores; ${models.length} models: ${models.join(', ')}`);
console.log(`measured: median of ${runs} interleaved runs after ${warmup} warm-up runs (spread = IQR/median)`);

const report: unknown[] = [];
for (const name of values.devices!.split(',')) {
  const device = loadDevice(name);
  const lutPath = join(values['lut-dir']!, device.name, 'ops.json');
  let lut: OpLut;
  if (values.build || !existsSync(lutPath)) {
    const t0 = performance.now();
    lut = await buildOpLut(device, { out: lutPath });
    console.log(`\n${device.name}: built ${lutPath} in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  } else lut = readOpLut(lutPath);
  const cal = lut.calibration;
  console.log(
    `\n${device.name}: LUT ${lutPath}, ${Object.keys(lut.entries).length} kernel keys from ${lut.models.length} models (${lut.protocol.files.length} files), ` +
      `calibration a=${cal?.a.toFixed(3)} b=${cal?.b.toFixed(3)} ms (fit RMSPE ${((cal?.rmspe ?? 0) * 100).toFixed(1)}% on zoo models of 1 ms or more)`,
  );
  const predictor = new OpPredictor(lut);
  const bytes = models.map((m) => new Uint8Array(readFileSync(m)));
  const predictions = [];
  for (let i = 0; i < models.length; i++) predictions.push(await predictModel(lut, bytes[i], models[i], predictor));
  const sessions: TimedSession[] = [];
  for (let i = 0; i < models.length; i++) sessions.push(await openSession(device, bytes[i], modelInputs(decodeModel(bytes[i], models[i]).graph, models[i])));
  const measured = await measureInterleaved(sessions, { warmup, runs, maxSpread: 0.1, retries: 2 });
  await Promise.all(sessions.map((s) => s.release()));
  console.log(`${'model'.padEnd(36)} ${'predicted'.padStart(10)} ${'measured (IQR, spread)'.padStart(32)} ${'error'.padStart(8)}  kernels (exact/interpolated/fallback)`);
  predictions.forEach((p, i) => {
    const m = measured[i];
    const err = (p.predictedMs / m.median - 1) * 100;
    console.log(
      `${models[i].padEnd(36)} ${p.predictedMs.toFixed(2).padStart(7)} ms ${`${m.median.toFixed(2)} ms (${m.q1.toFixed(2)}-${m.q3.toFixed(2)}, ${(m.spread * 100).toFixed(1)}%)`.padStart(32)} ${`${err >= 0 ? '+' : ''}${err.toFixed(1)}%`.padStart(8)}  ${p.kernels} (${p.exact}/${p.interpolated}/${p.fallback})`,
    );
    report.push({
      device: device.name,
      model: models[i],
      predictedMs: p.predictedMs,
      kernelSumMs: p.kernelSumMs,
      measuredMs: m.median,
      q1Ms: m.q1,
      q3Ms: m.q3,
      spread: m.spread,
      runs: m.n,
      errorPct: err,
      kernels: p.kernels,
      exact: p.exact,
      interpolated: p.interpolated,
      fallback: p.fallback,
      exactShare: p.exactShare,
    });
  });
}
writeFileAtomic(values.out!, JSON.stringify({ host, runs, warmup, results: report }, null, 1) + '\n');
console.log(`\nwrote ${values.out}`);
