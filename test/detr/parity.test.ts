/**
 * Parity with the independent PyTorch reference (train/snc_ref): the ONNX snc builds for each
 * fixture config, run by onnxruntime, must give the reference's boxes and logits at every
 * decoder depth. Fixtures: train/make_fixtures.py writes test/fixtures/parity/ (and with --stem,
 * test/fixtures/parity-stem/: the conv-stem option).
 */
import test from 'ava';
import ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildSubnet } from '../../src/detr/model.js';
import { configKey, type SubnetConfig } from '../../src/detr/spec.js';
import { loadSupernetDir } from '../../src/detr/supernet.js';
import { encodeModel } from '../../src/onnx/writer.js';
import { readSafetensors } from '../../src/onnx/safetensors.js';

const BOX_TOL = 1e-4;
const LOGIT_TOL = 1e-3;

interface FixtureIndex {
  supernet: string;
  images: string;
  configs: { config: SubnetConfig; key: string; file: string; image: string }[];
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = d; // NaN propagates as a failure
  }
  return m;
}

/**
 * parity/: the plain family (train/make_fixtures.py); parity-stem/: the same with a hybrid-ViT
 * conv stem (make_fixtures.py --stem), whose patch embedding runs on the stem's output;
 * parity-stem-res/: that stem with residual blocks after its layers (--stem-blocks 1,2).
 */
for (const dir of ['parity', 'parity-stem', 'parity-stem-res']) {
  const fixtures = fileURLToPath(new URL(`../../../test/fixtures/${dir}/`, import.meta.url));
  const index: FixtureIndex = JSON.parse(readFileSync(`${fixtures}index.json`, 'utf8'));
  const net = loadSupernetDir(`${fixtures}${index.supernet}`);
  const images = readSafetensors(`${fixtures}${index.images}`).tensors;

  test(`${dir}: the fixtures cover the knobs parity has to exercise`, (t) => {
    const cs = index.configs.map((c) => c.config);
    const { storedPatch, posGrid } = net.spec.architecture.backbone;
    t.true(cs.length >= 6);
    t.true(cs.some((c) => c.patch < storedPatch) && cs.some((c) => c.patch > storedPatch));
    t.true(cs.some((c) => c.windows === 1) && cs.some((c) => c.windows === 2));
    t.true(cs.some((c) => c.resolution / c.patch !== posGrid));
    for (let l = 0; l <= net.spec.architecture.decoder.maxLayers; l++) t.true(cs.some((c) => c.layers === l), `layers=${l}`);
    for (const c of index.configs) t.is(c.key, configKey(c.config));
  });

  for (const fx of index.configs) {
    test(`${dir}: parity with the PyTorch reference: ${fx.key}`, async (t) => {
      const expected = readSafetensors(`${fixtures}${fx.file}`).tensors;
      const image = images.get(fx.image);
      if (!image) return t.fail(`images.safetensors has no ${fx.image}`);
      const bytes = encodeModel(buildSubnet(net, fx.config, { exits: true }));
      const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
      const feeds = { image: new ort.Tensor('float32', image.data as Float32Array, [...image.dims]) };
      const out = await session.run(feeds);
      const names = ['boxes', 'logits'];
      for (let l = 0; l <= fx.config.layers; l++) names.push(`boxes_${l}`, `logits_${l}`);
      const errors: string[] = [];
      let worstBoxes = 0;
      let worstLogits = 0;
      for (const name of names) {
        const want = expected.get(name);
        const got = out[name];
        if (!want || !got) {
          t.fail(`${name}: missing (${!want ? 'fixture' : 'ONNX output'})`);
          continue;
        }
        t.deepEqual([...got.dims], [...want.dims], `${name} shape`);
        const err = maxAbsDiff(got.data as Float32Array, want.data as Float32Array);
        const isBoxes = name.startsWith('boxes');
        if (isBoxes) worstBoxes = Math.max(worstBoxes, err);
        else worstLogits = Math.max(worstLogits, err);
        errors.push(`${name} ${err.toExponential(1)}`);
        t.true(err <= (isBoxes ? BOX_TOL : LOGIT_TOL), `${name}: max abs error ${err} > ${isBoxes ? BOX_TOL : LOGIT_TOL}`);
      }
      t.log(`max abs error boxes ${worstBoxes.toExponential(2)}, logits ${worstLogits.toExponential(2)} (${errors.join(', ')})`);
      await session.release();
    });
  }
}
