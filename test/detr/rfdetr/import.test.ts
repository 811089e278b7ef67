/**
 * RF-DETR import: the fixture made by RF-DETR 1.4.1's own build_model (shared/fixtures/rfdetr-tiny,
 * its README says how) mapped onto snc's family, exported to ONNX and run in onnxruntime-node,
 * must give RF-DETR's eval-mode outputs on both fixture subnets.
 */
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBlock, buildSubnet, exitName, fullPlan } from '../../../src/detr/model.js';
import { blockCounts } from '../../../src/detr/keys.js';
import { rfdetrNameMap, supernetFromRfdetr, type RfdetrCheckpoint } from '../../../src/detr/rfdetr/import.js';
import { PRESETS } from '../../../src/detr/presets.js';
import { seededWeights } from '../../../src/detr/weights.js';
import { f32 } from '../../../src/onnx/tensor.js';
import { loadSupernetDir, writeSupernetDir, type Supernet } from '../../../src/detr/supernet.js';
import { Weights } from '../../../src/detr/weights.js';
import { encodeModel } from '../../../src/onnx/writer.js';
import { readSafetensors } from '../../../src/onnx/safetensors.js';
import type { Tensor } from '../../../src/onnx/tensor.js';
import { runOnnx } from '../../helpers/ort.js';
import { RFDETR_TINY, RFDETR_TINY_ARGS } from '../../helpers/rfdetr-tiny.js';

const BOX_TOL = 1e-4;
const LOGIT_TOL = 1e-3;

const fixture = (f: string) => join(RFDETR_TINY, f);

const ARGS = RFDETR_TINY_ARGS;
/** The README's ViT: hidden size 96 with 3 heads (not DINOv2's 64-wide heads, so it is given). */
const VIT_HEADS = 3;

const state = () => new Map(readSafetensors(fixture('rf-detr-tiny-random.safetensors')).tensors);
const ckpt = (over: Partial<RfdetrCheckpoint> = {}): RfdetrCheckpoint => ({ state: state(), args: { ...ARGS }, source: 'rf-detr-tiny-random.safetensors', ...over });

function asSupernet(ck: RfdetrCheckpoint): Supernet {
  const r = supernetFromRfdetr(ck, { vitHeads: VIT_HEADS });
  return { spec: r.spec, weights: Weights.check(r.weights, r.spec.architecture, 'test', ck.source), dir: '' };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = d; // NaN fails
  }
  return m;
}

const SUBNETS = [
  { file: 'io.safetensors', config: { resolution: 128, patch: 16, windows: 2, layers: 2, queries: 100 } },
  { file: 'io_res160_l1_q50.safetensors', config: { resolution: 160, patch: 16, windows: 2, layers: 1, queries: 50 } },
];

for (const { file, config } of SUBNETS) {
  test(`parity with RF-DETR 1.4.1 on ${file} (res ${config.resolution}, ${config.layers} layers, ${config.queries} queries)`, async (t) => {
    const net = asSupernet(ckpt());
    const io = readSafetensors(fixture(file)).tensors;
    const input = io.get('input')!;
    const out = await runOnnx(encodeModel(buildSubnet(net, config)), { image: { dims: [...input.dims], data: input.data as Float32Array } });
    const errs: Record<string, number> = {};
    for (const name of ['boxes', 'logits']) {
      const want = io.get(name)!;
      t.deepEqual([...out[name].dims], [...want.dims], `${name} shape`);
      errs[name] = maxAbsDiff(out[name].data, want.data as Float32Array);
    }
    t.log(`max abs error boxes ${errs.boxes.toExponential(2)}, logits ${errs.logits.toExponential(2)}`);
    t.true(errs.boxes <= BOX_TOL, `boxes: max abs error ${errs.boxes} > ${BOX_TOL}`);
    t.true(errs.logits <= LOGIT_TOL, `logits: max abs error ${errs.logits} > ${LOGIT_TOL}`);
  });
}

