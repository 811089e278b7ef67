import test from 'ava';
import { buildBlock, buildSubnet, fullPlan, planSubnet } from '../../src/detr/model.js';
import { configKey, enumerateConfigs, type SubnetConfig } from '../../src/detr/spec.js';
import { loadSupernet } from '../../src/detr/supernet.js';
import { Rng, Weights, seededWeights } from '../../src/detr/weights.js';
import { PRESETS } from '../../src/detr/presets.js';
import { encodeModel } from '../../src/onnx/writer.js';
import { decodeModel } from '../../src/onnx/reader.js';
import { SncError } from '../../src/errors.js';
import { runOnnx, testImage } from '../helpers/ort.js';

const tiny = loadSupernet('shapes-tiny');

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function runConfig(net: typeof tiny, c: SubnetConfig, opts = {}) {
  const bytes = encodeModel(buildSubnet(net, c, opts));
  return runOnnx(bytes, { image: { dims: [1, 3, c.resolution, c.resolution], data: testImage(c.resolution) } });
}

function checkOutputs(t: import('ava').ExecutionContext, out: Awaited<ReturnType<typeof runConfig>>, c: SubnetConfig, K: number) {
  t.deepEqual(out.boxes.dims, [1, c.queries, 4], configKey(c));
  t.deepEqual(out.logits.dims, [1, c.queries, K], configKey(c));
  t.true(out.boxes.data.every((v) => v >= 0 && v <= 1), `${configKey(c)}: boxes in [0,1]`);
  t.true(out.logits.data.every(Number.isFinite), `${configKey(c)}: finite logits`);
}

test('every valid shapes-tiny config exports and runs with the expected output shapes', async (t) => {
  const configs = enumerateConfigs(tiny.spec.knobs);
  t.is(configs.length, 108);
  for (const c of configs) checkOutputs(t, await runConfig(tiny, c), c, tiny.spec.architecture.numClasses);
});

test('20 sampled nano configs export and run with the expected output shapes', async (t) => {
  const nano = loadSupernet('nano');
  const all = enumerateConfigs(nano.spec.knobs);
  const rng = new Rng(7);
  const picked = new Set<number>();
  while (picked.size < 20) picked.add(Math.floor(rng.next() * all.length));
  for (const i of picked) checkOutputs(t, await runConfig(nano, all[i]), all[i], nano.spec.architecture.numClasses);
});

test('export is byte-deterministic and records config, weights hash and version', (t) => {
  const c = tiny.spec.default;
  const a = encodeModel(buildSubnet(tiny, c));
  const b = encodeModel(buildSubnet(loadSupernet('shapes-tiny'), c));
  t.deepEqual(a, b);
  const meta = decodeModel(a).metadata;
  t.is(meta['snc.config'], configKey(c));
  t.is(meta['snc.weights_sha256'], tiny.weights.hash);
  t.is(meta['snc.version'], '0.1.0');
  t.is(decodeModel(a).opset, 17);
});

test('blocks emitted alone and chained give the whole model\'s outputs', async (t) => {
  const c: SubnetConfig = { resolution: 224, patch: 8, windows: 2, layers: 2, queries: 30 };
  const whole = await runConfig(tiny, c);
  const env = new Map<string, { dims: number[]; data: Float32Array }>();
  env.set('image', { dims: [1, 3, 224, 224], data: testImage(224) });
  const q = tiny.weights.get('query_feat.weight').data as Float32Array;
  env.set('tgt.0', { dims: [1, 30, 128], data: q.slice(0, 30 * 128) });
  const plan = fullPlan(tiny, c);
  t.deepEqual(plan.map((b) => b.kind).filter((k, i, a) => a.indexOf(k) === i), ['patch_embed', 'vit_block', 'projector', 'two_stage', 'decoder_layer', 'class_head']);
  for (const block of plan) {
    const feeds = Object.fromEntries(block.inputs.map((i) => [i.name, env.get(i.name)!]));
    const out = await runOnnx(encodeModel(buildBlock(tiny, c, block)), feeds);
    for (const o of block.outputs) {
      t.deepEqual([...out[o.name].dims], o.shape, `${block.name} ${o.name}`);
      env.set(o.name, { dims: o.shape, data: out[o.name].data });
    }
  }
  t.true(maxAbsDiff(env.get('ref.2')!.data, whole.boxes.data) < 1e-5);
  t.true(maxAbsDiff(env.get('logits.2')!.data, whole.logits.data) < 1e-4);
});

test('multi-exit: the depth-l exit of a deeper subnet equals the subnet with l layers', async (t) => {
  const deep: SubnetConfig = { resolution: 160, patch: 16, windows: 1, layers: 3, queries: 60 };
  const out = await runConfig(tiny, deep, { exits: true });
  t.deepEqual(Object.keys(out).sort(), ['boxes', 'boxes_0', 'boxes_1', 'boxes_2', 'boxes_3', 'logits', 'logits_0', 'logits_1', 'logits_2', 'logits_3']);
  t.deepEqual(out.boxes_3.data, out.boxes.data);
  const shallow = await runConfig(tiny, { ...deep, layers: 1 });
  t.true(maxAbsDiff(out.boxes_1.data, shallow.boxes.data) < 1e-6);
  t.true(maxAbsDiff(out.logits_1.data, shallow.logits.data) < 1e-5);
});

test('intermediate tensors can be exposed as extra outputs', async (t) => {
  const c = tiny.spec.default;
  const out = await runConfig(tiny, c, { extraOutputs: ['memory', 'tokens.3'] });
  const N = (c.resolution / c.patch) ** 2;
  t.deepEqual([...out['extra:memory'].dims], [1, N, 128]);
  t.deepEqual([...out['extra:tokens.3'].dims], [1, N, 128]);
  t.throws(() => buildSubnet(tiny, c, { extraOutputs: ['nope'] }), { message: /extra output 'nope' is not a block output; valid: image, tgt\.0, tokens\.0/ });
});

test('blocks of equal LUT key are the same computation on the same shapes', (t) => {
  const c: SubnetConfig = { resolution: 288, patch: 16, windows: 2, layers: 3, queries: 100 };
  const plan = planSubnet(tiny, c);
  const keys = plan.map((b) => b.key);
  t.is(keys.filter((k) => k.startsWith('vit_block') && k.endsWith('windows=2')).length, 4);
  t.is(keys.filter((k) => k.startsWith('vit_block') && k.endsWith('windows=1')).length, 2, 'the two global blocks');
  t.is(new Set(keys.filter((k) => k.startsWith('decoder_layer'))).size, 1);
});

test('weights are checked: a missing or mis-shaped tensor is named', (t) => {
  const a = PRESETS['shapes-tiny'].spec.architecture;
  const w = seededWeights(a, 3);
  w.delete('decoder.layers.1.norm2.bias');
  t.regex(t.throws(() => Weights.check(w, a, '', 'w.safetensors'), { instanceOf: SncError })!.message, /w\.safetensors: tensor 'decoder\.layers\.1\.norm2\.bias' is missing \(expected float32 \[128\]\)/);
  const w2 = seededWeights(a, 3);
  w2.set('backbone.pos_embed', { dtype: 'float32', dims: [1, 10, 128], data: new Float32Array(1280) });
  t.regex(t.throws(() => Weights.check(w2, a, '', 'w.safetensors'))!.message, /'backbone\.pos_embed' has shape \[1, 10, 128\], expected \[1, 256, 128\]/);
});
