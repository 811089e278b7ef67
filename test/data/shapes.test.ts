import test from 'ava';
import { extent, placeShape, unitArea } from '../../src/data/shapes.js';
import { SHAPE_CLASSES } from '../../src/data/shapes.js';

test('unit areas of the outlines', (t) => {
  t.is(unitArea('square'), 4);
  t.is(unitArea('circle'), Math.PI);
  t.true(Math.abs(unitArea('hexagon') - (3 * Math.sqrt(3)) / 2) < 1e-12);
  t.true(Math.abs(unitArea('triangle') - (3 * Math.sqrt(3)) / 4) < 1e-12);
  t.true(Math.abs(unitArea('cross') - (4 * 0.6 - 0.36)) < 1e-12);
  for (const k of SHAPE_CLASSES) t.true(unitArea(k) > 0.5, k);
});

test('a placed square: box and area of the drawn polygon, rotation included', (t) => {
  const p = placeShape({ kind: 'square', cx: 50, cy: 60, sx: 10, sy: 5, angle: 0 });
  t.deepEqual(p.bbox, [40, 55, 20, 10]);
  t.is(p.area, 200);
  t.true(p.element.startsWith('<polygon points="40,55 60,55 60,65 40,65"'));
  const r = placeShape({ kind: 'square', cx: 50, cy: 50, sx: 10, sy: 10, angle: 45 });
  const side = 2 * Math.SQRT2 * 10;
  t.true(Math.abs(r.bbox[2] - side) < 0.03 && Math.abs(r.bbox[3] - side) < 0.03, JSON.stringify(r.bbox));
  t.true(Math.abs(r.area - 400) < 0.2, String(r.area)); // of the rounded vertices
});

test('a rotated ellipse: analytic box, area pi rx ry', (t) => {
  const p = placeShape({ kind: 'circle', cx: 100, cy: 100, sx: 20, sy: 10, angle: 90 });
  t.true(Math.abs(p.bbox[0] - 90) < 1e-9 && Math.abs(p.bbox[2] - 20) < 1e-9 && Math.abs(p.bbox[3] - 40) < 1e-9);
  t.is(p.area, Math.round(Math.PI * 200 * 100) / 100);
  t.true(p.element.includes('rotate(90 100 100)'));
});

test('extent bounds every vertex of the placed outline', (t) => {
  for (const kind of SHAPE_CLASSES) {
    const [x0, y0, x1, y1] = extent({ kind, sx: 12, sy: 7, angle: 33 });
    const p = placeShape({ kind, cx: 0, cy: 0, sx: 12, sy: 7, angle: 33 });
    t.true(Math.abs(p.bbox[0] - x0) < 0.02 && Math.abs(p.bbox[1] - y0) < 0.02, kind);
    t.true(Math.abs(p.bbox[2] - (x1 - x0)) < 0.03 && Math.abs(p.bbox[3] - (y1 - y0)) < 0.03, kind);
  }
});