test('an RF-DETR subnet built block by block (as the LUT profiler does) gives the whole model', async (t) => {
  const net = asSupernet(ckpt());
  const c = { resolution: 160, patch: 16, windows: 2, layers: 2, queries: 50 };
  const io = readSafetensors(fixture('io_res160_l1_q50.safetensors')).tensors;
  const image = { dims: [1, 3, 160, 160], data: io.get('input')!.data as Float32Array };
  const whole = await runOnnx(encodeModel(buildSubnet(net, c)), { image });
  const env = new Map<string, { dims: number[]; data: Float32Array }>([['image', image]]);
  const q = net.weights.get('query_feat.weight').data as Float32Array;
  env.set('tgt.0', { dims: [1, 50, 64], data: q.slice(0, 50 * 64) });
  const plan = fullPlan(net, c);
  t.deepEqual([...new Set(plan.map((b) => b.kind))], ['patch_embed', 'vit_block', 'projector', 'two_stage', 'query_pos', 'decoder_layer', 'class_head']);
  // the plan's blocks are the LUT's: every key with its count
  const counts = new Map<string, number>();
  for (const b of plan) counts.set(b.key, (counts.get(b.key) ?? 0) + 1);
  const lut = blockCounts(net.spec.architecture, c);
  for (const [k, n] of counts) t.is(lut.get(k), n, k);
  t.true([...plan.map((b) => b.key)].some((k) => k.includes(',cls=4')), 'ViT block keys count the CLS tokens');
  for (const block of plan) {
    const feeds = Object.fromEntries(block.inputs.map((i) => [i.name, env.get(i.name)!]));
    const out = await runOnnx(encodeModel(buildBlock(net, c, block)), feeds);
    for (const o of block.outputs) {
      t.deepEqual([...out[o.name].dims], o.shape, `${block.name} ${o.name}`);
      env.set(o.name, { dims: o.shape, data: out[o.name].data });
    }
  }
  t.true(maxAbsDiff(env.get('boxes.2')!.data, whole.boxes.data) < 1e-5);
  t.true(maxAbsDiff(env.get('logits.2')!.data, whole.logits.data) < 1e-4);
});

test('RF-DETR exits and query branches equal the subnets they stand for', async (t) => {
  const net = asSupernet(ckpt());
  const c = { resolution: 160, patch: 16, windows: 2, layers: 2, queries: 100 };
  const input = readSafetensors(fixture('io_res160_l1_q50.safetensors')).tensors.get('input')!;
  const run = (cfg: typeof c, opts = {}) => runOnnx(encodeModel(buildSubnet(net, cfg, opts)), { image: { dims: [...input.dims], data: input.data as Float32Array } });
  const all = await run(c, { exits: true, queries: [50, 100] });
  const one = await run({ ...c, layers: 1, queries: 50 });
  t.true(maxAbsDiff(all[exitName('boxes', 50, 1)].data, one.boxes.data) < 1e-6);
  t.true(maxAbsDiff(all[exitName('logits', 50, 1)].data, one.logits.data) < 1e-5);
  t.deepEqual(all.boxes_2.data, all.boxes.data);
  // depth 0: the selected proposals, min(Q, N) of them (N = 64 at res 128)
  t.deepEqual([...all.boxes_0.dims], [1, 100, 4]);
  const small = readSafetensors(fixture('io.safetensors')).tensors.get('input')!;
  const at128 = await runOnnx(encodeModel(buildSubnet(net, { ...c, resolution: 128 }, { exits: true })), { image: { dims: [...small.dims], data: small.data as Float32Array } });
  t.deepEqual([...at128.boxes_0.dims], [1, 64, 4]);
  t.deepEqual([...at128.logits_0.dims], [1, 64, 91]);
  t.deepEqual([...at128.boxes.dims], [1, 100, 4]);
});

test('the import reads the architecture and keeps group 0', (t) => {
  const r = supernetFromRfdetr(ckpt(), { vitHeads: VIT_HEADS });
  const a = r.spec.architecture;
  t.like(a.backbone, { width: 96, depth: 4, heads: 3, storedPatch: 16, posGrid: 8, tapBlocks: [1, 3], globalBlocks: [2], clsToken: true, posResize: 'bicubic-antialias' });
  t.like(a.decoder, { width: 64, heads: 4, selfAttnHeads: 2, points: 2, ffn: 128, maxLayers: 2, maxQueries: 100, finalNorm: true, refPoints: 'fixed', queryPos: 'sine', refpointEmbed: true });
  t.deepEqual(a.projector, { type: 'c2f', bottlenecks: 3, eps: 1e-6 });
  t.is(a.numClasses, 91);
  t.is(a.boxEncoding, 'reparam');
  t.deepEqual(r.spec.default, { resolution: 128, patch: 16, windows: 2, layers: 2, queries: 100 });
  t.deepEqual(r.spec.knobs, { resolution: [128, 160], patch: [12, 16, 20], windows: [1, 2, 4], layers: [1, 2], queries: [25, 50, 75, 100] });
  t.deepEqual(r.spec.untrained, { patch: [12, 20], windows: [1, 4] });
  t.is(r.spec.classes[1], 'person');
  t.is(r.spec.classes[90], 'toothbrush');
  t.deepEqual(r.weights.get('refpoint_embed.weight')!.dims, [100, 4]);
  t.deepEqual(r.weights.get('query_feat.weight')!.dims, [100, 64]);
  // group 0 of the two-stage heads, not another group's
  const src = state();
  t.deepEqual(r.weights.get('two_stage.class_head.weight')!.data, src.get('transformer.enc_out_class_embed.0.weight')!.data);
  t.notDeepEqual(r.weights.get('two_stage.class_head.weight')!.data, src.get('transformer.enc_out_class_embed.1.weight')!.data);
  t.true(r.notes.some((n) => n.includes('group 0 of 3')));
});

