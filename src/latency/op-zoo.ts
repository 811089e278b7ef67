/**
 * The "op zoo": small seeded random networks built with snc's GraphBuilder, whose kernels
 * (after onnxruntime's own fusion) fill an op-level latency table. Shapes are sampled from the
 * ranges common CNNs and vision transformers use, in realistic context (a conv follows a conv,
 * attention follows a LayerNorm), and written in the forms PyTorch's exporter emits (Conv +
 * BatchNormalization + Relu/Clip/SiLU, MatMul + Add, erf GELU, qkv Reshape/Transpose/Gather),
 * so that onnxruntime fuses them as it fuses exported models.
 */
import { GraphBuilder, type Value } from '../onnx/builder.js';
import { attr } from '../onnx/graph.js';
import * as op from '../onnx/ops.js';
import { encodeModel } from '../onnx/writer.js';
import { f32, i64 } from '../onnx/tensor.js';
import { Rng } from '../detr/weights.js';
import type { ModelInput } from './runtime.js';

export interface ZooModel {
  name: string;
  family: 'cnn' | 'transformer';
  /** Multiply-accumulates of its Conv/MatMul layers (a size estimate). */
  macs: number;
  inputs: ModelInput[];
  build(): Uint8Array;
}

export interface ZooOptions {
  seed?: number;
  /** Number of CNN chains. */
  cnn?: number;
  /** Number of transformer models. */
  transformer?: number;
  /** Largest model, in multiply-accumulates (keeps each model a few ms on one core). */
  maxMacs?: number;
}

export const DEFAULT_ZOO: Required<ZooOptions> = { seed: 1, cnn: 48, transformer: 32, maxMacs: 600e6 };

const OPSET = 17;

class Ctx {
  macs = 0;
  private k = 0;
  /** Weights come from their own stream, so a dry run (shapes only) samples the same architecture. */
  private readonly wrng: Rng;
  constructor(readonly g: GraphBuilder, readonly rng: Rng, readonly dry: boolean, seed: number) {
    this.wrng = new Rng(seed ^ 0x5bd1e995);
  }

  name(base: string): string {
    return `${base}${this.k++}`;
  }

  randn(dims: number[], std: number) {
    const n = dims.reduce((p, d) => p * d, 1);
    const a = new Float32Array(n);
    if (!this.dry) for (let i = 0; i < n; i++) a[i] = this.wrng.normal() * std;
    return f32(dims, a);
  }

  weight(dims: number[], fanIn: number): Value {
    return this.g.initializer(this.name('w'), this.randn(dims, 1 / Math.sqrt(Math.max(1, fanIn))));
  }

