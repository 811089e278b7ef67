/**
 * INT8 against fp32 end to end, interleaved in one run per device: the nano subnet (default
 * config) as exported, its int8 QDQ models in both formats (u8s8 with reduced-range weights,
 * s8s8) and its NUPES 4-bit model (decoded at load: fp32 speed expected; file size and session
 * load time printed), timed with snc's measurement (warm-up, shuffled interleaved rounds, median and
 * IQR/median) on ort-cpu-2t and ort-wasm-1t by default. Then onnxruntime's profiler on the
 * device's int8 model: time per op type, which ops stayed float and what they cost.
 * Timing: run it on a quiet machine.
 *
 *   npm run build
 *   node dist/bench/quant-speed.js [--supernet nano] [--config C] [--calib DIR] [--images 16]
 *        [--devices ort-cpu-2t,ort-wasm-1t] [--runs 30] [--min-seconds 5] [--profile-runs 10]
 *        [--matmul 576x384x1536|none] [--mlp 576x384x1536|none] [--out F.json]
 *
 * It starts with one MatMul (--matmul M x K x N) in fp32, u8s8 and s8s8 QDQ: which integer
 * format each runtime runs faster (the choice formatFor makes per device). Then one MLP
 * (--mlp M x K x N: fc1 K -> N, GELU, fc2 N -> K) in fp32 and in the device's int8 format twice:
 * with fc1's output quantized (DQ -> MatMul + Add -> Q: a QGemm, but the GELU no longer fuses)
 * and as snc writes it (fc1's output float: MatMulIntegerToFloat, then one Gelu; Target.floatBias).
 *
 * Without --calib, calibration images are synthesised (snc data synth) into a temporary folder:
 * nano's weights are random, so only the speed means anything here.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { synthesize } from '../src/data/synth.js';
import { buildSubnet } from '../src/detr/model.js';
import { configKey, parseConfig, validateConfig } from '../src/detr/spec.js';
import { loadSupernet } from '../src/detr/supernet.js';
import { loadDevice } from '../src/latency/device.js';
import { profileModel } from '../src/latency/kernel-profile.js';
import { DEFAULT_MEASURE, measureInterleaved } from '../src/latency/measure.js';
import { subnetInputs } from '../src/latency/model-inputs.js';
import { openSession } from '../src/latency/runtime.js';
import { GraphBuilder } from '../src/onnx/builder.js';
import * as op from '../src/onnx/ops.js';
import type { Model } from '../src/onnx/graph.js';
import { f32 } from '../src/onnx/tensor.js';
import { encodeModel } from '../src/onnx/writer.js';
import { calibrationValues, selectTargets } from '../src/quant/select.js';
import { calibrationSet } from '../src/quant/calibrate.js';
import { formatFor, rewriteQdq, type QdqFormat } from '../src/quant/qdq.js';
import { quantizeModel } from '../src/quant/quantize.js';
import { writeFileAtomic } from '../src/util/fs.js';

const { values } = parseArgs({
  options: {
    supernet: { type: 'string', default: 'nano' },
    config: { type: 'string' },
    calib: { type: 'string' },
    images: { type: 'string', default: '16' },
    devices: { type: 'string', default: 'ort-cpu-2t,ort-wasm-1t' },
    runs: { type: 'string', default: '30' },
    'min-seconds': { type: 'string', default: '5' },
    'profile-runs': { type: 'string', default: '10' },
    matmul: { type: 'string', default: '576x384x1536' },
    mlp: { type: 'string', default: '576x384x1536' },
    out: { type: 'string' },
  },
});
/** Deterministic weights of a plausible size for the timing models: 0.05 sin(0.37 i + phase). */
function sineWeights(rows: number, cols: number, phase = 0): Float32Array {
  return Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 0.37 + phase) * 0.05);
}
/**
 * Small models on one input x [1, M, K], interleaved on one device: one line of medians and
 * speed-ups against the first, and the figures for the JSON.
 */
async function timeVariants(label: string, dname: string, variants: Record<string, Uint8Array>, x: number[]): Promise<Record<string, unknown>> {
  const device = loadDevice(dname);
  const sessions = [];
  for (const v of Object.values(variants)) sessions.push(await openSession(device, v, [{ name: 'x', dims: x, dtype: 'float32' }]));
  let ms;
  try {
    ms = await measureInterleaved(sessions, { ...DEFAULT_MEASURE, runs: Number(values.runs), minSeconds: Number(values['min-seconds']) / 2 });
  } finally {
    await Promise.all(sessions.map((s) => s.release()));
  }
  const names = Object.keys(variants);
  process.stdout.write(`\n${label} on ${dname}: ${names.map((n, i) => `${n} ${ms[i].median.toFixed(2)} ms (IQR/median ${(100 * ms[i].spread).toFixed(0)} %, ${(ms[0].median / ms[i].median).toFixed(2)}x)`).join('; ')}\n`);
  return { device: dname, models: names.map((n, i) => ({ model: n, median: ms[i].median, spread: ms[i].spread, speedup: ms[0].median / ms[i].median })) };
}
/**
 * One MatMul [1, M, K] x [K, N] (default 576 x 384 x 1536, a nano fc1) in fp32 and in QDQ form in
 * both formats, interleaved per device: which integer format each runtime runs faster.
 */
