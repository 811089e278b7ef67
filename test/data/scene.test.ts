import test from 'ava';
import { makeScene } from '../../src/data/scene.js';

const scenes = Array.from({ length: 60 }, (_, i) => makeScene(3, i, 320));

test('a scene is a function of (seed, index, size)', (t) => {
  t.deepEqual(makeScene(3, 7, 320), scenes[7]);
  t.notDeepEqual(makeScene(4, 7, 320).objects, scenes[7].objects);
});

test('1 to 30 objects, all six classes, inside the image', (t) => {
  const classes = new Set<number>();
  for (const s of scenes) {
    t.true(s.objects.length >= 1 && s.objects.length <= 30);
    for (const o of s.objects) {
      classes.add(o.cls);
      const [x, y, w, h] = o.bbox;
      t.true(x >= 0 && y >= 0 && x + w <= 320 && y + h <= 320 && w > 0 && h > 0, JSON.stringify(o.bbox));
      t.true(o.area > 0 && o.area <= w * h + 0.05);
    }
  }
  t.deepEqual([...classes].sort(), [0, 1, 2, 3, 4, 5]);
  t.true(scenes.some((s) => s.objects.length >= 20));
  t.true(scenes.some((s) => s.objects.length <= 5));
});

test("areas span COCO's small, medium and large ranges", (t) => {
  const areas = scenes.flatMap((s) => s.objects.map((o) => o.area));
  const small = areas.filter((a) => a < 32 ** 2).length / areas.length;
  const large = areas.filter((a) => a > 96 ** 2).length / areas.length;
  t.true(small > 0.2 && large > 0.05 && 1 - small - large > 0.15, `small ${small}, large ${large}`);
});

test('occlusion: a later box hides at most 45% of an earlier one, in total', (t) => {
  let overlapping = 0;
  for (const s of scenes)
    s.objects.forEach((o, i) => {
      let hidden = 0;
      for (const p of s.objects.slice(i + 1)) {
        const w = Math.min(o.bbox[0] + o.bbox[2], p.bbox[0] + p.bbox[2]) - Math.max(o.bbox[0], p.bbox[0]);
        const h = Math.min(o.bbox[1] + o.bbox[3], p.bbox[1] + p.bbox[3]) - Math.max(o.bbox[1], p.bbox[1]);
        if (w > 0 && h > 0) hidden += (w * h) / (o.bbox[2] * o.bbox[3]);
      }
      if (hidden > 0) overlapping++;
      t.true(hidden <= 0.45 + 1e-9);
    });
  t.true(overlapping > 20, 'some objects are partly hidden');
});

test('backgrounds are textured and noisy', (t) => {
  for (const s of scenes) {
    t.true(s.background.noise >= 4);
    t.true(Boolean(s.background.stripes || s.background.checker || s.background.blotches));
  }
});
