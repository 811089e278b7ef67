import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SncError } from '../../src/errors.js';
import { loadDevice } from '../../src/latency/device.js';
import { checkProfilable, kernelTimings, parseProfile, profileModel } from '../../src/latency/kernel-profile.js';
import { readLut } from '../../src/latency/lut.js';
import { buildOpLut, describeKernel, fitCalibration, kernelKey, OpPredictor, parseKernelKey, predictModel, readOpLut, type OpLut, type OpLutEntry } from '../../src/latency/op-lut.js';
import { opZoo } from '../../src/latency/op-zoo.js';
import { openSession } from '../../src/latency/runtime.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const cli = join(root, 'bin/snc.js');
const foreignCnn = join(root, 'test/fixtures/foreign/cnn.onnx');
const cpu = loadDevice('ort-cpu-1t');
const SMALL_ZOO = { cnn: 3, transformer: 2, maxMacs: 20e6 };

test('the op zoo is seeded (same bytes twice) and every model runs in onnxruntime', async (t) => {
  const zoo = opZoo(SMALL_ZOO);
  t.is(zoo.length, 5);
  t.deepEqual(new Set(zoo.map((m) => m.family)), new Set(['cnn', 'transformer']));
  const again = opZoo(SMALL_ZOO);
  for (let i = 0; i < zoo.length; i++) {
    const bytes = zoo[i].build();
    t.is(Buffer.compare(bytes, again[i].build()), 0, `${zoo[i].name} is deterministic`);
    t.true(zoo[i].macs > 0);
    const s = await openSession(cpu, bytes, zoo[i].inputs);
    await s.run();
    await s.release();
  }
});

test('profile parsing: kernels of a real profiled run, with op types, shapes and times', async (t) => {
  const m = opZoo({ ...SMALL_ZOO, transformer: 0 })[0];
  const p = await profileModel(cpu, m.build(), m.inputs, { warmup: 1, runs: 2 });
  t.true(p.kernels.length > 3);
  t.is(p.runs, 2);
  for (const k of p.kernels) {
    t.true(k.op.length > 0 && k.outputs.length > 0, k.node);
    t.is(k.samplesUs.length, 2, `${k.node} was timed in both kept runs`);
    t.is(k.calls, 1);
    t.true(k.medianUs >= 0);
    t.deepEqual(parseKernelKey(kernelKey(k)), { op: k.op, inputs: k.inputs, outputs: k.outputs });
  }
  t.true(p.kernels.some((k) => k.op.startsWith('Conv')), 'convs survive as (fused, NCHWc) Conv kernels');
  t.false(p.kernels.some((k) => k.op === 'BatchNormalization'), 'onnxruntime folds BatchNormalization into the conv');
});

test('profile parsing: events are assigned to their run, warm-up runs dropped', (t) => {
  const ev = (name: string, ts: number, dur: number) => ({ cat: 'Node', name: `${name}_kernel_time`, ts, dur, args: { op_name: 'Relu', provider: 'CPUExecutionProvider', input_type_shape: [{ float: [1, 8] }], output_type_shape: [{ float: [1, 8] }] } });
  const trace = [
    { cat: 'Session', name: 'model_run', ts: 0, dur: 100 },
    ev('a', 1, 50),
    ev('b_nchwc', 60, 5),
    { cat: 'Session', name: 'model_run', ts: 200, dur: 100 },
    ev('a', 201, 10),
    ev('b_nchwc', 220, 7),
    { cat: 'Session', name: 'model_run', ts: 400, dur: 100 },
    ev('a', 401, 12),
    ev('b_nchwc', 420, 9),
  ];
  const events = parseProfile(JSON.stringify(trace));
  t.deepEqual(events.map((e) => e.run), [0, 0, 1, 1, 2, 2]);
  t.is(events[1].op, 'Relu.nchwc');
  const k = kernelTimings(events, 1);
  t.deepEqual(k.map((x) => [x.node, x.medianUs, x.calls]), [['a', 11, 1], ['b_nchwc', 8, 1]]);
  t.throws(() => parseProfile('{not json'), { instanceOf: SncError });
});

