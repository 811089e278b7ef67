/**
 * NUPES power-exponent weights (the seed paper "Non-Uniform Post-Training Quantization via Power
 * Exponent Search"): a weight w is coded as the uniform quantization of sign(w)|w|^a,
 * q = clamp(round(sign(w)|w|^a / s)), and decoded as sign(q)(|q| s)^(1/a). The exponent a is
 * searched per layer (a = 1 is plain uniform quantization and is always a candidate, so NUPES
 * never reconstructs worse than uniform at the same width); the scale s per output channel is
 * the MSE-optimal clip in the transformed space, judged by the error on the original weights.
 *
 * Decoding factors per element: sign(q)|q|^(1/a) (a table of 2^bits entries, one per code) times
 * s^(1/a) (one per channel), which is what the ONNX decode subgraph computes.
 */
import type { Tensor } from '../onnx/tensor.js';
import { minimizeScalar } from './golden.js';
import { channelLayout } from './weights.js';

export const NUPES_BITS = [8, 4, 3] as const;

export interface NupesWeight {
  bits: number;
  /** The power exponent a (with per-channel exponents: their mean, for reports). */
  exponent: number;
  /** One exponent per channel along `axis` (optional; NUPES' per-channel variant). */
  exponents?: Float32Array;
  /** Offset codes q + qmax in [0, 2^bits - 1] (q in [-qmax, qmax], qmax = 2^(bits-1) - 1). */
  codes: Uint8Array;
  /** Per-channel scale s in the transformed space (one entry when axis is undefined). */
  scales: Float32Array;
  axis: number | undefined;
  dims: number[];
  /** Sum of squared reconstruction errors. */
  error: number;
}

export const qmaxOf = (bits: number) => 2 ** (bits - 1) - 1;

/** decode table: entry c is sign(q)|q|^(1/a) for q = c - qmax (float32, as the file stores it). */
export function decodeTable(bits: number, exponent: number): Float32Array {
  const qmax = qmaxOf(bits);
  const t = new Float32Array(2 ** bits);
  for (let c = 0; c < t.length; c++) {
    const q = Math.max(-qmax, Math.min(qmax, c - qmax));
    t[c] = Math.sign(q) * Math.abs(q) ** (1 / exponent);
  }
  return t;
}

/** The per-channel factors s^(1/a) the decoded table values are multiplied by. */
export function channelFactors(w: Pick<NupesWeight, 'scales' | 'exponent' | 'exponents'>): Float32Array {
  return Float32Array.from(w.scales, (s, c) => s ** (1 / (w.exponents ? w.exponents[c] : w.exponent)));
}

/** The weights the codes stand for, computed as the decode subgraph computes them (float32). */
export function decodeNupes(w: NupesWeight): Float32Array {
  const tables = w.exponents ? Array.from(w.exponents, (a) => decodeTable(w.bits, a)) : [decodeTable(w.bits, w.exponent)];
  const f = channelFactors(w);
  const out = new Float32Array(w.codes.length);
  const { channels, inner } = w.axis === undefined ? { channels: 1, inner: 1 } : channelLayout(w.dims, w.axis);
  for (let i = 0; i < out.length; i++) {
    const c = w.axis === undefined ? 0 : Math.floor(i / inner) % channels;
    out[i] = Math.fround(tables[w.exponents ? c : 0][w.codes[i]] * f[c]);
  }
  return out;
}

interface Channel {
  /** Indices of the channel's elements. */
  idx: Int32Array;
}

function channelsOf(dims: readonly number[], axis: number | undefined, n: number): Channel[] {
  if (axis === undefined) return [{ idx: Int32Array.from({ length: n }, (_, i) => i) }];
  const { channels, inner } = channelLayout(dims, axis);
  const lists: number[][] = Array.from({ length: channels }, () => []);
  for (let i = 0; i < n; i++) lists[Math.floor(i / inner) % channels].push(i);
  return lists.map((l) => ({ idx: Int32Array.from(l) }));
}

/**
 * For one exponent: each channel's best scale and the total squared error. `pw` holds |w|^a;
 * `levels[k]` = k^(1/a).
 */
