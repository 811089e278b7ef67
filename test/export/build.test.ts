import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enumerateConfigs } from '../../src/detr/spec.js';
import { loadSupernet } from '../../src/detr/supernet.js';
import { SncError } from '../../src/errors.js';
import { EvalCache } from '../../src/eval/cache.js';
import { build } from '../../src/export/build.js';
import { parseConfig, resolveConfig } from '../../src/export/config.js';
import { writeBuildReports } from '../../src/export/report.js';
import { loadDevice } from '../../src/latency/device.js';
import { readLut } from '../../src/latency/lut.js';
import { decodeModel } from '../../src/onnx/reader.js';
import { LatencyPredictor } from '../../src/latency/predictor.js';
import { relabelForThisHost } from '../helpers/host-lut.js';
import { smallSupernet } from '../helpers/small-supernet.js';

const tmp = mkdtempSync(join(tmpdir(), 'snc-build-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));
const small = smallSupernet(join(tmp, 'net'));
small.luts.forEach(relabelForThisHost);
const net = loadSupernet(small.dir);
const predicted = (i: number) => enumerateConfigs(net.spec.knobs).map((c) => new LatencyPredictor(readLut(small.luts[i]), net.spec.architecture).predict(c));

function config(budgets: [number, number]) {
  const doc = {
    supernet: small.dir,
    data: { validation: { synth: { dir: 'val', images: 6, seed: 3, size: 96 } } },
    out: 'build',
    search: { exhaustive: true, workers: 1 },
    check: { references: 3 },
    devices: [
      { device: 'ort-cpu-1t', budgetMs: budgets[0], options: { lut: small.luts[0], measureSeconds: 0.2 } },
      { device: 'ort-cpu-2t', budgetMs: budgets[1], options: { lut: small.luts[1], measureSeconds: 0.2 } },
    ],
  };
  return resolveConfig(parseConfig(JSON.stringify(doc), join(tmp, 'snc.config.json')), join(tmp, 'snc.config.json'), tmp);
}
const run = (budgets: [number, number]) => build({ cfg: config(budgets), evalCache: new EvalCache(join(tmp, 'evals')) });
const ran = (r: Awaited<ReturnType<typeof run>>, d: number) => r.devices[d].steps.filter((s) => !s.cached).map((s) => s.name);

test.serial('a build writes a model and report per device; a second build runs no step; a new budget redoes only that device', async (t) => {
  const [p1, p2] = [predicted(0), predicted(1)];
  const r1 = await run([Math.max(...p1) + 1, Math.max(...p2) + 1]);
  t.deepEqual(ran(r1, 0), ['search', 'choose', 'export', 'measure']);
  t.deepEqual(ran(r1, 1), ['search', 'choose', 'export', 'measure']);
  const files = writeBuildReports(r1);
  for (const d of ['ort-cpu-1t', 'ort-cpu-2t']) {
    t.true(existsSync(join(tmp, 'build', d, 'model.onnx')), d);
    const rep = JSON.parse(readFileSync(join(tmp, 'build', d, 'report.json'), 'utf8'));
    t.like(rep, { format: 'snc-build-device', name: d, precision: 'fp32', lut: { source: 'config' } });
    t.true(rep.chosen.predictedMs <= rep.budgetMs);
    t.true(rep.measurement.measuredMs > 0 && rep.measurement.factor > 0);
    t.is(rep.search.evaluated.length, 8);
  }
  t.regex(readFileSync(files.html, 'utf8'), /<svg /);
  t.regex(readFileSync(files.markdown, 'utf8'), /\| ort-cpu-1t \| /);

  const r2 = await run([Math.max(...p1) + 1, Math.max(...p2) + 1]);
  t.deepEqual(ran(r2, 0), []);
  t.deepEqual(ran(r2, 1), []);
  t.deepEqual(r2.devices[0].choice, r1.devices[0].choice);

  // only the fastest subnet fits the new budget of ort-cpu-2t: its choice, export and measurement are redone
  const r3 = await run([Math.max(...p1) + 1, Math.min(...p2) + 0.001]);
  t.deepEqual(ran(r3, 0), []);
  t.deepEqual(ran(r3, 1), ['choose', 'export', 'measure']);
  t.is(r3.devices[1].choice!.predictedMs, Math.min(...p2));
});

test.serial('an impossible budget names the fastest subnet and its latency before any search', async (t) => {
  const e = await t.throwsAsync(run([0.5, 100]), { instanceOf: SncError });
  t.regex(e!.message, /devices\[0\]\.budgetMs 0\.5 is impossible on ort-cpu-1t: the fastest subnet, res=160,patch=16,windows=2,layers=1,queries=30, is predicted at \d+\.\d\d ms/);
});

test.serial('an int8 device is quantized after the export: model.onnx is int8 QDQ, the float model beside it, AP before and after in the report', async (t) => {
  // the float LUT relabelled as the int8 device's: the step logic, not its figures, is under test
  const lut = JSON.parse(readFileSync(small.luts[0], 'utf8'));
  lut.device = loadDevice('ort-cpu-1t-int8');
  const lutPath = join(tmp, 'ort-cpu-1t-int8.json');
  writeFileSync(lutPath, JSON.stringify(lut));
  relabelForThisHost(lutPath);
  const doc = {
    supernet: small.dir,
    data: { validation: { synth: { dir: 'val', images: 6, seed: 3, size: 96 } }, calibration: { synth: { dir: 'calib', images: 4, seed: 4, size: 96 } } },
    out: 'build-q',
    search: { exhaustive: true, workers: 1 },
    check: { references: 3 },
    devices: [
      { device: 'ort-cpu-1t-int8', budgetMs: 1000, precision: 'int8', options: { lut: lutPath, measureSeconds: 0.2 } },
      { device: 'ort-cpu-1t', name: 'cpu-nupes4', budgetMs: 1000, precision: 'nupes4', options: { lut: small.luts[0], measureSeconds: 0.2 } },
    ],
  };
  const cfg = resolveConfig(parseConfig(JSON.stringify(doc), join(tmp, 'q.json')), join(tmp, 'q.json'), tmp);
  const r = await build({ cfg, evalCache: new EvalCache(join(tmp, 'evals')) });
  t.deepEqual(ran(r, 0), ['search', 'choose', 'export', 'quantize', 'measure']);
  t.deepEqual(ran(r, 1), ['search', 'choose', 'export', 'quantize', 'measure']);
  writeBuildReports(r);
  const ops = (p: string) => decodeModel(readFileSync(p)).graph.nodes.map((n) => n.opType);
  for (const [name, precision] of [['ort-cpu-1t-int8', 'int8'], ['cpu-nupes4', 'nupes4']]) {
    const dir = join(tmp, 'build-q', name);
    const rep = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    t.like(rep, { precision, model: { precision, file: `${name}/model.onnx` }, quantization: { precision, calibrationImages: 4, ap: { images: 6 } } });
    t.true(rep.quantization.layersQuantized > 0);
    t.true(rep.quantization.bytes.quantized < rep.quantization.bytes.float, `${name}: the quantized file is smaller`);
    t.true(existsSync(join(dir, 'model.float.onnx')));
    t.false(ops(join(dir, 'model.float.onnx')).includes('DequantizeLinear'));
    t.true(rep.measurement.measuredMs > 0);
  }
  t.true(ops(join(tmp, 'build-q', 'ort-cpu-1t-int8', 'model.onnx')).includes('QuantizeLinear'), 'int8 QDQ activations');
  const html = readFileSync(join(tmp, 'build-q', 'report.html'), 'utf8');
  t.is(html.match(/<table class="quantization">/g)!.length, 2);

  // nothing changed: nothing runs; another range method redoes only that device's quantization
  t.deepEqual(ran(await build({ cfg, evalCache: new EvalCache(join(tmp, 'evals')) }), 0), []);
  (doc.devices[0].options as Record<string, unknown>).ranges = 'minmax';
  const cfg2 = resolveConfig(parseConfig(JSON.stringify(doc), join(tmp, 'q.json')), join(tmp, 'q.json'), tmp);
  const r2 = await build({ cfg: cfg2, evalCache: new EvalCache(join(tmp, 'evals')) });
  t.deepEqual(ran(r2, 0), ['quantize', 'measure']);
  t.deepEqual(ran(r2, 1), []);
});
