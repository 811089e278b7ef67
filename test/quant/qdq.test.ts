import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { synthesize } from '../../src/data/synth.js';
import { buildSubnet } from '../../src/detr/model.js';
import { parseConfig, validateConfig } from '../../src/detr/spec.js';
import { loadSupernet } from '../../src/detr/supernet.js';
import { SncError } from '../../src/errors.js';
import { loadDevice } from '../../src/latency/device.js';
import { profileModel } from '../../src/latency/kernel-profile.js';
import { subnetInputs } from '../../src/latency/model-inputs.js';
import { decodeModel } from '../../src/onnx/reader.js';
import { encodeModel } from '../../src/onnx/writer.js';
import { calibrationSet } from '../../src/quant/calibrate.js';
import { readModelInfo } from '../../src/quant/model-info.js';
import { nupesNames } from '../../src/quant/nupes-graph.js';
import { quantizeModel } from '../../src/quant/quantize.js';
import { formatFor } from '../../src/quant/qdq.js';
import { selectTargets } from '../../src/quant/select.js';

const tmp = mkdtempSync(join(tmpdir(), 'snc-qdq-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));
const calib = join(tmp, 'calib');
const ready = synthesize({ out: calib, images: 3, seed: 5, size: 96 });
const net = loadSupernet('shapes-tiny');
const config = validateConfig(net.spec.knobs, parseConfig('res=160,windows=1,layers=1,queries=30', net.spec.default));
const model = buildSubnet(net, config);

test('selection: heads, reference points and offset projections stay float; exclusions by op, layer and glob', (t) => {
  const sel = selectTargets(model.graph);
  const float = sel.float.map((f) => f.layer);
  for (const l of ['decoder.layers.0.cross_attn.offsets_weights', 'two_stage.class_head', 'decoder.class_head', 'decoder.ref_point_head.layers.0', 'two_stage.bbox_head.layers.2'])
    t.true(float.includes(l), `${l} float`);
  const layers = sel.targets.map((x) => x.layer);
  for (const l of ['backbone.patch_embed', 'backbone.blocks.0.mlp.fc1', 'decoder.layers.0.cross_attn.value_proj', 'projector.linear']) t.true(layers.includes(l), `${l} quantized`);
  t.false(sel.targets.some((x) => ['LayerNormalization', 'Softmax', 'GridSample'].includes(x.node.opType)));
  // a GELU's input (fc1 + bias, read by its Div and its Mul) stays float; fc2's output is quantized
  const fc1 = sel.targets.find((x) => x.layer === 'backbone.blocks.0.mlp.fc1')!;
  t.is(fc1.floatBias?.opType, 'Add');
  t.false(fc1.quantizeOutput);
  t.deepEqual(sel.targets.filter((x) => x.floatBias).map((x) => x.layer), sel.targets.filter((x) => x.layer.endsWith('.mlp.fc1')).map((x) => x.layer));
  t.true(sel.targets.find((x) => x.layer === 'backbone.blocks.0.mlp.fc2')!.quantizeOutput);
  t.false(selectTargets(model.graph, { exclude: ['Conv'] }).targets.some((x) => x.node.opType === 'Conv'));
  const ex = selectTargets(model.graph, { exclude: ['backbone.blocks.0.mlp.fc1', 'backbone.blocks.1.*'] });
  t.false(ex.targets.some((x) => x.layer === 'backbone.blocks.0.mlp.fc1' || x.layer.startsWith('backbone.blocks.1.')));
  t.true(ex.float.some((f) => f.why === '--exclude backbone.blocks.1.*'));
  const e = t.throws(() => selectTargets(model.graph, { exclude: ['backbone.blocks.99.mlp'] }), { instanceOf: SncError });
  t.regex(e!.message, /--exclude "backbone\.blocks\.99\.mlp" names no node.*MatMul/);
});

async function optimizedOps(bytes: Uint8Array): Promise<{ ops: Map<string, number>; floatWithDqWeight: string[] }> {
  const file = join(tmp, `opt-${Math.random().toString(36).slice(2)}.onnx`);
  const s = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', optimizedModelFilePath: file, intraOpNumThreads: 1, logSeverityLevel: 3 });
  await s.release();
  const g = decodeModel(readFileSync(file)).graph;
  const prod = new Map(g.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  const ops = new Map<string, number>();
  for (const n of g.nodes) ops.set(n.opType, (ops.get(n.opType) ?? 0) + 1);
  // a float MatMul/Gemm/Conv that still reads a DequantizeLinear'd weight was not fused
  const floatWithDqWeight = g.nodes.filter((n) => ['MatMul', 'Gemm', 'Conv', 'FusedMatMul'].includes(n.opType) && prod.get(n.inputs[1])?.opType === 'DequantizeLinear').map((n) => n.name);
  return { ops, floatWithDqWeight };
}

for (const format of ['u8s8', 's8s8'] as const) {
  test(`int8 QDQ (${format}): runs in onnxruntime, every quantized layer fuses into an integer kernel, layers keep their SQNR`, async (t) => {
    await ready;
    const set = calibrationSet(calib, { resolution: 160, preprocess: net.spec.preprocess }, 2);
    const r = await quantizeModel(model, set, { ranges: 'minmax', weights: 'int8', perChannel: true, format, sqnrImages: 1 });
    const bytes = encodeModel(r.model);
    t.true(bytes.length < 0.45 * encodeModel(model).length);
    const info = readModelInfo(bytes, 'q');
    t.is(info.resolution, 160);
    t.like(info.quant, { weights: 'int8', format, ranges: 'minmax', perChannel: true });
    const { ops, floatWithDqWeight } = await optimizedOps(bytes);
    t.deepEqual(floatWithDqWeight, []);
    // every Conv (the stem's and the patch embedding) an integer conv, the other layers integer products
    const convs = model.graph.nodes.filter((n) => n.opType === 'Conv').length;
    t.true(convs >= 1);
    t.is(ops.get('QLinearConv'), convs);
    t.true((ops.get('QGemm') ?? 0) + (ops.get('MatMulIntegerToFloat') ?? 0) + (ops.get('QLinearMatMul') ?? 0) >= r.layers.length - convs, JSON.stringify([...ops]));
    // every GELU fused into onnxruntime's Gelu (its input is float; see Target.floatBias)
    const mlps = model.graph.nodes.filter((n) => n.opType === 'Erf').length;
    t.true(mlps >= 1);
    t.is(ops.get('Gelu'), mlps, JSON.stringify([...ops]));
    t.false(ops.has('Erf'));
    for (const l of r.layers) t.true(l.outputSqnrDb! > 15, `${l.layer} ${l.outputSqnrDb}`);
    for (const l of r.layers.filter((x) => x.weightSqnrDb !== undefined)) t.true(l.weightSqnrDb! > 25, `${l.layer} weight ${l.weightSqnrDb}`);
    t.true(Number.isFinite(r.outputs.logits));
    if (format === formatFor('onnxruntime-web').format) {
      // onnxruntime-web (WebAssembly) fuses the same way: its profiler names the integer kernels
      const p = await profileModel(loadDevice('ort-wasm-1t'), bytes, subnetInputs(config), { warmup: 0, runs: 1 });
      const kernels = new Set(p.kernels.map((k) => k.op));
      for (const op of ['QGemm', 'QLinearConv', 'MatMulIntegerToFloat', 'QLinearMatMul']) t.true(kernels.has(op), `wasm runs ${op}: ${[...kernels].join(', ')}`);
    }
  });
}

test('NUPES 4-bit model: a fifth of the float file or less, decoded at load', async (t) => {
  await ready;
  const set = calibrationSet(calib, { resolution: 160, preprocess: net.spec.preprocess }, 1);
  const r = await quantizeModel(model, set, { ranges: 'minmax', weights: 'nupes4', perChannel: true, format: 'u8s8', sqnrImages: 1 });
  const bytes = encodeModel(r.model);
  t.true(bytes.length <= 0.2 * encodeModel(model).length, `${bytes.length}`);
  const { ops } = await optimizedOps(bytes);
  for (const op of ['Mod', 'Pow', 'Cast']) t.false(ops.has(op), `${op} left: the decode was not folded`);
  for (const l of r.layers) {
    t.is(l.bits, 4);
    t.true(l.exponent! > 0.2 && l.exponent! < 1.3);
    t.true(l.outputSqnrDb! > 8, `${l.layer} ${l.outputSqnrDb}`);
  }
});

test('NUPES: the position table, added to the tokens, is stored as 8-bit codes too; nothing else large stays float', async (t) => {
  await ready;
  const c8 = validateConfig(net.spec.knobs, parseConfig('res=160,patch=8,windows=1,layers=1,queries=30', net.spec.default));
  const m8 = buildSubnet(net, c8);
  const set = calibrationSet(calib, { resolution: 160, preprocess: net.spec.preprocess }, 1);
  const r = await quantizeModel(m8, set, { ranges: 'minmax', weights: 'nupes4', perChannel: true, format: 'u8s8', sqnrImages: 0 });
  const tables = r.layers.filter((l) => l.op === 'Add');
  t.is(tables.length, 1, JSON.stringify(tables));
  t.regex(tables[0].layer, /pos_embed/);
  t.is(tables[0].bits, 8);
  t.true(tables[0].weightSqnrDb! > 35, `${tables[0].weightSqnrDb}`);
  const g = r.model.graph;
  t.false(g.initializers.has(tables[0].layer));
  t.is(g.initializers.get(nupesNames(tables[0].layer).codes)!.dtype, 'uint8');
  const bigFloat = [...g.initializers].filter(([, v]) => v.dtype === 'float32' && v.data.length >= 16384).map(([k]) => k);
  t.deepEqual(bigFloat, []);
  const bytes = encodeModel(r.model);
  t.true(bytes.length <= 0.2 * encodeModel(m8).length, `${bytes.length}`);
  const { ops } = await optimizedOps(bytes);
  for (const op of ['Mod', 'Pow', 'Cast']) t.false(ops.has(op), `${op} left: the decode was not folded`);
});
