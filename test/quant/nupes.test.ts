import test from 'ava';
import { f32 } from '../../src/onnx/tensor.js';
import { decodeNupes, decodeTable, nupesQuantize, qmaxOf } from '../../src/quant/nupes.js';
import { packCodes, packedBytes, unpackCodes } from '../../src/quant/pack.js';
import { gaussian, laplace, rng } from './samples.js';

test('packing round-trips 8-, 4-, 3- and 2-bit codes and takes k/8 bytes per code', (t) => {
  const r = rng(3);
  for (const bits of [8, 4, 3, 2]) {
    for (const n of [1, 7, 8, 9, 1000]) {
      const codes = Uint8Array.from({ length: n }, () => Math.floor(r() * 2 ** bits));
      const packed = packCodes(codes, bits);
      t.is(packed.length, packedBytes(n, bits));
      t.deepEqual(unpackCodes(packed, bits, n), codes);
    }
    t.is(packedBytes(8000, bits), (8000 * bits) / 8);
  }
  t.throws(() => packCodes(Uint8Array.of(16), 4));
});

test('the decode table is sign(q)|q|^(1/a), uniform at a = 1', (t) => {
  t.deepEqual(Array.from(decodeTable(3, 1)), [-3, -2, -1, 0, 1, 2, 3, 3]);
  const tb = decodeTable(4, 0.5);
  t.is(tb[qmaxOf(4) + 2], 4);
  t.is(tb[qmaxOf(4) - 3], -9);
});

test('NUPES reconstructs bell-shaped weights better than uniform codes at 4 and 3 bits', (t) => {
  const dims = [64, 32];
  for (const [name, data] of [['gaussian', gaussian(64 * 32, 0.05, 11)], ['laplace', laplace(64 * 32, 0.03, 12)]] as const) {
    const w = f32(dims, data);
    for (const bits of [4, 3]) {
      const uni = nupesQuantize(w, { bits, axis: 1, exponent: 1 });
      const np = nupesQuantize(w, { bits, axis: 1 });
      t.true(np.error <= uni.error, `${name} ${bits} bits: nupes ${np.error} uniform ${uni.error}`);
      t.true(np.exponent !== 1 || np.error === uni.error);
      // the stored error is the error of what decodeNupes gives
      const dec = decodeNupes(np);
      let e = 0;
      for (let i = 0; i < data.length; i++) e += (data[i] - dec[i]) ** 2;
      t.true(Math.abs(e - np.error) <= 1e-9 + 1e-6 * e);
      for (const c of np.codes) t.true(c < 2 ** bits - 1);
    }
  }
  const l = f32(dims, laplace(64 * 32, 0.03, 13));
  const u4 = nupesQuantize(l, { bits: 4, axis: 1, exponent: 1 });
  const n4 = nupesQuantize(l, { bits: 4, axis: 1 });
  t.true(n4.error < 0.95 * u4.error, `laplace: a=${n4.exponent} ${n4.error} vs ${u4.error}`);
  t.true(n4.exponent < 1);
});

test('an exponent per channel reconstructs at least as well as one per layer', (t) => {
  // channels of different shapes: half Gaussian, half Laplace with outliers
  const K = 64;
  const N = 16;
  const g = gaussian(K * N, 0.05, 21);
  const l = laplace(K * N, 0.02, 22);
  const data = Float32Array.from({ length: K * N }, (_, i) => (i % N < N / 2 ? g[i] : l[i]));
  const w = f32([K, N], data);
  const layer = nupesQuantize(w, { bits: 4, axis: 1 });
  const chan = nupesQuantize(w, { bits: 4, axis: 1, perChannelExponent: true });
  t.true(chan.error <= layer.error * 1.001, `${chan.error} vs ${layer.error}`);
  t.is(chan.exponents!.length, N);
  t.throws(() => nupesQuantize(w, { bits: 4, perChannelExponent: true }));
});