function fitExponent(w: Float32Array, pw: Float64Array, chans: Channel[], bits: number, a: number, codesOut?: Uint8Array, scalesOut?: Float32Array): number {
  const qmax = qmaxOf(bits);
  const levels = Float64Array.from({ length: qmax + 1 }, (_, k) => k ** (1 / a));
  let total = 0;
  chans.forEach((ch, c) => {
    let m = 0;
    for (const i of ch.idx) m = Math.max(m, pw[i]);
    if (m === 0) {
      if (codesOut) for (const i of ch.idx) codesOut[i] = qmax;
      if (scalesOut) scalesOut[c] = 1;
      return;
    }
    const err = (alpha: number) => {
      const s = (alpha * m) / qmax;
      const f = s ** (1 / a);
      let e = 0;
      for (const i of ch.idx) {
        const k = Math.min(qmax, Math.round(pw[i] / s));
        const d = Math.abs(w[i]) - levels[k] * f;
        e += d * d;
      }
      return e;
    };
    const best = minimizeScalar(err, 0.3, 1, { scan: 8, tol: 1e-3, also: [1] });
    total += best.fx;
    if (codesOut && scalesOut) {
      const s = Math.fround((best.x * m) / qmax);
      scalesOut[c] = s;
      for (const i of ch.idx) {
        const k = Math.min(qmax, Math.round(pw[i] / s));
        codesOut[i] = (w[i] < 0 ? -k : k) + qmax;
      }
    }
  });
  return total;
}

export interface NupesOptions {
  bits: number;
  /** Output-channel axis (per-channel scales); undefined: one scale for the tensor. */
  axis?: number;
  /** Fix the exponent instead of searching it (1: uniform quantization). */
  exponent?: number;
  /** Search one exponent per channel (needs `axis`) instead of one per layer. */
  perChannelExponent?: boolean;
  /** Search interval of the exponent (default [0.25, 1.25]). */
  range?: [number, number];
}

/** Codes a float weight with the best power exponent (or the given one). */
export function nupesQuantize(t: Tensor, opts: NupesOptions): NupesWeight {
  const w = t.data as Float32Array;
  const chans = channelsOf(t.dims, opts.axis, w.length);
  const pw = new Float64Array(w.length);
  if (opts.perChannelExponent && opts.exponent === undefined) {
    if (opts.axis === undefined) throw new Error('a per-channel exponent needs per-channel scales (axis)');
    const [lo, hi] = opts.range ?? [0.25, 1.25];
    const codes = new Uint8Array(w.length);
    const scales = new Float32Array(chans.length);
    const exponents = new Float32Array(chans.length);
    const one = new Float32Array(1);
    chans.forEach((ch, c) => {
      const powAt = (a: number) => {
        for (const i of ch.idx) pw[i] = Math.abs(w[i]) ** a;
      };
      const best = minimizeScalar(
        (x) => {
          powAt(x);
          return fitExponent(w, pw, [ch], opts.bits, x);
        },
        lo,
        hi,
        { scan: 9, tol: 5e-3, also: [1] },
      );
      exponents[c] = Math.fround(best.x);
      powAt(exponents[c]);
      fitExponent(w, pw, [ch], opts.bits, exponents[c], codes, one);
      scales[c] = one[0];
    });
    const mean = exponents.reduce((s, a) => s + a, 0) / exponents.length;
    const out: NupesWeight = { bits: opts.bits, exponent: mean, exponents, codes, scales, axis: opts.axis, dims: [...t.dims], error: 0 };
    const dec = decodeNupes(out);
    for (let i = 0; i < w.length; i++) out.error += (w[i] - dec[i]) ** 2;
    return out;
  }
  const powAt = (a: number) => {
    for (let i = 0; i < w.length; i++) pw[i] = Math.abs(w[i]) ** a;
  };
  let a = opts.exponent;
  if (a === undefined) {
    const [lo, hi] = opts.range ?? [0.25, 1.25];
    a = minimizeScalar(
      (x) => {
        powAt(x);
        return fitExponent(w, pw, chans, opts.bits, x);
      },
      lo,
      hi,
      { scan: 9, tol: 5e-3, also: [1] },
    ).x;
  }
  a = Math.fround(a);
  powAt(a);
  const codes = new Uint8Array(w.length);
  const scales = new Float32Array(chans.length);
  fitExponent(w, pw, chans, opts.bits, a, codes, scales);
  const out: NupesWeight = { bits: opts.bits, exponent: a, codes, scales, axis: opts.axis, dims: [...t.dims], error: 0 };
  const dec = decodeNupes(out);
  let e = 0;
  for (let i = 0; i < w.length; i++) e += (w[i] - dec[i]) ** 2;
  out.error = e;
  return out;
}