async function matmulFormats(dims: number[]): Promise<Record<string, unknown>[]> {
  const [M, K, N] = dims;
  const g = new GraphBuilder('matmul');
  const x = g.input('x', 'float32', [1, M, K]);
  g.output(g.op('MatMul', [x, g.initializer('fc.weight', f32([K, N], sineWeights(K, N)))], [1, M, N]), 'y');
  const m: Model = { graph: g.build(), opset: 17, metadata: {} };
  const variants: Record<string, Uint8Array> = { fp32: encodeModel(m) };
  for (const format of ['u8s8', 's8s8'] as QdqFormat[]) {
    const sel = selectTargets(m.graph);
    const r = rewriteQdq(m.graph, sel, { format, perChannel: true, weightClipping: 'max', ranges: new Map([['x', { lo: -1, hi: 1 }]]) });
    variants[format] = encodeModel({ ...m, graph: r.graph });
  }
  const out = [];
  for (const dname of values.devices!.split(',')) out.push(await timeVariants(`MatMul ${M}x${K}x${N}`, dname, variants, [1, M, K]));
  return out;
}
/** One MLP, fp32 and int8 with fc1's output quantized or float (see the header), interleaved per device. */
async function mlpOutputs(dims: number[]): Promise<Record<string, unknown>[]> {
  const [M, K, N] = dims;
  const g = new GraphBuilder('mlp');
  const x = g.input('x', 'float32', [1, M, K]);
  const weight = (name: string, rows: number, cols: number) => g.initializer(name, f32([rows, cols], sineWeights(rows, cols, rows)));
  const bias = (name: string, n: number) => g.initializer(name, f32([n], new Float32Array(n).fill(0.01)));
  const h = op.gelu(g, op.add(g, op.matmul(g, x, weight('fc1.weight', K, N)), bias('fc1.bias', N)));
  g.output(op.add(g, op.matmul(g, h, weight('fc2.weight', N, K)), bias('fc2.bias', K)), 'y');
  const m: Model = { graph: g.build(), opset: 17, metadata: {} };
  const out = [];
  for (const dname of values.devices!.split(',')) {
    const device = loadDevice(dname);
    const format = formatFor(device.runtime).format;
    const variants: Record<string, Uint8Array> = { fp32: encodeModel(m) };
    for (const fc1Out of ['quantized', 'float']) {
      const sel = selectTargets(m.graph);
      if (fc1Out === 'quantized')
        for (const t of sel.targets)
          if (t.floatBias) Object.assign(t, { quantizeOutput: true, outputNode: t.floatBias, floatBias: undefined });
      const ranges = new Map(calibrationValues(sel).map((v) => [v, { lo: -2, hi: 2 }]));
      variants[`${format} fc1 out ${fc1Out}`] = encodeModel({ ...m, graph: rewriteQdq(m.graph, sel, { format, perChannel: true, weightClipping: 'max', ranges }).graph });
    }
    out.push(await timeVariants(`MLP ${K}->${N}->${K} (${M} tokens, GELU)`, dname, variants, [1, M, K]));
  }
  return out;
}
const matmul = values.matmul === 'none' ? [] : await matmulFormats(values.matmul!.split('x').map(Number));
const mlp = values.mlp === 'none' ? [] : await mlpOutputs(values.mlp!.split('x').map(Number));

