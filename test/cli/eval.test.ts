import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { synthesize } from '../../src/data/synth.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const cli = join(root, 'bin/snc.js');
const tmp = mkdtempSync(join(tmpdir(), 'snc-cli-eval-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));

const snc = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
const set = join(tmp, 'set');
const ready = synthesize({ out: set, images: 3, seed: 8, size: 96 });

test('--supernet: twelve metrics, images, skipped and images/s; --json prints only JSON', async (t) => {
  await ready;
  const dets = join(tmp, 'dets.json');
  const r = snc('eval', '--supernet', 'shapes-tiny', '--data', set, '--config', 'res=160,windows=1,layers=1,queries=30', '--threads', '1', '--json', '--save-detections', dets);
  t.is(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  t.like(j, { supernet: 'shapes-tiny', config: 'res=160,patch=16,windows=1,layers=1,queries=30', images: 3, threads: 1, skipped: { images: 0, annotations: 0, detections: 0 } });
  t.deepEqual(Object.keys(j.metrics), ['AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10', 'AR100', 'ARs', 'ARm', 'ARl']);
  t.true(j.imagesPerSecond > 0 && j.peakRssMiB > 0);
  // the saved detections score the same through --detections
  const d = snc('eval', '--detections', dets, '--data', set, '--json');
  t.is(d.status, 0, d.stderr);
  t.deepEqual(JSON.parse(d.stdout).stats, j.stats);
  const text = snc('eval', '--detections', dets, '--data', set);
  t.regex(text.stdout, /^ Average Precision {2}\(AP\) @\[ IoU=0\.50:0\.95 \| area= {3}all \| maxDets=100 \] = \d\.\d{3}$/m);
  t.regex(text.stdout, /^images 3, skipped nothing$/m);
  // class-agnostic numbers and four size bins next to them
  t.regex(text.stdout, /^class-agnostic \(one category\): AP \d\.\d{3} AP50 \d\.\d{3}/m);
  t.regex(text.stdout, /^ {2}<12 +\d+ objects/m);
  t.is(text.stdout.trim().split('\n').length, 14 + 6);
  const dj = JSON.parse(d.stdout);
  t.deepEqual(Object.keys(dj.agnostic), Object.keys(j.metrics));
  t.deepEqual(dj.bySize.map((b: { label: string }) => b.label), ['<12', '12-24', '24-48', '>=48']);
  t.is(dj.bySize.reduce((s: number, b: { objects: number }) => s + b.objects, 0), JSON.parse(readFileSync(join(set, 'annotations.json'), 'utf8')).annotations.length);
  t.false('spread' in dj);
  // --bootstrap: the sampling error of AP over the images, seeded
  const b1 = JSON.parse(snc('eval', '--detections', dets, '--data', set, '--json', '--bootstrap', '30').stdout);
  const b2 = JSON.parse(snc('eval', '--detections', dets, '--data', set, '--json', '--bootstrap', '30').stdout);
  t.like(b1.spread, { samples: 30, seed: 1 });
  t.deepEqual(b1.spread, b2.spread);
  t.true(b1.spread.AP.lo90 <= b1.spread.AP.hi90);
});

test('a missing image: skipped, counted and named by default; --strict exits 2 naming file and id', async (t) => {
  await ready;
  const doc = JSON.parse(readFileSync(join(set, 'annotations.json'), 'utf8'));
  doc.images.push({ id: 77, file_name: 'missing.jpg', width: 96, height: 96 });
  doc.annotations.push({ id: 9999, image_id: 5000, category_id: 1, bbox: [0, 0, 5, 5], area: 25, iscrowd: 0 });
  const ann = join(tmp, 'broken.json');
  writeFileSync(ann, JSON.stringify(doc));
  const args = ['eval', '--supernet', 'shapes-tiny', '--annotations', ann, '--images', join(set, 'images'), '--config', 'res=160,windows=1,layers=1,queries=30', '--threads', '1'];
  const r = snc(...args);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^images 3, skipped 1 images, 1 annotations, 0 detections$/m);
  t.regex(r.stderr, /skipped: .*broken\.json: annotation 9999 refers to image 5000, which is not in images/);
  t.regex(r.stderr, /skipped: .*missing\.jpg: image 77: file does not exist/);
  const s = snc(...args, '--strict');
  t.is(s.status, 2);
  t.regex(s.stderr, /^snc: .*broken\.json: annotation 9999 refers to image 5000, which is not in images \(--strict\)\n$/);
  doc.annotations.pop();
  writeFileSync(ann, JSON.stringify(doc));
  const s2 = snc(...args, '--strict');
  t.is(s2.status, 2);
  t.regex(s2.stderr, /^snc: .*missing\.jpg: image 77: file does not exist \(--strict\)\n$/);
});

test('eval: bad arguments are one line and exit code 2', async (t) => {
  await ready;
  for (const [args, re] of [
    [['eval', '--data', set], /give one of --supernet .*, --model .* or --detections/],
    [['eval', '--supernet', 'shapes-tiny', '--detections', 'x.json', '--data', set], /give one of --supernet/],
    [['eval', '--supernet', 'shapes-tiny'], /--data is required/],
    [['eval', '--detections', join(tmp, 'none.json'), '--data', set], /none\.json: does not exist/],
    [['eval', '--detections', join(tmp, 'none.json'), '--data', set, '--threads', '2'], /--threads applies to --supernet runs/],
    [['eval', '--supernet', 'nano', '--data', set], /no class of the supernet .* is a category of the data set/],
    [['eval', '--supernet', 'shapes-tiny', '--data', set, '--config', 'res=161'], /res=161 is not in the knob grid/],
    [['eval', '--supernet', 'shapes-tiny', '--data', join(tmp, 'nowhere')], /is not a folder/],
  ] as [string[], RegExp][]) {
    const r = snc(...args);
    t.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, re);
    t.is(r.stderr.trim().split('\n').length, 1);
  }
});