const entry = (op: string, us: number): OpLutEntry => ({ op, median_us: us, q1_us: us, q3_us: us, n: 1, kernels: 1 });
const relu = (n: number) => ({ op: 'Relu', inputs: [{ dtype: 'float', dims: [1, n] }], outputs: [{ dtype: 'float', dims: [1, n] }] });
const conv = (c: number, k: number, hw: number) => ({
  op: 'Conv.nchwc',
  inputs: [{ dtype: 'float', dims: [1, c, hw, hw] }, { dtype: 'float', dims: [c, c, k, k] }, { dtype: 'float', dims: [c] }],
  outputs: [{ dtype: 'float', dims: [1, c, hw, hw] }],
});

test('interpolation: exact hit, log-log between two entries, clamped extrapolation, unknown-op fallback', (t) => {
  const close = (a: number, b: number, what: string) => t.true(Math.abs(a - b) <= 1e-6 * Math.abs(b), `${what}: ${a} vs ${b}`);
  const p = new OpPredictor({ entries: { [kernelKey(relu(100))]: entry('Relu', 10), [kernelKey(relu(10000))]: entry('Relu', 100) } });
  t.deepEqual(p.kernel(relu(100)), { us: 10, how: 'exact' });
  const mid = p.kernel(relu(1000));
  t.is(mid.how, 'interpolated');
  t.is(mid.basis, 'Relu');
  close(mid.us, Math.sqrt(10 * 100), 'halfway in log work is the geometric mean');
  close(p.kernel(relu(1e6)).us, 1000, 'beyond the table along the slope (0.5)');
  // unknown op: time = b + a · elements, fitted over the element-wise entries
  const a = 90 / 9900;
  const fb = p.kernel({ op: 'NeverSeen', inputs: [{ dtype: 'float', dims: [1000] }], outputs: [{ dtype: 'float', dims: [1000] }] });
  t.is(fb.how, 'fallback');
  close(fb.us, 10 - 100 * a + 1000 * a, 'elementwise fit');

  // steep growth (slope 2) is clamped to slope 1.2: the line goes through the neighbours'
  // closeness-weighted centre (weights 1 / (d² + 0.25), d = distance of log2 shape features)
  const steep = new OpPredictor({ entries: { [kernelKey(relu(100))]: entry('Relu', 10), [kernelKey(relu(1000))]: entry('Relu', 1000) } });
  const clamped = (n: number) => {
    const pts = [[100, 10], [1000, 1000]].map(([w, us]) => ({ x: Math.log(w), y: Math.log(us), d: Math.SQRT2 * Math.abs(Math.log2(w) - Math.log2(n)) }));
    const ws = pts.map((q) => 1 / (q.d * q.d + 0.25));
    const sw = ws[0] + ws[1];
    const xm = (ws[0] * pts[0].x + ws[1] * pts[1].x) / sw;
    const ym = (ws[0] * pts[0].y + ws[1] * pts[1].y) / sw;
    return Math.exp(ym + 1.2 * (Math.log(n) - xm));
  };
  close(steep.kernel(relu(10000)).us, clamped(10000), 'clamped slope beyond the table');
  close(steep.kernel(relu(316)).us, clamped(316), 'clamped slope inside it');
  t.true(steep.kernel(relu(10000)).us < 1000 * 10 ** 1.2 * 1.01, 'grows at most 10^1.2 per decade beyond the last entry');

  // convs: work is MACs, and a 3x3 conv is interpolated among 3x3 convs, not 1x1 ones
  const c = new OpPredictor({
    entries: {
      [kernelKey(conv(16, 3, 32))]: entry('Conv.nchwc', 100),
      [kernelKey(conv(64, 3, 32))]: entry('Conv.nchwc', 1600),
      [kernelKey(conv(32, 1, 32))]: entry('Conv.nchwc', 1),
    },
  });
  t.is(describeKernel(conv(32, 3, 32)).work, 32 * 32 * 32 * 32 * 9);
  const c3 = c.kernel(conv(32, 3, 32));
  t.is(c3.basis, 'Conv.nchwc|k3x3|s1|dense');
  close(c3.us, 400, 'MACs x4 between 100 and 1600 µs at slope 1');
});

