/**
 * Typed helpers over GraphBuilder for the ops snc's models use. Each computes its output
 * shape, so a block knows its shapes without running it.
 */
import type { GraphBuilder, Value } from './builder.js';
import { attr } from './graph.js';
import { f32, type Tensor } from './tensor.js';

function broadcast(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`cannot broadcast [${a}] with [${b}]`);
    out.push(Math.max(x, y));
  }
  return out;
}

const binary = (op: string) => (g: GraphBuilder, a: Value, b: Value) => g.op(op, [a, b], broadcast(a.shape, b.shape));
export const add = binary('Add');
export const sub = binary('Sub');
export const mul = binary('Mul');
export const div = binary('Div');

const unary = (op: string) => (g: GraphBuilder, x: Value) => g.op(op, [x], x.shape);
export const relu = unary('Relu');
export const sigmoid = unary('Sigmoid');
export const log = unary('Log');
export const erf = unary('Erf');

export function matmul(g: GraphBuilder, a: Value, b: Value): Value {
  const batch = broadcast(a.shape.slice(0, -2), b.shape.slice(0, -2));
  return g.op('MatMul', [a, b], [...batch, a.shape[a.shape.length - 2], b.shape[b.shape.length - 1]]);
}

export function reshape(g: GraphBuilder, x: Value, shape: readonly number[]): Value {
  const n = x.shape.reduce((p, d) => p * d, 1);
  const m = shape.reduce((p, d) => p * d, 1);
  if (n !== m) throw new Error(`reshape of [${x.shape}] to [${shape}] changes the element count`);
  if (shape.length === x.shape.length && shape.every((d, i) => d === x.shape[i])) return x;
  return g.op('Reshape', [x, g.ints(shape)], shape);
}

export function transpose(g: GraphBuilder, x: Value, perm: readonly number[]): Value {
  if (perm.every((p, i) => p === i)) return x;
  return g.op('Transpose', [x], perm.map((p) => x.shape[p]), { perm });
}

export function softmax(g: GraphBuilder, x: Value, axis = -1): Value {
  return g.op('Softmax', [x], x.shape, { axis });
}

export function concat(g: GraphBuilder, xs: readonly Value[], axis: number): Value {
  if (xs.length === 1) return xs[0];
  const ax = axis < 0 ? xs[0].shape.length + axis : axis;
  const shape = [...xs[0].shape];
  shape[ax] = xs.reduce((s, x) => s + x.shape[ax], 0);
  return g.op('Concat', xs, shape, { axis });
}

export function split(g: GraphBuilder, x: Value, axis: number, sizes: readonly number[]): Value[] {
  const ax = axis < 0 ? x.shape.length + axis : axis;
  const shapes = sizes.map((s) => x.shape.map((d, i) => (i === ax ? s : d)));
  return g.opMulti('Split', [x, g.ints(sizes)], shapes, { axis });
}

/** Static slice along one axis: [start, end). */
export function slice(g: GraphBuilder, x: Value, axis: number, start: number, end: number): Value {
  const ax = axis < 0 ? x.shape.length + axis : axis;
  if (start === 0 && end === x.shape[ax]) return x;
  const shape = x.shape.map((d, i) => (i === ax ? end - start : d));
  return g.op('Slice', [x, g.ints([start]), g.ints([end]), g.ints([ax])], shape);
}

export function clip(g: GraphBuilder, x: Value, lo: number, hi: number): Value {
  return g.op('Clip', [x, g.scalar(lo), g.scalar(hi)], x.shape);
}

/** x @ W^T + b with W stored [out, in] as in PyTorch; the transpose is done at export. */
export function linear(g: GraphBuilder, x: Value, weight: Tensor, bias: Tensor | undefined, name: string): Value {
  const inp = weight.dims[1];
  if (x.shape[x.shape.length - 1] !== inp)
    throw new Error(`${name}: input width ${x.shape[x.shape.length - 1]} does not match weight [${weight.dims}]`);
  const wName = `${name}.weight`;
  const wt = g.hasInitializer(wName) ? g.initializer(wName, weight) : g.initializer(wName, transpose2d(weight));
  let y = matmul(g, x, wt);
  if (bias) y = add(g, y, g.initializer(`${name}.bias`, bias));
  return y;
}

export function transpose2d(t: Tensor): Tensor {
  const [r, c] = t.dims;
  const src = t.data as Float32Array;
  const dst = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) dst[j * r + i] = src[i * c + j];
  return f32([c, r], dst);
}

export function layerNorm(g: GraphBuilder, x: Value, weight: Tensor, bias: Tensor, eps: number, name: string): Value {
  return g.op(
    'LayerNormalization',
    [x, g.initializer(`${name}.weight`, weight), g.initializer(`${name}.bias`, bias)],
    x.shape,
    { axis: -1, epsilon: attr.float(eps) },
  );
}

/** Exact (erf) GELU, in the form onnxruntime fuses into one kernel. */
export function gelu(g: GraphBuilder, x: Value): Value {
  const e = erf(g, div(g, x, g.scalar(Math.SQRT2)));
  return mul(g, mul(g, x, add(g, e, g.scalar(1))), g.scalar(0.5));
}

/** log(x / (1 - x)) with both sides clamped to eps, as DETRs compute it. */
export function inverseSigmoid(g: GraphBuilder, x: Value, eps = 1e-5): Value {
  const x1 = clip(g, x, eps, 1);
  const x2 = clip(g, sub(g, g.scalar(1), x), eps, 1);
  return log(g, div(g, x1, x2));
}
