/**
 * The RF-DETR options off RF-DETR's trained configuration: the fixture's weights imported (as in
 * import.test.ts), subnets with the position table shrunk, 1 and 4 windows, other patch sizes,
 * depth 0 and more queries than tokens, against train/snc_ref at every decoder depth
 * (test/fixtures/rfdetr-options, written by train/make_rfdetr_option_fixtures.py; snc_ref itself
 * matches RF-DETR 1.4.1 on RF-DETR's own fixture, train/check_rfdetr_parity.py).
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildSubnet } from '../../../src/detr/model.js';
import { supernetFromRfdetr } from '../../../src/detr/rfdetr/import.js';
import { configKey, type SubnetConfig } from '../../../src/detr/spec.js';
import { Weights } from '../../../src/detr/weights.js';
import { readSafetensors } from '../../../src/onnx/safetensors.js';
import { encodeModel } from '../../../src/onnx/writer.js';
import { runOnnx } from '../../helpers/ort.js';

const BOX_TOL = 1e-4;
const LOGIT_TOL = 1e-3;
const dir = (name: string) => fileURLToPath(new URL(`../../../../test/fixtures/${name}/`, import.meta.url));

const ARGS = {
  num_classes: 90, encoder: 'dinov2_windowed_small', out_feature_indexes: [2, 4], projector_scale: ['P4'], layer_norm: true, rms_norm: false,
  resolution: 128, patch_size: 16, num_windows: 2, positional_encoding_size: 8, dec_layers: 2, sa_nheads: 2, ca_nheads: 4, dec_n_points: 2,
  num_queries: 100, two_stage: true, lite_refpoint_refine: true, bbox_reparam: true, decoder_norm: 'LN', segmentation_head: false,
};

interface Index {
  images: string;
  configs: { config: SubnetConfig; key: string; file: string; image: string }[];
}
const index: Index = JSON.parse(readFileSync(`${dir('rfdetr-options')}index.json`, 'utf8'));
const images = readSafetensors(`${dir('rfdetr-options')}${index.images}`).tensors;

const imported = supernetFromRfdetr({ state: readSafetensors(`${dir('rfdetr-tiny')}rf-detr-tiny-random.safetensors`).tensors, args: ARGS, source: 'rf-detr-tiny' }, { vitHeads: 3 });
// a grid holding every fixture config (the import's own grid is narrower)
const cs = index.configs.map((c) => c.config);
const uniq = (k: keyof SubnetConfig) => [...new Set(cs.map((c) => c[k]).concat(imported.spec.default[k]))].sort((a, b) => a - b);
const spec = { ...imported.spec, knobs: { resolution: uniq('resolution'), patch: uniq('patch'), windows: uniq('windows'), layers: uniq('layers'), queries: uniq('queries') }, untrained: undefined };
const net = { spec, weights: Weights.check(imported.weights, spec.architecture, 'test', 'rf-detr-tiny'), dir: '' };

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = d;
  }
  return m;
}

test('the fixtures cover what RF-DETR\'s own fixture does not', (t) => {
  const { posGrid, storedPatch } = spec.architecture.backbone;
  t.true(cs.some((c) => c.resolution / c.patch < posGrid), 'position table shrunk');
  t.true(cs.some((c) => c.windows === 1) && cs.some((c) => c.windows === 4));
  t.true(cs.some((c) => c.patch < storedPatch) && cs.some((c) => c.patch > storedPatch));
  t.true(cs.some((c) => c.layers === 0));
  t.true(cs.some((c) => c.queries > (c.resolution / c.patch) ** 2), 'more queries than tokens');
  for (const c of index.configs) t.is(c.key, configKey(c.config));
});

for (const fx of index.configs) {
  test(`RF-DETR options against the PyTorch reference: ${fx.key}`, async (t) => {
    const want = readSafetensors(`${dir('rfdetr-options')}${fx.file}`).tensors;
    const image = images.get(fx.image)!;
    const out = await runOnnx(encodeModel(buildSubnet(net, fx.config, { exits: true })), { image: { dims: [...image.dims], data: image.data as Float32Array } });
    const names = ['boxes', 'logits'];
    for (let l = 0; l <= fx.config.layers; l++) names.push(`boxes_${l}`, `logits_${l}`);
    const errs: string[] = [];
    for (const name of names) {
      const w = want.get(name)!;
      t.deepEqual([...out[name].dims], [...w.dims], `${name} shape`);
      const err = maxAbsDiff(out[name].data, w.data as Float32Array);
      const tol = name.startsWith('boxes') ? BOX_TOL : LOGIT_TOL;
      errs.push(`${name} ${err.toExponential(1)}`);
      t.true(err <= tol, `${name}: max abs error ${err} > ${tol}`);
    }
    t.log(errs.join(', '));
  });
}
