import test from 'ava';
import { bicubicAntialiasMatrix, bicubicMatrix, bilinearMatrix, piResizeMatrix, resizePatchKernel, resizePosTable } from '../../src/detr/resize.js';

const rowSums = (m: Float64Array, rows: number, cols: number) =>
  Array.from({ length: rows }, (_, r) => m.subarray(r * cols, r * cols + cols).reduce((a, b) => a + b, 0));

test('interpolation matrices preserve constants (rows sum to 1)', (t) => {
  for (const [a, b] of [[6, 9], [24, 18], [16, 30]]) {
    for (const s of rowSums(bicubicMatrix(a, b), b, a)) t.true(Math.abs(s - 1) < 1e-12);
    for (const s of rowSums(bilinearMatrix(a, b), b, a)) t.true(Math.abs(s - 1) < 1e-12);
  }
});

test('bicubic resize matches PyTorch F.interpolate(bicubic, align_corners=False)', (t) => {
  // values printed by torch 1.13 for a constant-row image, up (4 -> 8) and down (6 -> 4)
  const cases: [number[], number, number[]][] = [
    [[0, 1, 2, 3], 8, [-0.10546875, 0.19140625, 0.66796875, 1.296875, 1.703125, 2.33203125, 2.80859375, 3.10546875]],
    [[0, 1, 5, 3, -2, 7], 4, [0.0859375, 4.33984375, 1.33984375, 4.78515625]],
  ];
  for (const [row, size, torch] of cases) {
    const m = bicubicMatrix(row.length, size);
    const out = Array.from({ length: size }, (_, o) => row.reduce((s, v, i) => s + m[o * row.length + i] * v, 0));
    out.forEach((v, i) => t.true(Math.abs(v - torch[i]) < 1e-6, `${i}: ${v} vs ${torch[i]}`));
  }
});

test('antialiased bicubic matches PyTorch F.interpolate(bicubic, antialias=True) up and down', (t) => {
  // values printed by torch 1.13 (float32) for a constant-column image; 12 -> 7 and 6 -> 4 shrink
  // (kernel stretched by the scale), the others grow (no clamping at the edges, renormalised)
  const cases: [number[], number, number[]][] = [
    [[0, 1, 2, 3], 8, [-0.0882353, 0.1678832, 0.7099237, 1.25, 1.75, 2.2900763, 2.8321168, 3.0882351]],
    [[0, 1, 5, 3, -2, 7], 4, [0.1666659, 3.8177643, 1.2434912, 3.6391585]],
    [[0, 1, 5, 3, -2, 7, 4, -1], 10, [-0.0432692, 0.4343192, 3.1875, 4.9354992, 2.5584996, -2.0535004, 4.7410035, 6.375, 2.3829362, -1.216346]],
    [[0, 1, 5, 3, -2, 7, 4, -1, 2, 6, -3, 0], 7, [0.4236791, 3.8739595, 0.8470154, 4.9882517, 0.5283778, 3.2871504, -1.3445997]],
    [[0, 1, 5, 3, -2, 7, 4, -1, 2, 6, -3, 0], 9, [0.0183066, 3.1314077, 3.2229564, 0.4216353, 6.0283022, -6e-7, 3.1788094, 1.5480144, -1.2562921]],
  ];
  for (const [row, size, torch] of cases) {
    const m = bicubicAntialiasMatrix(row.length, size);
    const out = Array.from({ length: size }, (_, o) => row.reduce((s, v, i) => s + m[o * row.length + i] * v, 0));
    // torch computes the weights and sums in float32: a few ulps at these magnitudes
    out.forEach((v, i) => t.true(Math.abs(v - torch[i]) < 5e-6, `${row.length} -> ${size}, ${i}: ${v} vs ${torch[i]}`));
    for (const r of rowSums(m, size, row.length)) t.true(Math.abs(r - 1) < 1e-12);
  }
  // the same size is the identity
  t.deepEqual(Array.from(bicubicAntialiasMatrix(3, 3)), [1, 0, 0, 0, 1, 0, 0, 0, 1]);
});

test('PI-resize keeps patch responses: <x, w> = <resize(x), resize(w)> when upsampling', (t) => {
  const from = 4;
  const to = 6;
  const w = Float32Array.from({ length: from * from }, (_, i) => Math.cos(i));
  const x = Float32Array.from({ length: from * from }, (_, i) => Math.sin(3 * i));
  const w2 = resizePatchKernel(w, 1, 1, from, to);
  const b = bilinearMatrix(from, to);
  // resize(x) = B x B^T
  const rx = new Float64Array(to * to);
  for (let i = 0; i < to; i++)
    for (let j = 0; j < to; j++) {
      let s = 0;
      for (let a = 0; a < from; a++) for (let c = 0; c < from; c++) s += b[i * from + a] * x[a * from + c] * b[j * from + c];
      rx[i * to + j] = s;
    }
  const lhs = x.reduce((s, v, i) => s + v * w[i], 0);
  const rhs = rx.reduce((s, v, i) => s + v * w2[i], 0);
  t.true(Math.abs(lhs - rhs) < 1e-5, `${lhs} vs ${rhs}`);
});

test('PI-resize to the same size is the identity; downsampling gives the least-squares inverse shape', (t) => {
  const w = Float32Array.from({ length: 16 }, (_, i) => i);
  t.is(resizePatchKernel(w, 1, 1, 4, 4), w);
  const m = piResizeMatrix(16, 8);
  t.is(m.length, 8 * 16);
});

test('position table resize to the same grid is the identity, to another grid keeps a constant table constant', (t) => {
  const table = new Float32Array(3 * 3 * 2).fill(0.25);
  t.is(resizePosTable(table, 2, 3, 3), table);
  const r = resizePosTable(table, 2, 3, 5);
  t.is(r.length, 5 * 5 * 2);
  for (const v of r) t.true(Math.abs(v - 0.25) < 1e-6);
});
