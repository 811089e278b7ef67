import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCocoDataset } from '../../src/data/coco.js';
import { Problems } from '../../src/data/problems.js';
import { ResultsWriter, readCocoResults } from '../../src/data/results.js';
import { synthesize } from '../../src/data/synth.js';
import { createSession, evaluateDetections, evaluateSession, openImages } from '../../src/eval/evaluate.js';
import { parseConfig } from '../../src/detr/spec.js';
import { loadSupernet } from '../../src/detr/supernet.js';

const tmp = mkdtempSync(join(tmpdir(), 'snc-evaluate-test-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));

test('a subnet over a set: every image scored, missing ones skipped, the same numbers as its saved detections', async (t) => {
  const dir = join(tmp, 'set');
  await synthesize({ out: dir, images: 3, seed: 4, size: 96 });
  const doc = JSON.parse(readFileSync(join(dir, 'annotations.json'), 'utf8'));
  doc.images.push({ id: 99, file_name: 'gone.jpg', width: 96, height: 96 });
  writeFileSync(join(dir, 'annotations.json'), JSON.stringify(doc));

  const net = loadSupernet('shapes-tiny');
  const config = parseConfig('res=160,patch=16,windows=1,layers=1,queries=30', net.spec.default);
  const model = { resolution: 160, preprocess: net.spec.preprocess, classes: net.spec.classes };
  const problems = new Problems();
  const ds = readCocoDataset(dir, {}, problems);
  const images = openImages(ds, problems, { model, prefetch: 2 });
  const session = await createSession(net, config, 1);
  const saved = join(tmp, 'dets.json');
  const writer = new ResultsWriter(saved);
  const r = await evaluateSession(session, ds, problems, { model, images, detectionsOut: writer, topK: 50 });
  writer.commit();
  await session.release();

  t.is(r.images, 3);
  t.deepEqual(r.skipped, { images: 1, annotations: 0, detections: 0 });
  t.is(r.problems[0].id, 99);
  t.is(r.stats.length, 12);
  t.true(r.stats.every((s) => s === -1 || (s >= 0 && s <= 1)));
  t.true(r.imagesPerSecond > 0 && r.inferenceSeconds! > 0);
  t.deepEqual(r.unmatchedClasses, []);
  t.is(r.perCategory.length, 6);

  const saved2 = readCocoResults(saved, ds, new Problems(true));
  t.deepEqual([...saved2.values()].map((d) => d.length), [50, 50, 50]);
  // scoring the saved file over the same images gives the same twelve numbers
  const only = { ...ds, images: ds.images.filter((i) => i.id !== 99) };
  t.deepEqual(evaluateDetections(only, saved2, new Problems()).stats, r.stats);
});