test('class names come from args.class_names at RF-DETR ids 1..n', (t) => {
  const r = supernetFromRfdetr(ckpt({ args: { ...ARGS, class_names: ['cat', 'dog'] } }), { vitHeads: VIT_HEADS });
  t.is(r.spec.classes.length, 91);
  t.deepEqual(r.spec.classes.slice(0, 4), ['unused-0', 'cat', 'dog', 'unused-3']);
});

test('a segmentation head is ignored with a note', (t) => {
  const s = state();
  s.set('segmentation_head.blocks.0.weight', s.get('class_embed.bias')!);
  const r = supernetFromRfdetr(ckpt({ state: s }), { vitHeads: VIT_HEADS });
  t.true(r.notes.some((n) => n.includes('segmentation head')));
});

const fails = (t: import('ava').ExecutionContext, fn: () => unknown, re: RegExp) => {
  const e = t.throws(fn);
  t.is(e?.name, 'SncError');
  t.regex(e?.message ?? '', re);
  t.false((e?.message ?? '').includes('\n'), 'one line');
};

test('missing, extra and mis-shaped tensors are refused by name', (t) => {
  const missing = state();
  missing.delete('transformer.decoder.layers.1.linear2.bias');
  fails(t, () => supernetFromRfdetr(ckpt({ state: missing }), { vitHeads: VIT_HEADS }), /tensor 'transformer\.decoder\.layers\.1\.linear2\.bias' is missing/);
  const extra = state();
  extra.set('transformer.decoder.layers.0.extra_proj.weight', extra.get('class_embed.bias')!);
  fails(t, () => supernetFromRfdetr(ckpt({ state: extra }), { vitHeads: VIT_HEADS }), /1 tensor that .* does not have, first 'transformer\.decoder\.layers\.0\.extra_proj\.weight'/);
  const shaped = state();
  const b = shaped.get('bbox_embed.layers.2.bias')!;
  shaped.set('bbox_embed.layers.2.bias', { ...b, dims: [2, 2] } as Tensor);
  fails(t, () => supernetFromRfdetr(ckpt({ state: shaped }), { vitHeads: VIT_HEADS }), /'bbox_embed\.layers\.2\.bias' gives shape \[2, 2\] for decoder\.bbox_head\.layers\.2\.bias, expected \[4\]/);
});

test('an architecture snc does not run is refused, naming the setting', (t) => {
  fails(t, () => supernetFromRfdetr(ckpt({ args: { ...ARGS, bbox_reparam: false } }), { vitHeads: VIT_HEADS }), /unknown architecture: bbox_reparam is off/);
  fails(t, () => supernetFromRfdetr(ckpt({ args: { ...ARGS, projector_scale: ['P3', 'P5'] } }), { vitHeads: VIT_HEADS }), /unknown architecture: projector_scale \["P3","P5"\]/);
  fails(t, () => supernetFromRfdetr(ckpt({ args: { ...ARGS, encoder: 'dinov2_registers_windowed_small' } }), { vitHeads: VIT_HEADS }), /unknown architecture: encoder 'dinov2_registers_windowed_small'/);
  const s = new Map([['model.weight', state().get('class_embed.bias')!]]);
  fails(t, () => supernetFromRfdetr(ckpt({ state: s }), { vitHeads: VIT_HEADS }), /unknown architecture: no query_feat\.weight/);
});

test('without args the variant is needed; the ViT head count is needed off DINOv2 widths', (t) => {
  fails(t, () => supernetFromRfdetr(ckpt({ args: undefined })), /holds no RF-DETR args.*name the variant \(nano, small, medium, base or large\)/);
  fails(t, () => supernetFromRfdetr(ckpt({ args: undefined }), { variant: 'tiny' as never }), /unknown variant 'tiny'; valid variants are nano, small, medium, base or large/);
  fails(t, () => supernetFromRfdetr(ckpt()), /cannot tell the ViT head count: width 96/);
});

