/**
 * Weight resizing done once at export (the results are constants in the ONNX):
 * - the position table, bicubic as PyTorch's F.interpolate(mode='bicubic', align_corners=False),
 *   with or without antialias=True;
 * - the patch-embedding kernel, FlexiViT's pseudo-inverse resize (PI-resize) built on
 *   PyTorch's bilinear F.interpolate(align_corners=False).
 * Both are computed in float64.
 */

const A = -0.75;
const cc1 = (x: number) => ((A + 2) * x - (A + 3)) * x * x + 1;
const cc2 = (x: number) => ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;

/** 1-D bicubic resampling matrix [out x in], with PyTorch's index clamping at the borders. */
export function bicubicMatrix(inSize: number, outSize: number): Float64Array {
  const m = new Float64Array(outSize * inSize);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    const src = scale * (o + 0.5) - 0.5;
    const i0 = Math.floor(src);
    const t = src - i0;
    const w = [cc2(t + 1), cc1(t), cc1(1 - t), cc2(2 - t)];
    for (let k = 0; k < 4; k++) {
      const idx = Math.min(Math.max(i0 - 1 + k, 0), inSize - 1);
      m[o * inSize + idx] += w[k];
    }
  }
  return m;
}

/** Keys' cubic convolution kernel with a = -0.5, as PyTorch's antialiased bicubic uses it. */
function cubicAA(x: number): number {
  const a = -0.5;
  x = Math.abs(x);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0;
}

/**
 * 1-D resampling matrix [out x in] of PyTorch's F.interpolate(mode='bicubic', antialias=True,
 * align_corners=False): a = -0.5, the kernel stretched by the scale when shrinking, taps outside
 * the input dropped (no edge clamping) and the remaining weights normalised to sum 1.
 */
export function bicubicAntialiasMatrix(inSize: number, outSize: number): Float64Array {
  const m = new Float64Array(outSize * inSize);
  const scale = inSize / outSize;
  const support = scale >= 1 ? 2 * scale : 2;
  const invscale = scale >= 1 ? 1 / scale : 1;
  for (let o = 0; o < outSize; o++) {
    const center = scale * (o + 0.5);
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize);
    let total = 0;
    for (let j = xmin; j < xmax; j++) total += cubicAA((j - center + 0.5) * invscale);
    for (let j = xmin; j < xmax; j++) {
      const w = cubicAA((j - center + 0.5) * invscale);
      m[o * inSize + j] = total !== 0 ? w / total : w;
    }
  }
  return m;
}

/** 1-D bilinear resampling matrix [out x in] (align_corners=False, no antialias). */
export function bilinearMatrix(inSize: number, outSize: number): Float64Array {
  const m = new Float64Array(outSize * inSize);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    const src = Math.max(scale * (o + 0.5) - 0.5, 0);
    const i0 = Math.min(Math.floor(src), inSize - 1);
    const i1 = Math.min(i0 + 1, inSize - 1);
    const l1 = src - i0;
    m[o * inSize + i0] += 1 - l1;
    m[o * inSize + i1] += l1;
  }
  return m;
}

/** Solves X = A^-1 B for square A [n x n] and B [n x m], Gauss-Jordan with partial pivoting. */
function solve(a: Float64Array, b: Float64Array, n: number, m: number): Float64Array {
  const A_ = Float64Array.from(a);
  const B_ = Float64Array.from(b);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(A_[r * n + c]) > Math.abs(A_[p * n + c])) p = r;
    if (Math.abs(A_[p * n + c]) < 1e-12) throw new Error('singular matrix in patch-kernel resize');
    if (p !== c) {
      for (let k = 0; k < n; k++) [A_[c * n + k], A_[p * n + k]] = [A_[p * n + k], A_[c * n + k]];
      for (let k = 0; k < m; k++) [B_[c * m + k], B_[p * m + k]] = [B_[p * m + k], B_[c * m + k]];
    }
    const piv = A_[c * n + c];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = A_[r * n + c] / piv;
      if (f === 0) continue;
      for (let k = c; k < n; k++) A_[r * n + k] -= f * A_[c * n + k];
      for (let k = 0; k < m; k++) B_[r * m + k] -= f * B_[c * m + k];
    }
  }
  for (let r = 0; r < n; r++) for (let k = 0; k < m; k++) B_[r * m + k] /= A_[r * n + r];
  return B_;
}