  vector(n: number, mean: number, std: number): Value {
    const t = this.randn([n], std);
    const a = t.data as Float32Array;
    if (!this.dry) for (let i = 0; i < n; i++) a[i] += mean;
    return this.g.initializer(this.name('v'), t);
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rng.next() * xs.length)];
  }

  /** Log-uniform integer in [lo, hi], rounded to a multiple of `step`. */
  logUniform(lo: number, hi: number, step = 1): number {
    const v = Math.exp(Math.log(lo) + this.rng.next() * (Math.log(hi) - Math.log(lo)));
    return Math.max(step, Math.round(v / step) * step);
  }

  conv(x: Value, cout: number, k: number, stride: number, groups = 1, bias = false): Value {
    const [n, c, h, w] = x.shape;
    // keep weights small (a few MB): big channel counts get small kernels, as in real networks
    while (k > 1 && groups === 1 && cout * c * k * k > 1.2e6 && k !== stride) k -= 2;
    const pad = k === stride ? 0 : Math.floor(k / 2);
    const ho = Math.floor((h + 2 * pad - k) / stride) + 1;
    const wo = Math.floor((w + 2 * pad - k) / stride) + 1;
    const wt = this.weight([cout, c / groups, k, k], (c / groups) * k * k);
    this.macs += n * cout * ho * wo * (c / groups) * k * k;
    const ins = bias ? [x, wt, this.vector(cout, 0, 0.1)] : [x, wt];
    return this.g.op('Conv', ins, [n, cout, ho, wo], { kernel_shape: [k, k], pads: [pad, pad, pad, pad], strides: [stride, stride], group: groups, dilations: [1, 1] });
  }

  bn(x: Value): Value {
    const c = x.shape[1];
    return this.g.op('BatchNormalization', [x, this.vector(c, 1, 0.1), this.vector(c, 0, 0.1), this.vector(c, 0, 0.1), this.varVector(c)], x.shape, { epsilon: attr.float(1e-5) });
  }

  private varVector(n: number): Value {
    const a = new Float32Array(n);
    if (!this.dry) for (let i = 0; i < n; i++) a[i] = 0.5 + this.wrng.next();
    return this.g.initializer(this.name('var'), f32([n], a));
  }

  act(x: Value, kind: 'relu' | 'relu6' | 'silu' | 'none'): Value {
    if (kind === 'relu') return op.relu(this.g, x);
    if (kind === 'relu6') return op.clip(this.g, x, 0, 6);
    if (kind === 'silu') return op.mul(this.g, x, op.sigmoid(this.g, x));
    return x;
  }

  /** x @ W + b as PyTorch exports nn.Linear on a 3-D input (MatMul then Add). */
  linear(x: Value, out: number): Value {
    const k = x.shape[x.shape.length - 1];
    this.macs += (x.shape.reduce((p, d) => p * d, 1) / k) * k * out;
    return op.add(this.g, op.matmul(this.g, x, this.weight([k, out], k)), this.vector(out, 0, 0.02));
  }

  layerNorm(x: Value): Value {
    const d = x.shape[x.shape.length - 1];
    return this.g.op('LayerNormalization', [x, this.vector(d, 1, 0.05), this.vector(d, 0, 0.05)], x.shape, { axis: -1, epsilon: attr.float(1e-6) });
  }
}

const round8 = (v: number) => Math.max(8, Math.round(v / 8) * 8);

