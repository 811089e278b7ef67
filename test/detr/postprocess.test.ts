import test from 'ava';
import { SncError } from '../../src/errors.js';
import { mapClasses, postprocess, topK } from '../../src/detr/postprocess.js';

test('topK: the k largest, largest first, ties by lower index, as a full sort would', (t) => {
  let s = 7;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (const n of [1, 5, 50, 360, 1000]) {
    const v = Float32Array.from({ length: n }, () => Math.round(rnd() * 20) / 4);
    const full = Array.from({ length: n }, (_, i) => i).sort((a, b) => v[b] - v[a] || a - b);
    for (const k of [1, 3, 100]) t.deepEqual(topK(v, k), full.slice(0, k), `n ${n}, k ${k}`);
  }
  t.deepEqual(topK([1, 5, 3, 5], 2, (i) => i === 1), [3, 2]);
});

test('post-processing: sigmoid, top k over queries x classes, boxes to pixels of the original image', (t) => {
  // Q = 2 queries, K = 3 classes
  const boxes = Float32Array.from([0.5, 0.5, 0.2, 0.4, 0.25, 0.75, 0.5, 0.1]);
  const logits = Float32Array.from([0, 2, -1, 3, -5, 1]);
  const map = mapClasses(['a', 'b', 'c'], [{ id: 7, name: 'c' }, { id: 3, name: 'a' }, { id: 9, name: 'b' }]);
  const dets = postprocess({ boxes, logits, queries: 2, classes: 3 }, 200, 100, map, 3);
  const sig = (x: number) => 1 / (1 + Math.exp(-x));
  // top 3 of [q0: 0 2 -1, q1: 3 -5 1]: (q1, a), (q0, b), (q1, c)
  t.deepEqual(dets.map((d) => d.categoryId), [3, 9, 7]);
  t.deepEqual(dets.map((d) => d.score), [sig(3), sig(2), sig(1)]);
  // query 1: cx .25 cy .75 w .5 h .1 on 200 x 100 -> x0 0, y0 70, w 100, h 10
  const b = dets[0].bbox;
  t.true(Math.abs(b[0] - 0) < 1e-5 && Math.abs(b[1] - 70) < 1e-5 && Math.abs(b[2] - 100) < 1e-5 && Math.abs(b[3] - 10) < 1e-4, JSON.stringify(b));
  // query 0: cx .5 cy .5 w .2 h .4 -> x0 80, y0 30, w 40, h 40
  const b0 = dets[1].bbox;
  t.true(Math.abs(b0[0] - 80) < 1e-4 && Math.abs(b0[1] - 30) < 1e-4 && Math.abs(b0[2] - 40) < 1e-4 && Math.abs(b0[3] - 40) < 1e-4, JSON.stringify(b0));
});

test('classes map to categories by name; unknown classes are left out; none known is an error', (t) => {
  const map = mapClasses(['a', 'b'], [{ id: 4, name: 'b' }]);
  t.deepEqual([...map.categoryOf], [-1, 4]);
  t.deepEqual(map.unmatched, ['a']);
  const dets = postprocess({ boxes: new Float32Array(8), logits: Float32Array.from([9, 1, 8, 2]), queries: 2, classes: 2 }, 10, 10, map, 10);
  t.deepEqual(dets.map((d) => d.categoryId), [4, 4]);
  t.deepEqual(dets.map((d) => d.score), [1 / (1 + Math.exp(-2)), 1 / (1 + Math.exp(-1))]);
  t.throws(() => mapClasses(['a'], [{ id: 1, name: 'person' }]), { instanceOf: SncError, message: /no class of the supernet \(a\) is a category of the data set \(person\)/ });
});