/** Multiplies [r x k] by [k x c]. */
function matmul(a: Float64Array, b: Float64Array, r: number, k: number, c: number): Float64Array {
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++)
    for (let j = 0; j < k; j++) {
      const v = a[i * k + j];
      if (v === 0) continue;
      for (let l = 0; l < c; l++) out[i * c + l] += v * b[j * c + l];
    }
  return out;
}

function transposeM(a: Float64Array, r: number, c: number): Float64Array {
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = a[i * c + j];
  return out;
}

/** pinv(B1^T) [p x P] for the 1-D bilinear matrix B1 [p x P] that resizes P samples to p. */
export function piResizeMatrix(from: number, to: number): Float64Array {
  const b = bilinearMatrix(from, to); // [to x from]
  const bt = transposeM(b, to, from); // [from x to]
  if (to <= from) {
    // (B B^T)^-1 B
    return solve(matmul(b, bt, to, from, to), b, to, from);
  }
  // B (B^T B)^-1  = ((B^T B)^-1 B^T)^T, since B^T B is symmetric
  return transposeM(solve(matmul(bt, b, from, to, from), bt, from, to), from, to);
}

/** Applies out[o] = M_rows . src . M_cols^T on the last two axes of [lead, inH, inW] data. */
function resize2d(src: Float32Array, lead: number, inH: number, inW: number, mh: Float64Array, outH: number, mw: Float64Array, outW: number): Float32Array {
  const out = new Float32Array(lead * outH * outW);
  const tmp = new Float64Array(inH * outW);
  for (let l = 0; l < lead; l++) {
    const base = l * inH * inW;
    tmp.fill(0);
    for (let i = 0; i < inH; i++)
      for (let o = 0; o < outW; o++) {
        let s = 0;
        for (let j = 0; j < inW; j++) s += mw[o * inW + j] * src[base + i * inW + j];
        tmp[i * outW + o] = s;
      }
    for (let o = 0; o < outH; o++)
      for (let c = 0; c < outW; c++) {
        let s = 0;
        for (let i = 0; i < inH; i++) s += mh[o * inH + i] * tmp[i * outW + c];
        out[l * outH * outW + o * outW + c] = s;
      }
  }
  return out;
}

/** Resizes a patch kernel [Cout, Cin, P, P] to [Cout, Cin, p, p] (FlexiViT PI-resize). */
export function resizePatchKernel(w: Float32Array, cout: number, cin: number, from: number, to: number): Float32Array {
  if (from === to) return w;
  const m = piResizeMatrix(from, to);
  return resize2d(w, cout * cin, from, from, m, to, m, to);
}

/**
 * Resizes a position table [1, S*S, C] (row-major grid) to [1, G*G, C], bicubic: PyTorch's
 * F.interpolate(mode='bicubic', align_corners=False), with antialias=True for 'bicubic-antialias'.
 */
export function resizePosTable(table: Float32Array, channels: number, from: number, to: number, mode: 'bicubic' | 'bicubic-antialias' = 'bicubic'): Float32Array {
  if (from === to) return table;
  // to channel-major [C, S, S], resize, back to [G*G, C]
  const cm = new Float32Array(channels * from * from);
  for (let p = 0; p < from * from; p++) for (let c = 0; c < channels; c++) cm[c * from * from + p] = table[p * channels + c];
  const m = mode === 'bicubic-antialias' ? bicubicAntialiasMatrix(from, to) : bicubicMatrix(from, to);
  const r = resize2d(cm, channels, from, from, m, to, m, to);
  const out = new Float32Array(to * to * channels);
  for (let p = 0; p < to * to; p++) for (let c = 0; c < channels; c++) out[p * channels + c] = r[c * to * to + p];
  return out;
}