/** A chain of CNN layers: plain convs, depthwise convs, residual and inverted-residual blocks, pools. */
function cnnGraph(index: number, seed: number, maxMacs: number, dry: boolean): Generated {
  const rng = new Rng(seed * 1000 + index);
  const g = new GraphBuilder(`zoo-cnn-${index}`);
  const c = new Ctx(g, rng, dry, seed * 1000 + index);
  const acts = ['relu', 'relu', 'relu6', 'silu'] as const;
  const act = c.pick(acts);
  let x: Value;
  let inputs: ModelInput[];
  const fromImage = rng.next() < 0.4;
  if (fromImage) {
    const res = c.pick([64, 96, 128, 160, 192, 224, 256, 320]);
    inputs = [{ name: 'input', dims: [1, 3, res, res], dtype: 'float32' }];
    x = g.input('input', 'float32', [1, 3, res, res]);
    const patch = rng.next() < 0.25;
    if (patch) {
      const p = c.pick([4, 8, 14, 16, 32].filter((q) => res % q === 0 && res / q >= 4));
      x = c.conv(x, round8(c.logUniform(32, 768, 8)), p, p, 1, true);
    } else {
      x = c.act(c.bn(c.conv(x, round8(c.logUniform(8, 64, 8)), c.pick([3, 3, 5, 7]), 2)), act);
      if (rng.next() < 0.5) x = g.op('MaxPool', [x], [1, x.shape[1], Math.floor((x.shape[2] - 1) / 2) + 1, Math.floor((x.shape[3] - 1) / 2) + 1], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] });
    }
  } else {
    const ch = round8(c.logUniform(8, 384, 8));
    const hw = c.logUniform(7, Math.max(8, Math.min(112, Math.round(Math.sqrt(4e5 / ch)))));
    inputs = [{ name: 'input', dims: [1, ch, hw, hw], dtype: 'float32' }];
    x = g.input('input', 'float32', [1, ch, hw, hw]);
  }
  const layers = 4 + Math.floor(rng.next() * 10);
  for (let l = 0; l < layers && c.macs < maxMacs; l++) {
    const [, ch, h] = x.shape;
    const canDown = h >= 8;
    const kind = c.pick(['conv', 'conv', 'dw', 'basic', 'basic', 'inverted', 'inverted', 'pool'] as const);
    const stride = canDown && rng.next() < 0.3 ? 2 : 1;
    const grow = (f: number) => Math.min(1024, round8(ch * f));
    const before = c.macs;
    if (kind === 'conv') {
      const k = c.pick([1, 1, 3, 3, 3, 5, 7]);
      x = c.act(c.bn(c.conv(x, grow(c.pick([0.5, 1, 1, 1.5, 2, 4])), k, stride)), act);
    } else if (kind === 'dw') {
      x = c.act(c.bn(c.conv(x, ch, c.pick([3, 3, 5, 7]), stride, ch)), act);
    } else if (kind === 'basic') {
      const cout = stride === 2 ? grow(2) : ch;
      let y = c.act(c.bn(c.conv(x, cout, 3, stride)), act);
      y = c.bn(c.conv(y, cout, 3, 1));
      const short = stride === 1 && cout === ch ? x : c.bn(c.conv(x, cout, 1, stride));
      x = c.act(op.add(g, y, short), act);
    } else if (kind === 'inverted') {
      const t = c.pick([1, 2, 3, 4, 6]);
      const cout = stride === 2 ? grow(c.pick([1, 1.5, 2])) : c.pick([ch, ch, grow(1.5)]);
      let y = t === 1 ? x : c.act(c.bn(c.conv(x, round8(ch * t), 1, 1)), act === 'relu' ? 'relu6' : act);
      y = c.act(c.bn(c.conv(y, y.shape[1], c.pick([3, 3, 5]), stride, y.shape[1])), act === 'relu' ? 'relu6' : act);
      y = c.bn(c.conv(y, cout, 1, 1));
      x = stride === 1 && cout === ch ? op.add(g, x, y) : y;
    } else if (canDown) {
      const max = rng.next() < 0.6;
      x = max
        ? g.op('MaxPool', [x], [1, ch, Math.floor((h - 1) / 2) + 1, Math.floor((x.shape[3] - 1) / 2) + 1], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] })
        : g.op('AveragePool', [x], [1, ch, Math.floor(h / 2), Math.floor(x.shape[3] / 2)], { kernel_shape: [2, 2], strides: [2, 2] });
    }
    if (c.macs > maxMacs && l > 0 && c.macs - before > maxMacs / 2) break;
  }
  if (rng.next() < 0.6) {
    x = g.op('GlobalAveragePool', [x], [1, x.shape[1], 1, 1]);
    x = g.op('Flatten', [x], [1, x.shape[1]], { axis: 1 });
    const classes = c.pick([10, 100, 1000]);
    c.macs += x.shape[1] * classes;
    x = g.op('Gemm', [x, c.weight([classes, x.shape[1]], x.shape[1]), c.vector(classes, 0, 0.02)], [1, classes], { transB: 1 });
  }
  g.output(x, 'output');
  return { g, macs: c.macs, inputs };
}

