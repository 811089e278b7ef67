/**
 * Integer grids and affine quantization parameters: x ≈ (q - zeroPoint) · scale with q an
 * integer in [qmin, qmax]. Zero is always exactly representable (the zero point is an integer).
 */
export type QType = 'int8' | 'uint8';

export interface QuantGrid {
  /** Element type of the stored codes. */
  dtype: QType;
  qmin: number;
  qmax: number;
}

export interface QuantParams {
  dtype: QType;
  scale: number;
  zeroPoint: number;
  qmin: number;
  qmax: number;
}

/** Activations: the whole 8-bit range of the type, asymmetric (a zero point). */
export function activationGrid(dtype: QType): QuantGrid {
  return dtype === 'uint8' ? { dtype, qmin: 0, qmax: 255 } : { dtype, qmin: -128, qmax: 127 };
}

/**
 * Weights: symmetric signed codes of `bits` bits, narrow range [-(2^(b-1) - 1), 2^(b-1) - 1];
 * `reduced` drops one bit (7-bit weights, onnxruntime's advice for u8s8 on x86 without VNNI,
 * where VPMADDUBSW sums two u8·s8 products into a saturating int16).
 */
export function weightGrid(bits = 8, reduced = false): QuantGrid {
  const b = reduced ? bits - 1 : bits;
  const m = 2 ** (b - 1) - 1;
  return { dtype: 'int8', qmin: -m, qmax: m };
}

/** Affine parameters covering [lo, hi] (widened to contain 0). A zero-width range gets scale 1. */
export function affineParams(lo: number, hi: number, g: QuantGrid): QuantParams {
  lo = Math.min(lo, 0);
  hi = Math.max(hi, 0);
  if (!(hi > lo)) return { ...g, scale: 1, zeroPoint: g.qmin < 0 ? 0 : g.qmin };
  const scale = (hi - lo) / (g.qmax - g.qmin);
  const zeroPoint = Math.min(g.qmax, Math.max(g.qmin, Math.round(g.qmin - lo / scale)));
  return { ...g, scale, zeroPoint };
}

/** Symmetric parameters (zero point 0) covering [-absMax, absMax] on a signed narrow grid. */
export function symmetricParams(absMax: number, g: QuantGrid): QuantParams {
  const scale = absMax > 0 ? absMax / g.qmax : 1;
  return { ...g, scale, zeroPoint: 0 };
}

/** Round half to even, as onnxruntime's QuantizeLinear rounds. */
export function roundEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function quantize(x: number, p: QuantParams): number {
  const q = roundEven(x / p.scale) + p.zeroPoint;
  return q < p.qmin ? p.qmin : q > p.qmax ? p.qmax : q;
}

/** Quantize then dequantize. */
export function fakeQuant(x: number, p: QuantParams): number {
  return (quantize(x, p) - p.zeroPoint) * p.scale;
}

/** Signal-to-quantization-noise ratio in dB of `test` against `ref` (Infinity when equal). */
export function sqnrDb(ref: ArrayLike<number>, test: ArrayLike<number>): number {
  let s = 0;
  let e = 0;
  for (let i = 0; i < ref.length; i++) {
    s += ref[i] * ref[i];
    const d = ref[i] - test[i];
    e += d * d;
  }
  return e === 0 ? Infinity : 10 * Math.log10(s / e);
}