const net = loadSupernet(values.supernet!);
const config = validateConfig(net.spec.knobs, values.config ? parseConfig(values.config, net.spec.default) : net.spec.default);
const model = buildSubnet(net, config);
let tmp: string | undefined;
let calib = values.calib;
if (!calib) {
  tmp = mkdtempSync(join(tmpdir(), 'snc-quant-speed-'));
  calib = join(tmp, 'calib');
  await synthesize({ out: calib, images: Number(values.images), seed: 101, size: 320 });
}
const set = calibrationSet(calib, { resolution: config.resolution, preprocess: net.spec.preprocess }, Number(values.images));
process.stderr.write(`${net.spec.name} ${configKey(config)}: quantizing on ${set.count} images\n`);
const models: Record<string, Uint8Array> = { fp32: encodeModel(model) };
for (const format of ['u8s8', 's8s8'] as QdqFormat[]) {
  const r = await quantizeModel(model, set, { ranges: 'minmax', weights: 'int8', perChannel: true, format, sqnrImages: 0 });
  models[`int8-${format}`] = encodeModel(r.model);
}
// NUPES 4-bit weights: decoded when the session loads, so it should run at fp32 speed and load a little slower
{
  const r = await quantizeModel(model, set, { ranges: 'minmax', weights: 'nupes4', perChannel: true, format: 'u8s8', sqnrImages: 0 });
  models['nupes4'] = encodeModel(r.model);
}
if (tmp) rmSync(tmp, { recursive: true, force: true });
process.stdout.write(`file sizes: ${Object.entries(models).map(([n, b]) => `${n} ${(b.length / 1e6).toFixed(2)} MB`).join(', ')}\n`);
const names = Object.keys(models);
const inputs = subnetInputs(config);
const INT8_OPS = /^(QGemm|QLinear\w+|MatMulIntegerToFloat|QuantizeLinear|DequantizeLinear|DynamicQuantize\w*|MatMulInteger|ConvInteger|QAttention)/;
const results: Record<string, unknown>[] = [];
for (const dname of values.devices!.split(',')) {
  const device = loadDevice(dname);
  const sessions = [];
  for (const n of names) sessions.push(await openSession(device, models[n], inputs));
  let ms;
  try {
    ms = await measureInterleaved(sessions, { ...DEFAULT_MEASURE, runs: Number(values.runs), minSeconds: Number(values['min-seconds']), onRound: (d, t) => process.stderr.write(`\r${dname}: ${d}/${t} runs`) });
  } finally {
    await Promise.all(sessions.map((s) => s.release()));
  }
  process.stderr.write('\n');
  // session creation (load) time, median of 3 per model, alternated
  const loads: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, [] as number[]]));
  for (let k = 0; k < 3; k++)
    for (const n of names) {
      const t0 = performance.now();
      const s = await openSession(device, models[n], inputs);
      loads[n].push(performance.now() - t0);
      await s.release();
    }
  const loadMs = Object.fromEntries(names.map((n) => [n, loads[n].sort((a, b) => a - b)[1]]));
  const fp = ms[0].median;
  const chosen = formatFor(device.runtime).format;
  process.stdout.write(`\n${dname} (${device.runtime}, ${device.threads} thread${device.threads > 1 ? 's' : ''}); the device's int8 format: ${chosen}\n| model | median ms | q1-q3 ms | IQR/median | fp32/this | session load ms |\n|---|---|---|---|---|---|\n`);
  names.forEach((n, i) => process.stdout.write(`| ${n} | ${ms[i].median.toFixed(2)} | ${ms[i].q1.toFixed(2)}-${ms[i].q3.toFixed(2)} | ${(100 * ms[i].spread).toFixed(1)} % | ${(fp / ms[i].median).toFixed(2)}x | ${loadMs[n].toFixed(0)} |\n`));
  // where the time goes in the device's int8 model and in fp32 (profiled runs, separate from the timing above)
  const profiles: Record<string, Record<string, number>> = {};
  for (const n of ['fp32', `int8-${chosen}`]) {
    const p = await profileModel(device, models[n], inputs, { warmup: 2, runs: Number(values['profile-runs']) });
    const byOp: Record<string, number> = {};
    for (const k of p.kernels) byOp[k.op] = (byOp[k.op] ?? 0) + (k.medianUs * k.calls) / 1000;
    profiles[n] = byOp;
  }
  const q = profiles[`int8-${chosen}`];
  const total = Object.values(q).reduce((s, v) => s + v, 0);
  const rows = Object.entries(q).sort((a, b) => b[1] - a[1]);
  process.stdout.write(`\nprofile of int8-${chosen} on ${dname} (kernel medians summed, ms; profiling adds overhead): total ${total.toFixed(2)} ms\n| op | ms | share | int8? |\n|---|---|---|---|\n`);
  for (const [op, v] of rows) process.stdout.write(`| ${op} | ${v.toFixed(2)} | ${((100 * v) / total).toFixed(1)} % | ${INT8_OPS.test(op) ? 'int8 / Q-DQ' : 'float'} |\n`);
  const floatMs = rows.filter(([op]) => !INT8_OPS.test(op)).reduce((s, [, v]) => s + v, 0);
  process.stdout.write(`float ops: ${floatMs.toFixed(2)} ms (${((100 * floatMs) / total).toFixed(1)} %) of the int8 model; fp32 model's profile total ${Object.values(profiles.fp32).reduce((s, v) => s + v, 0).toFixed(2)} ms\n`);
  results.push({ device: dname, chosenFormat: chosen, models: names.map((n, i) => ({ model: n, bytes: models[n].length, median: ms[i].median, q1: ms[i].q1, q3: ms[i].q3, spread: ms[i].spread, speedup: fp / ms[i].median, loadMs: loadMs[n] })), profiles });
}
if (values.out) writeFileAtomic(values.out, JSON.stringify({ supernet: net.spec.name, config: configKey(config), matmul, mlp, results }, null, 2) + '\n');