test('writeSupernetDir writes a loadable folder whole and keeps an existing one without force', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'snc-rfdetr-'));
  try {
    const r = supernetFromRfdetr(ckpt(), { vitHeads: VIT_HEADS });
    const out = join(dir, 'net');
    writeSupernetDir(out, r.spec, r.weights);
    const net = loadSupernetDir(out);
    t.deepEqual(net.spec, r.spec);
    const before = readFileSync(join(out, 'supernet.json'), 'utf8');
    const e = t.throws(() => writeSupernetDir(out, { ...r.spec, name: 'other' }, r.weights));
    t.regex(e?.message ?? '', /already exists; pass --force to replace it/);
    t.is(readFileSync(join(out, 'supernet.json'), 'utf8'), before);
    writeSupernetDir(out, { ...r.spec, name: 'other' }, r.weights, { force: true });
    t.is(loadSupernetDir(out).spec.name, 'other');
    // a failing write (a tensor missing) leaves nothing behind
    const partial = new Map(r.weights);
    partial.delete('decoder.norm.weight');
    t.throws(() => writeSupernetDir(join(dir, 'bad'), r.spec, partial), { message: /decoder\.norm\.weight' is missing/ });
    t.false(existsSync(join(dir, 'bad')));
    t.deepEqual(readdirSync(dir).sort(), ['net']);
    writeFileSync(join(dir, 'marker'), '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * An RF-DETR state dict at Nano's shapes, made from the nano preset's seeded weights by the
 * inverse of the name map: 13 groups (group 0 the preset's), q/k/v and in_proj as RF-DETR keeps them.
 */
function nanoStateDict(): Map<string, Tensor> {
  const a = PRESETS.nano.spec.architecture;
  const w = seededWeights(a, 5);
  const out = new Map<string, Tensor>();
  const groups = 13;
  for (const [name, src] of rfdetrNameMap(a)) {
    const t = w.get(name)!;
    if (src.from.length === 3) {
      // q, k, v thirds of the fused qkv
      const third = t.data.length / 3;
      src.from.forEach((n, k) => out.set(n, f32([t.dims[0] / 3, ...t.dims.slice(1)], (t.data as Float32Array).slice(k * third, (k + 1) * third))));
    } else if (/in_proj_(weight|bias)$/.test(src.from[0])) {
      const prev = out.get(src.from[0]);
      if (!prev) out.set(src.from[0], t);
      else {
        const data = new Float32Array(prev.data.length + t.data.length);
        data.set(prev.data as Float32Array);
        data.set(t.data as Float32Array, prev.data.length);
        out.set(src.from[0], f32([prev.dims[0] + t.dims[0], ...t.dims.slice(1)], data));
      }
    } else if (name === 'query_feat.weight' || name === 'refpoint_embed.weight') {
      const data = new Float32Array(t.data.length * groups);
      for (let g = 0; g < groups; g++) data.set(t.data as Float32Array, g * t.data.length);
      out.set(src.from[0], f32([t.dims[0] * groups, t.dims[1]], data));
    } else out.set(src.from[0], t);
  }
  for (const [n, t] of [...out]) {
    const m = /^transformer\.(enc_output|enc_output_norm|enc_out_class_embed|enc_out_bbox_embed)\.0\.(.*)$/.exec(n);
    if (m) for (let g = 1; g < groups; g++) out.set(`transformer.${m[1]}.${g}.${m[2]}`, t);
  }
  out.set('backbone.0.encoder.encoder.embeddings.mask_token', f32([1, 384], new Float32Array(384)));
  return out;
}

test('a Nano-sized RF-DETR state dict imports (variant nano, no args) to the nano preset\'s architecture and weights', (t) => {
  const state = nanoStateDict();
  const t0 = performance.now();
  const r = supernetFromRfdetr({ state, source: 'nano.safetensors' }, { variant: 'nano' });
  t.log(`${state.size} tensors mapped in ${(performance.now() - t0).toFixed(0)} ms`);
  t.deepEqual(r.spec.architecture, PRESETS.nano.spec.architecture);
  t.deepEqual(r.spec.classes, PRESETS.nano.spec.classes);
  t.deepEqual(r.spec.default, PRESETS.nano.spec.default);
  const w = seededWeights(PRESETS.nano.spec.architecture, 5);
  t.is(r.weights.size, w.size);
  const bytes = (x: Tensor) => Buffer.from(x.data.buffer, x.data.byteOffset, x.data.byteLength);
  const differ = [...w].filter(([name, want]) => !r.weights.has(name) || !bytes(r.weights.get(name)!).equals(bytes(want))).map(([n]) => n);
  t.deepEqual(differ, []);
});
