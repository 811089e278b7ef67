import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCocoDataset } from '../../src/data/coco.js';
import { Problems } from '../../src/data/problems.js';
import { ResultsWriter, readCocoResults } from '../../src/data/results.js';
import { synthesize } from '../../src/data/synth.js';
import { createSession, evaluateSession } from '../../src/eval/evaluate.js';
import { evaluateGroup, packDetections, subsetOf, unpackDetections } from '../../src/eval/multi-exit.js';
import { configKey, parseConfig } from '../../src/detr/spec.js';
import { loadSupernet, presetDir } from '../../src/detr/supernet.js';

const tmp = mkdtempSync(join(tmpdir(), 'snc-multi-exit-test-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));

test('one multi-exit run scores every depth and query count exactly as evaluating each subnet separately', async (t) => {
  const dir = join(tmp, 'set');
  await synthesize({ out: dir, images: 6, seed: 11, size: 96 });
  // seeded (untrained) weights: a trained model's depths and query counts can agree on every
  // image's top detections, and then a difference would not show
  const net = loadSupernet(presetDir('shapes-tiny'));
  const deep = parseConfig('res=160,patch=16,windows=1,layers=3,queries=30', net.spec.default);
  const model = { resolution: 160, preprocess: net.spec.preprocess, classes: net.spec.classes };
  // untrained weights score ~0 on real boxes; make the ground truth the depth-2 subnet's own top
  // detections, so that every depth scores something and a difference would show
  const base = readCocoDataset(dir, {}, new Problems());
  const dets = join(tmp, 'dets.json');
  const writer = new ResultsWriter(dets);
  const s2 = await createSession(net, { ...deep, layers: 2 }, 1);
  await evaluateSession(s2, base, new Problems(), { model, topK: 5, detectionsOut: writer });
  await s2.release();
  writer.commit();
  const doc = JSON.parse(readFileSync(join(dir, 'annotations.json'), 'utf8'));
  let id = 1;
  doc.annotations = [...readCocoResults(dets, base, new Problems(true))].flatMap(([imageId, ds]) =>
    ds.map((d) => ({ id: id++, image_id: imageId, category_id: d.categoryId, bbox: d.bbox, area: d.bbox[2] * d.bbox[3], iscrowd: 0 })),
  );
  const ann = join(tmp, 'self.json');
  writeFileSync(ann, JSON.stringify(doc));
  const ds = readCocoDataset(undefined, { annotations: ann, images: join(dir, 'images') }, new Problems());

  const queries = [30, 60, 100];
  const multi = await evaluateGroup(net, ds, { config: { ...deep, queries: 100 }, depths: [1, 2, 3], queries, images: null }, { topK: 50 });
  t.is(multi.images, 6);
  const key = (layers: number, q: number) => configKey({ ...deep, layers, queries: q });
  t.deepEqual(Object.keys(multi.metrics).sort(), queries.flatMap((q) => [1, 2, 3].map((l) => key(l, q))).sort());
  t.true(multi.metrics[key(2, 30)].AP > 0.5, `depth 2 finds its own detections: AP ${multi.metrics[key(2, 30)].AP}`);
  t.notDeepEqual(multi.metrics[key(1, 30)], multi.metrics[key(2, 30)]);
  t.notDeepEqual(multi.metrics[key(2, 30)], multi.metrics[key(2, 100)]);
  for (const q of queries)
    for (const layers of [1, 2, 3]) {
      const session = await createSession(net, { ...deep, layers, queries: q }, 1);
      const alone = await evaluateSession(session, ds, new Problems(), { model, topK: 50 });
      await session.release();
      t.deepEqual(multi.metrics[key(layers, q)], alone.metrics, key(layers, q));
    }
});

test('a subset scores only its images', async (t) => {
  const dir = join(tmp, 'set2');
  await synthesize({ out: dir, images: 4, seed: 12, size: 96 });
  const net = loadSupernet('shapes-tiny');
  const ds = readCocoDataset(dir, {}, new Problems());
  const ids = [ds.images[1].id, ds.images[3].id];
  t.deepEqual(subsetOf(ds, ids).images.map((i) => i.id), ids);
  const r = await evaluateGroup(net, ds, { config: parseConfig('res=160,patch=16,windows=1,layers=1,queries=30', net.spec.default), depths: [1], images: ids });
  t.is(r.images, 2);
  t.is(r.skippedImages, 0);
});

test('a subset run\'s detections, given back as prior, score with the other images exactly as one run of all', async (t) => {
  const dir = join(tmp, 'set3');
  await synthesize({ out: dir, images: 6, seed: 13, size: 96 });
  const net = loadSupernet('shapes-tiny');
  const deep = parseConfig('res=160,patch=16,windows=1,layers=2,queries=30', net.spec.default);
  // ground truth: the depth-1 subnet's own detections, so the metrics are far from 0
  const base = readCocoDataset(dir, {}, new Problems());
  const first = await evaluateGroup(net, base, { config: deep, depths: [1], images: null, keepDetections: true }, { topK: 5 });
  const doc = JSON.parse(readFileSync(join(dir, 'annotations.json'), 'utf8'));
  let id = 1;
  doc.annotations = first.detections![configKey({ ...deep, layers: 1 })].flatMap((p) =>
    unpackDetections(p).map((d) => ({ id: id++, image_id: p.imageId, category_id: d.categoryId, bbox: d.bbox, area: d.bbox[2] * d.bbox[3], iscrowd: 0 })),
  );
  const ann = join(tmp, 'self3.json');
  writeFileSync(ann, JSON.stringify(doc));
  const ds = readCocoDataset(undefined, { annotations: ann, images: join(dir, 'images') }, new Problems());
  const ids = ds.images.map((i) => i.id);
  const subset = [ids[0], ids[3], ids[5]];
  const rest = ids.filter((i) => !subset.includes(i));

  const [k1, k2] = [1, 2].map((layers) => configKey({ ...deep, layers }));
  const all = await evaluateGroup(net, ds, { config: deep, depths: [1, 2], images: null }, { topK: 20 });
  t.true(all.metrics[k1].AP > 0.5, `AP ${all.metrics[k1].AP}`);
  const screen = await evaluateGroup(net, ds, { config: deep, depths: [1, 2], images: subset, keepDetections: true }, { topK: 20 });
  t.is(screen.images, 3);
  t.deepEqual(screen.detections![k2].map((p) => p.imageId), subset);
  const full = await evaluateGroup(net, ds, { config: deep, depths: [1, 2], images: rest, prior: screen.detections }, { topK: 20 });
  t.is(full.images, 6);
  t.is(full.priorImages, 3);
  t.deepEqual(full.metrics, all.metrics);
  // packing keeps every number
  const d = unpackDetections(screen.detections![k1][0]);
  t.deepEqual(unpackDetections(packDetections(subset[0], d)), d);
  await t.throwsAsync(evaluateGroup(net, ds, { config: deep, depths: [1, 2], images: rest, prior: { [k1]: screen.detections![k1] } }), { message: /prior detections have no subnet res=160,patch=16,windows=1,layers=2,queries=30/ });
});
