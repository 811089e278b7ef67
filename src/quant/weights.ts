/**
 * Symmetric integer weights, per output channel or per tensor: codes and scales of a float
 * weight, the clip taken at the largest magnitude or at the MSE-optimal clip (mse.ts).
 */
import type { Tensor } from '../onnx/tensor.js';
import { quantize, symmetricParams, type QuantGrid } from './grid.js';
import { mseClip } from './range/mse.js';

export type WeightClipping = 'max' | 'mse';

export interface QuantizedWeight {
  codes: Int8Array;
  /** One scale per channel along `axis`, or one for the tensor (axis undefined). */
  scales: Float32Array;
  axis: number | undefined;
  dims: number[];
}

/** Element i's channel along `axis` is floor(i / inner) % channels. */
export function channelLayout(dims: readonly number[], axis: number): { channels: number; inner: number } {
  let inner = 1;
  for (let d = axis + 1; d < dims.length; d++) inner *= dims[d];
  return { channels: dims[axis], inner };
}

/** The values of channel c (a copy). */
export function channelValues(data: Float32Array, dims: readonly number[], axis: number, c: number): Float32Array {
  const { channels, inner } = channelLayout(dims, axis);
  const outer = data.length / (channels * inner);
  const out = new Float32Array(outer * inner);
  let k = 0;
  for (let o = 0; o < outer; o++) {
    const base = (o * channels + c) * inner;
    for (let i = 0; i < inner; i++) out[k++] = data[base + i];
  }
  return out;
}

function clipOf(values: Float32Array, g: QuantGrid, clipping: WeightClipping): number {
  if (clipping === 'mse') return mseClip(values, g).clip;
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]));
  return m;
}

export function quantizeWeight(t: Tensor, g: QuantGrid, opts: { axis?: number; clipping?: WeightClipping }): QuantizedWeight {
  const data = t.data as Float32Array;
  const clipping = opts.clipping ?? 'max';
  const codes = new Int8Array(data.length);
  if (opts.axis === undefined) {
    const p = symmetricParams(clipOf(data, g, clipping), g);
    for (let i = 0; i < data.length; i++) codes[i] = quantize(data[i], p);
    return { codes, scales: Float32Array.of(p.scale), axis: undefined, dims: [...t.dims] };
  }
  const { channels, inner } = channelLayout(t.dims, opts.axis);
  const scales = new Float32Array(channels);
  const params = [];
  for (let c = 0; c < channels; c++) {
    const p = symmetricParams(clipOf(channelValues(data, t.dims, opts.axis, c), g, clipping), g);
    scales[c] = p.scale;
    params.push({ ...p, scale: scales[c] }); // the float32 scale the file stores
  }
  for (let i = 0; i < data.length; i++) codes[i] = quantize(data[i], params[Math.floor(i / inner) % channels]);
  return { codes, scales, axis: opts.axis, dims: [...t.dims] };
}

/** The float weights the codes stand for. */
export function dequantizeWeight(w: QuantizedWeight): Float32Array {
  const out = new Float32Array(w.codes.length);
  if (w.axis === undefined) {
    for (let i = 0; i < out.length; i++) out[i] = w.codes[i] * w.scales[0];
    return out;
  }
  const { channels, inner } = channelLayout(w.dims, w.axis);
  for (let i = 0; i < out.length; i++) out[i] = w.codes[i] * w.scales[Math.floor(i / inner) % channels];
  return out;
}
