/**
 * The weight naming scheme of an snc supernet: the interface PyTorch users export to.
 * Linear weights are [out, in] and convolution weights [out, in, kh, kw], as in PyTorch.
 * docs/weights.md documents the same list.
 */
import { SncError } from '../errors.js';
import { f32, numel, type Tensor } from '../onnx/tensor.js';
import { stemStride, type Architecture } from './spec.js';

export type WeightShapes = Map<string, number[]>;

function linear(m: WeightShapes, name: string, out: number, inp: number): void {
  m.set(`${name}.weight`, [out, inp]);
  m.set(`${name}.bias`, [out]);
}
function norm(m: WeightShapes, name: string, width: number): void {
  m.set(`${name}.weight`, [width]);
  m.set(`${name}.bias`, [width]);
}
function mlp(m: WeightShapes, name: string, dims: number[]): void {
  for (let i = 0; i + 1 < dims.length; i++) linear(m, `${name}.layers.${i}`, dims[i + 1], dims[i]);
}

/** Every tensor a supernet of this architecture stores, with its shape, in a fixed order. */
export function weightShapes(a: Architecture): WeightShapes {
  const m: WeightShapes = new Map();
  const { width: C, depth, mlpRatio, inChannels, storedPatch: P, posGrid } = a.backbone;
  const { width: D, heads: H, points, ffn, maxLayers, maxQueries } = a.decoder;
  const K = a.numClasses;
  const stem = a.backbone.stem;
  if (stem) {
    let cin = inChannels;
    stem.channels.forEach((c, i) => {
      m.set(`backbone.stem.layers.${i}.conv.weight`, [c, cin, 3, 3]);
      norm(m, `backbone.stem.layers.${i}.norm`, c);
      for (let j = 0; j < (stem.blocks?.[i] ?? 0); j++) {
        const r = `backbone.stem.blocks.${i}.${j}`;
        m.set(`${r}.cv1.conv.weight`, [c, c, 3, 3]);
        norm(m, `${r}.cv1.norm`, c);
        m.set(`${r}.conv2.weight`, [c, c, 3, 3]);
        norm(m, `${r}.norm2`, c);
      }
      cin = c;
    });
    const k = P / stemStride(a);
    m.set('backbone.patch_embed.weight', [C, cin, k, k]);
  } else m.set('backbone.patch_embed.weight', [C, inChannels, P, P]);
  m.set('backbone.patch_embed.bias', [C]);
  const cls = a.backbone.clsToken === true;
  if (cls) m.set('backbone.cls_token', [1, 1, C]);
  m.set('backbone.pos_embed', [1, (cls ? 1 : 0) + posGrid * posGrid, C]);
  for (let i = 0; i < depth; i++) {
    const b = `backbone.blocks.${i}`;
    norm(m, `${b}.norm1`, C);
    linear(m, `${b}.attn.qkv`, 3 * C, C);
    linear(m, `${b}.attn.proj`, C, C);
    m.set(`${b}.ls1.gamma`, [C]);
    norm(m, `${b}.norm2`, C);
    linear(m, `${b}.mlp.fc1`, C * mlpRatio, C);
    linear(m, `${b}.mlp.fc2`, C, C * mlpRatio);
    m.set(`${b}.ls2.gamma`, [C]);
  }
  norm(m, 'backbone.norm', C);
  const T = a.backbone.tapBlocks.length;
  const p = a.projector ?? { type: 'linear' };
  if (p.type === 'c2f') {
    const c = D / 2;
    const convx = (name: string, out: number, inp: number, k: number) => {
      m.set(`${name}.conv.weight`, [out, inp, k, k]);
      norm(m, `${name}.norm`, out);
    };
    convx('projector.cv1', 2 * c, C * T, 1);
    for (let j = 0; j < p.bottlenecks; j++) {
      convx(`projector.m.${j}.cv1`, c, c, 3);
      convx(`projector.m.${j}.cv2`, c, c, 3);
    }
    convx('projector.cv2', D, (2 + p.bottlenecks) * c, 1);
  } else linear(m, 'projector.linear', D, C * T);
  norm(m, 'projector.norm', D);
  linear(m, 'two_stage.enc_output', D, D);
  norm(m, 'two_stage.enc_output_norm', D);
  linear(m, 'two_stage.class_head', K, D);
  mlp(m, 'two_stage.bbox_head', [D, D, D, 4]);
  m.set('query_feat.weight', [maxQueries, D]);
  if (a.decoder.refpointEmbed) m.set('refpoint_embed.weight', [maxQueries, 4]);
  mlp(m, 'decoder.ref_point_head', [a.decoder.queryPos === 'sine' ? 2 * D : 4, D, D]);
  for (let l = 0; l < maxLayers; l++) {
    const d = `decoder.layers.${l}`;
    for (const p of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) linear(m, `${d}.self_attn.${p}`, D, D);
    norm(m, `${d}.norm1`, D);
    linear(m, `${d}.cross_attn.sampling_offsets`, H * points * 2, D);
    linear(m, `${d}.cross_attn.attention_weights`, H * points, D);
    linear(m, `${d}.cross_attn.value_proj`, D, D);
    linear(m, `${d}.cross_attn.output_proj`, D, D);
    norm(m, `${d}.norm2`, D);
    linear(m, `${d}.ffn.fc1`, ffn, D);
    linear(m, `${d}.ffn.fc2`, D, ffn);
    norm(m, `${d}.norm3`, D);
  }
  if (a.decoder.finalNorm) norm(m, 'decoder.norm', D);
  linear(m, 'decoder.class_head', K, D);
  mlp(m, 'decoder.bbox_head', [D, D, D, 4]);
  return m;
}

