import test from 'ava';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCocoDataset } from '../../src/data/coco.js';
import { Problems } from '../../src/data/problems.js';
import { synthesize } from '../../src/data/synth.js';
import { createSession, evaluateSession, openImages } from '../../src/eval/evaluate.js';
import { PRESETS } from '../../src/detr/presets.js';
import { EMBEDDED_MODELS, embeddedDir, loadSupernet, loadSupernetDir, presetDir, saveSupernetDir } from '../../src/detr/supernet.js';
import { SncError } from '../../src/errors.js';
import { readSafetensors } from '../../src/onnx/safetensors.js';
import { familyHash } from '../../src/latency/lut.js';

const tmp = mkdtempSync(join(tmpdir(), 'snc-supernet-test-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));

test('shapes-tiny loads the trained supernet shipped in models/, within 15 MB, of the preset family', (t) => {
  const dir = embeddedDir('shapes-tiny');
  t.is(dir, join(EMBEDDED_MODELS, 'shapes-tiny'));
  const net = loadSupernet('shapes-tiny');
  t.is(net.dir, join(EMBEDDED_MODELS, 'shapes-tiny'));
  t.true(statSync(join(dir!, 'weights.safetensors')).size <= 15 * 1024 * 1024);
  // the preset's LUTs (profiled on seeded weights of the same family) apply to it
  t.deepEqual(net.spec, PRESETS['shapes-tiny'].spec);
  t.is(familyHash(net.spec), familyHash(PRESETS['shapes-tiny'].spec));
  // nano ships no trained weights: seeded ones
  t.is(embeddedDir('nano'), undefined);
  t.is(loadSupernet('nano').dir, presetDir('nano'));
});

async function ap50(dir: string, supernet: string): Promise<number> {
  const net = loadSupernet(supernet);
  const config = net.spec.default;
  const model = { resolution: config.resolution, preprocess: net.spec.preprocess, classes: net.spec.classes };
  const problems = new Problems();
  const ds = readCocoDataset(dir, {}, problems);
  const session = await createSession(net, config, 1);
  const r = await evaluateSession(session, ds, problems, { model, images: openImages(ds, problems, { model }) });
  await session.release();
  return r.metrics.AP50;
}

test('the embedded default is trained: its default config scores well above the same family with seeded weights', async (t) => {
  const dir = join(tmp, 'set');
  await synthesize({ out: dir, images: 12, seed: 424242, size: 320 });
  const trained = await ap50(dir, 'shapes-tiny');
  const seeded = await ap50(dir, presetDir('shapes-tiny'));
  // docs/training.md: the default config reaches AP50 0.64 on the 500 held-out images; seeded weights about 0
  t.true(trained > 0.3 && trained > 5 * seeded, `AP50 trained ${trained}, seeded ${seeded}`);
});

test('weights that are not finite numbers are refused, naming the tensor and the index', (t) => {
  const src = loadSupernet('shapes-tiny');
  const tensors = readSafetensors(join(src.dir, 'weights.safetensors')).tensors;
  const name = [...tensors.keys()].sort()[0];
  const bad = new Map(tensors);
  const data = Float32Array.from(tensors.get(name)!.data as Float32Array);
  data[3] = NaN;
  bad.set(name, { ...tensors.get(name)!, data });
  const dir = join(tmp, 'nan-weights');
  saveSupernetDir(dir, src.spec, bad);
  t.throws(() => loadSupernetDir(dir), { instanceOf: SncError, message: `${join(dir, 'weights.safetensors')}: tensor '${name}' holds NaN at index 3; weights must be finite numbers` });
});

test('a preset that cannot be made in a read-only or unusable cache is one line naming SNC_CACHE_DIR', (t) => {
  const file = join(tmp, 'a-file');
  writeFileSync(file, 'x');
  const before = process.env.SNC_CACHE_DIR;
  process.env.SNC_CACHE_DIR = join(file, 'cache');
  try {
    t.throws(() => loadSupernet('nano'), { instanceOf: SncError, message: /^supernet: preset 'nano' is made in the cache on first use: cannot create folder .* is a file, not a folder; set SNC_CACHE_DIR to a writable folder$/ });
  } finally {
    if (before === undefined) delete process.env.SNC_CACHE_DIR;
    else process.env.SNC_CACHE_DIR = before;
  }
});