/** One or two pre-norm transformer blocks, optionally with a ViT patch embedding and head. */
function transformerGraph(index: number, seed: number, maxMacs: number, dry: boolean): Generated {
  const rng = new Rng(seed * 1000 + 500 + index);
  const g = new GraphBuilder(`zoo-transformer-${index}`);
  const c = new Ctx(g, rng, dry, seed * 1000 + 500 + index);
  const dim = c.logUniform(64, 768, 32);
  const headDim = c.pick([32, 64, 64].filter((d) => dim % d === 0).concat(dim % 48 === 0 ? [48] : []));
  const heads = dim / headDim;
  const ratio = c.pick([2, 3, 4, 4]);
  const depth = c.pick([1, 1, 2]);
  const perToken = depth * (4 * dim * dim + 2 * ratio * dim * dim);
  let tokens = c.logUniform(16, 1024);
  // attention is 2·T²·D per block: keep the whole model under maxMacs
  while (tokens > 16 && tokens * perToken + depth * 2 * tokens * tokens * dim > maxMacs) tokens = Math.floor(tokens * 0.85);
  const vit = rng.next() < 0.35;
  let x: Value;
  let inputs: ModelInput[];
  if (vit) {
    const patch = c.pick([8, 14, 16, 16, 32]);
    const side = Math.max(2, Math.round(Math.sqrt(tokens)));
    const res = side * patch;
    inputs = [{ name: 'input', dims: [1, 3, res, res], dtype: 'float32' }];
    const img = g.input('input', 'float32', [1, 3, res, res]);
    let p = c.conv(img, dim, patch, patch, 1, true);
    p = op.reshape(g, p, [1, dim, side * side]);
    p = op.transpose(g, p, [0, 2, 1]);
    const cls = g.initializer(c.name('cls'), c.randn([1, 1, dim], 0.02));
    x = op.concat(g, [cls, p], 1);
    tokens = side * side + 1;
    x = op.add(g, x, g.initializer(c.name('pos'), c.randn([1, tokens, dim], 0.02)));
  } else {
    inputs = [{ name: 'input', dims: [1, tokens, dim], dtype: 'float32' }];
    x = g.input('input', 'float32', [1, tokens, dim]);
  }
  const T = tokens;
  const fusedQkv = rng.next() < 0.7;
  for (let b = 0; b < depth; b++) {
    const h = c.layerNorm(x);
    let q: Value;
    let k: Value;
    let v: Value;
    if (fusedQkv) {
      // timm / torchvision style: one qkv Linear, reshape, permute, index
      let qkv = c.linear(h, 3 * dim);
      qkv = op.reshape(g, qkv, [1, T, 3, heads, headDim]);
      qkv = op.transpose(g, qkv, [2, 0, 3, 1, 4]);
      const pickAt = (i: number) => g.op('Gather', [qkv, g.constant(i64([], [i]), 'index')], [1, heads, T, headDim], { axis: 0 });
      [q, k, v] = [pickAt(0), pickAt(1), pickAt(2)];
    } else {
      const split = (y: Value) => op.transpose(g, op.reshape(g, y, [1, T, heads, headDim]), [0, 2, 1, 3]);
      [q, k, v] = [split(c.linear(h, dim)), split(c.linear(h, dim)), split(c.linear(h, dim))];
    }
    c.macs += 2 * heads * T * T * headDim;
    let a = op.matmul(g, q, op.transpose(g, k, [0, 1, 3, 2]));
    a = op.mul(g, a, g.scalar(1 / Math.sqrt(headDim)));
    a = op.softmax(g, a, -1);
    let o = op.matmul(g, a, v);
    o = op.reshape(g, op.transpose(g, o, [0, 2, 1, 3]), [1, T, dim]);
    x = op.add(g, x, c.linear(o, dim));
    let m = c.linear(c.layerNorm(x), ratio * dim);
    m = op.gelu(g, m);
    x = op.add(g, x, c.linear(m, dim));
  }
  if (vit) {
    x = c.layerNorm(x);
    x = g.op('Gather', [x, g.constant(i64([], [0]), 'index')], [1, dim], { axis: 1 });
    const classes = c.pick([10, 100, 1000]);
    c.macs += dim * classes;
    x = g.op('Gemm', [x, c.weight([classes, dim], dim), c.vector(classes, 0, 0.02)], [1, classes], { transB: 1 });
  }
  g.output(x, 'output');
  return { g, macs: c.macs, inputs };
}

interface Generated {
  g: GraphBuilder;
  macs: number;
  inputs: ModelInput[];
}

function zooModel(family: ZooModel['family'], gen: (dry: boolean) => Generated): ZooModel {
  const { g, macs, inputs } = gen(true);
  return { name: g.name, family, macs, inputs, build: () => encodeModel({ graph: gen(false).g.build(), opset: OPSET, metadata: {} }) };
}

/** The zoo: seeded, so the same options give the same models. */
export function opZoo(opts: ZooOptions = {}): ZooModel[] {
  const o = { ...DEFAULT_ZOO, ...opts };
  const out: ZooModel[] = [];
  for (let i = 0; i < o.cnn; i++) out.push(zooModel('cnn', (dry) => cnnGraph(i, o.seed, o.maxMacs, dry)));
  for (let i = 0; i < o.transformer; i++) out.push(zooModel('transformer', (dry) => transformerGraph(i, o.seed, o.maxMacs, dry)));
  return out;
}