/** Weights by name, checked against the architecture. */
export class Weights {
  constructor(private readonly map: Map<string, Tensor>, readonly hash: string) {}

  get(name: string): Tensor {
    const t = this.map.get(name);
    if (!t) throw new SncError(`weights: tensor '${name}' is missing`);
    return t;
  }

  get size(): number {
    return this.map.size;
  }

  entries(): IterableIterator<[string, Tensor]> {
    return this.map.entries();
  }

  /** Throws one SncError for the first missing, extra-typed or mis-shaped tensor. */
  static check(map: Map<string, Tensor>, a: Architecture, hash: string, source: string): Weights {
    for (const [name, dims] of weightShapes(a)) {
      const t = map.get(name);
      if (!t) throw new SncError(`${source}: tensor '${name}' is missing (expected float32 [${dims.join(', ')}])`);
      if (t.dtype !== 'float32') throw new SncError(`${source}: tensor '${name}' is ${t.dtype}; snc supernets store float32`);
      if (t.dims.length !== dims.length || t.dims.some((d, i) => d !== dims[i]))
        throw new SncError(`${source}: tensor '${name}' has shape [${t.dims.join(', ')}], expected [${dims.join(', ')}]`);
      const data = t.data as Float32Array;
      for (let i = 0; i < data.length; i++)
        if (!Number.isFinite(data[i])) throw new SncError(`${source}: tensor '${name}' holds ${data[i]} at index ${i}; weights must be finite numbers`);
    }
    return new Weights(map, hash);
  }
}

/** A small, fast, seeded PRNG (mulberry32) with a Box-Muller normal. */
export class Rng {
  private s: number;
  private spare: number | undefined;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Shuffles in place (Fisher-Yates) and returns the array. */
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [xs[i], xs[j]] = [xs[j], xs[i]];
    }
    return xs;
  }
  normal(): number {
    if (this.spare !== undefined) {
      const v = this.spare;
      this.spare = undefined;
      return v;
    }
    const u = 1 - this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

/**
 * Seeded weights with the usual initialisation (normal std 0.02 for weights, zero biases,
 * unit norms, small layer scales). For latency work on presets; never a trained model.
 */
export function seededWeights(a: Architecture, seed: number): Map<string, Tensor> {
  const rng = new Rng(seed);
  const out = new Map<string, Tensor>();
  for (const [name, dims] of weightShapes(a)) {
    const data = new Float32Array(numel(dims));
    const leaf = name.slice(name.lastIndexOf('.') + 1);
    const isNorm = /norm\d?$|\.norm$/.test(name.slice(0, name.lastIndexOf('.')));
    if (leaf === 'gamma') data.fill(0.1);
    else if (isNorm && leaf === 'weight') data.fill(1);
    else if (leaf === 'bias') {
      if (name === 'two_stage.class_head.bias' || name === 'decoder.class_head.bias') data.fill(-4.6); // prior 0.01
    } else for (let i = 0; i < data.length; i++) data[i] = 0.02 * rng.normal();
    if (name.endsWith('sampling_offsets.bias')) for (let i = 0; i < data.length; i++) data[i] = rng.next() * 2 - 1;
    out.set(name, f32(dims, data));
  }
  return out;
}