test('calibration: a line through kernel sums, refitted through 0 when b would be negative', (t) => {
  const m = (sumMs: number, measuredMs: number) => ({ kernelSumUs: sumMs * 1000, measuredMs });
  const c = fitCalibration([m(1, 1.5), m(2, 2.6), m(4, 4.8), m(8, 9.2)]);
  t.true(Math.abs(c.a - 1.1) < 1e-9 && Math.abs(c.b - 0.4) < 1e-9, JSON.stringify(c));
  t.true(c.rmspe < 1e-9);
  const d = fitCalibration([m(1, 0.5), m(10, 9.5)]);
  t.is(d.b, 0);
  t.true(d.a > 0);
});

test('an op LUT predicts a foreign model (not built by snc) with every kernel accounted for', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'snc-oplut-'));
  const out = join(dir, 'ops.json');
  const lut = await buildOpLut(cpu, { out, zoo: { ...SMALL_ZOO, transformer: 1 }, runs: 2, warmup: 1, group: 4 });
  t.true(lut.complete);
  t.is(lut.models.length, 4);
  t.deepEqual(readOpLut(out).entries, lut.entries);
  t.truthy(lut.calibration);
  const p = await predictModel(lut, new Uint8Array(readFileSync(foreignCnn)), foreignCnn);
  t.true(p.predictedMs > 0 && Number.isFinite(p.predictedMs));
  t.is(p.exact + p.interpolated + p.fallback, p.kernels);
  t.is(p.detail.reduce((s, k) => s + k.calls, 0), p.kernels);
  t.true(p.kernels >= 20, `${p.kernels} kernels`);
  for (const k of p.detail) t.true(k.us > 0, k.key);
  t.is(Object.values(p.byOp).reduce((s, o) => s + o.kernels, 0), p.kernels);

  // the CLI reads it back; a block LUT is refused for --model and vice versa
  const cliOut = spawnSync(process.execPath, [cli, 'predict', '--lut', out, '--model', foreignCnn, '--json'], { encoding: 'utf8' });
  t.is(cliOut.status, 0, cliOut.stderr);
  const j = JSON.parse(cliOut.stdout);
  t.is(j.predictions.length, 1);
  t.is(j.predictions[0].kernels, p.kernels);
  t.true(j.predictions[0].predictedMs > 0);

  const blocks = join(dir, 'blocks.json');
  writeFileSync(blocks, JSON.stringify({ format: 'snc-lut', version: 1, device: cpu, supernet: { name: 'nano', familyHash: '0' }, entries: {} }));
  const r1 = spawnSync(process.execPath, [cli, 'predict', '--lut', blocks, '--model', foreignCnn], { encoding: 'utf8' });
  t.is(r1.status, 2);
  t.regex(r1.stderr, /block LUT.*--model needs an op-level LUT.*snc lut ops/);
  const r2 = spawnSync(process.execPath, [cli, 'predict', '--lut', out, '--supernet', 'nano'], { encoding: 'utf8' });
  t.is(r2.status, 2);
  t.regex(r2.stderr, /op-level LUT.*--supernet needs a block LUT/);
  const r3 = spawnSync(process.execPath, [cli, 'predict', '--lut', out], { encoding: 'utf8' });
  t.is(r3.status, 2);
  t.regex(r3.stderr, /give --model/);
  t.throws(() => readLut(out), { instanceOf: SncError, message: /op-level LUT/ });
  t.throws(() => readOpLut(blocks), { instanceOf: SncError, message: /block LUT/ });
});

test('devices: GPU providers and multi-threaded wasm are refused by name; single-thread wasm profiles', async (t) => {
  t.throws(() => checkProfilable(loadDevice('ort-cuda')), { instanceOf: SncError, message: /ort-cuda.*cpu provider/ });
  t.throws(() => checkProfilable({ ...loadDevice('ort-wasm-1t'), name: 'wasm-4t', threads: 4 }), { instanceOf: SncError, message: /1 thread/ });
  const r = spawnSync(process.execPath, [cli, 'lut', 'ops', '--device', 'ort-webgpu'], { encoding: 'utf8' });
  t.is(r.status, 2);
  t.regex(r.stderr, /^snc: device ort-webgpu: .*cpu provider/);
  const m = opZoo({ ...SMALL_ZOO, cnn: 1, transformer: 0 })[0];
  const p = await profileModel(loadDevice('ort-wasm-1t'), m.build(), m.inputs, { warmup: 0, runs: 1 });
  t.true(p.kernels.length > 3);
  t.true(p.kernels.every((k) => k.samplesUs.length === 1));
});

export type { OpLut };
