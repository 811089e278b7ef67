/**
 * The supernet's building blocks, each a function from input values to output values on a
 * GraphBuilder. The same functions build a whole subnet and each block alone (the latency
 * profiler times blocks), so a block's cost in the LUT is the cost of the code that ships.
 *
 * Export-time folding (exact up to float rounding): the attention scale into the query
 * projection, layer-scale gammas into the preceding projection, the 2/P offset factor into
 * sampling_offsets, and the Q/K and offset/weight projections merged into one MatMul each.
 */
import type { GraphBuilder, Value } from '../onnx/builder.js';
import * as op from '../onnx/ops.js';
import { f32, type Tensor } from '../onnx/tensor.js';
import { resizePatchKernel, resizePosTable } from './resize.js';
import { stemStride, type Architecture, type SubnetConfig } from './spec.js';
import type { Weights } from './weights.js';

/** Shapes a block needs to know besides its inputs. */
export interface Geometry {
  res: number;
  patch: number;
  /** Patch grid side G = res / patch. */
  grid: number;
  windows: number;
  /** Tokens N = G * G. */
  tokens: number;
  queries: number;
  layers: number;
}

export function geometry(c: SubnetConfig): Geometry {
  const grid = c.resolution / c.patch;
  return { res: c.resolution, patch: c.patch, grid, windows: c.windows, tokens: grid * grid, queries: c.queries, layers: c.layers };
}

/** Length of the backbone's token sequence: the patch tokens, and one CLS token per window when the family has them. */
export function sequenceLength(a: Architecture, geo: Geometry): number {
  return geo.tokens + (a.backbone.clsToken ? geo.windows * geo.windows : 0);
}

function scaleRows(t: Tensor, rows: [number, number], s: number | Float32Array): Tensor {
  const dims = t.dims;
  const cols = dims.length === 2 ? dims[1] : 1;
  const data = Float32Array.from(t.data as Float32Array);
  for (let r = rows[0]; r < rows[1]; r++) {
    const f = typeof s === 'number' ? s : s[r];
    for (let c = 0; c < cols; c++) data[r * cols + c] *= f;
  }
  return f32(dims, data);
}

function sliceRows(t: Tensor, from: number, to: number): Tensor {
  const cols = t.dims.length === 2 ? t.dims[1] : 1;
  const data = (t.data as Float32Array).slice(from * cols, to * cols);
  return f32(t.dims.length === 2 ? [to - from, cols] : [to - from], data);
}

const catRows = (ts: Tensor[]): Tensor => {
  const cols = ts[0].dims.length === 2 ? ts[0].dims[1] : undefined;
  const rows = ts.reduce((s, t) => s + t.dims[0], 0);
  const data = new Float32Array(ts.reduce((s, t) => s + t.data.length, 0));
  let o = 0;
  for (const t of ts) {
    data.set(t.data as Float32Array, o);
    o += t.data.length;
  }
  return f32(cols === undefined ? [rows] : [rows, cols], data);
};

/** Token order inside the backbone: window-major, so windowed attention is a plain reshape. */
function windowPermutation(grid: number, windows: number): Int32Array {
  const g = grid / windows;
  const perm = new Int32Array(grid * grid);
  let k = 0;
  for (let wy = 0; wy < windows; wy++)
    for (let wx = 0; wx < windows; wx++)
      for (let y = 0; y < g; y++) for (let x = 0; x < g; x++) perm[k++] = (wy * g + y) * grid + (wx * g + x);
  return perm;
}

/**
 * image [B,3,R,R] -> tokens [B,N,C] in window-major order, position table added. With CLS
 * tokens: [B, nw²·(1+n), C], each window's n patch tokens after its CLS token (cls_token plus
 * its position entry, a constant), so windowed attention is still a plain reshape and global
 * attention sees every window's CLS token.
 */
export function patchEmbed(g: GraphBuilder, a: Architecture, w: Weights, geo: Geometry, image: Value): Value {
  const { width: C, posGrid } = a.backbone;
  const B = image.shape[0];
  const { patch, grid: G, windows: nw, tokens: N } = geo;
  // with a conv stem, the patch embedding runs on its output at patch / S (spec.ts, backbone.stem)
  const S = stemStride(a);
  const input = a.backbone.stem ? convStem(g, a, w, image) : image;
  const inChannels = input.shape[1];
  const p = patch / S;
  const storedPatch = a.backbone.storedPatch / S;
  const kernelName = p === storedPatch ? 'backbone.patch_embed.weight' : `backbone.patch_embed.weight@patch${patch}`;
  const kernel = g.hasInitializer(kernelName)
    ? g.initializer(kernelName, w.get('backbone.patch_embed.weight'))
    : g.initializer(kernelName, f32([C, inChannels, p, p], resizePatchKernel(w.get('backbone.patch_embed.weight').data as Float32Array, C, inChannels, storedPatch, p)));
  const conv = g.op('Conv', [input, kernel, g.initializer('backbone.patch_embed.bias', w.get('backbone.patch_embed.bias'))], [B, C, G, G], {
    kernel_shape: [p, p],
    strides: [p, p],
  });
  let tokens: Value;
  if (nw === 1) tokens = op.transpose(g, op.reshape(g, conv, [B, C, N]), [0, 2, 1]);
  else {
    const gs = G / nw;
    tokens = op.reshape(g, op.transpose(g, op.reshape(g, conv, [B, C, nw, gs, nw, gs]), [0, 2, 4, 3, 5, 1]), [B, N, C]);
  }
  const cls = a.backbone.clsToken === true;
  const stored = w.get('backbone.pos_embed').data as Float32Array;
  const posName = `backbone.pos_embed@grid${G}w${nw}`;
  let pos: Value;
  if (g.hasInitializer(posName)) pos = g.initializer(posName, w.get('backbone.pos_embed'));
  else {
    const table = resizePosTable(cls ? stored.subarray(C) : stored, C, posGrid, G, a.backbone.posResize ?? 'bicubic');
    const perm = windowPermutation(G, nw);
    const permuted = new Float32Array(N * C);
    for (let i = 0; i < N; i++) permuted.set(table.subarray(perm[i] * C, perm[i] * C + C), i * C);
    pos = g.initializer(posName, f32([1, N, C], permuted));
  }
  const x = op.add(g, tokens, pos);
  if (!cls) return x;
  const nwin = B * nw * nw;
  const clsName = `backbone.cls_token@b${nwin}`;
  let clsConst: Value;
  if (g.hasInitializer(clsName)) clsConst = g.initializer(clsName, w.get('backbone.cls_token'));
  else {
    const tok = w.get('backbone.cls_token').data as Float32Array;
    const data = new Float32Array(nwin * C);
    for (let k = 0; k < nwin; k++) for (let c = 0; c < C; c++) data[k * C + c] = tok[c] + stored[c];
    clsConst = g.initializer(clsName, f32([nwin, 1, C], data));
  }
  const joined = op.concat(g, [clsConst, op.reshape(g, x, [nwin, N / (nw * nw), C])], 1);
  return op.reshape(g, joined, [B, nwin * (1 + N / (nw * nw)), C]);
}

/**
 * The hybrid-ViT conv stem: image [B,3,R,R] -> [B,c,R/S,R/S]; per layer a 3x3 conv of stride 2
 * (padding 1, no bias), LayerNorm over channels (on NHWC), SiLU, then that layer's residual
 * blocks: x -> SiLU(x + LN(conv2(SiLU(LN(conv1 x))))).
 */
function convStem(g: GraphBuilder, a: Architecture, w: Weights, image: Value): Value {
  const stem = a.backbone.stem!;
  /** 3x3 conv (no bias) -> LayerNorm over channels -> optional residual -> SiLU, NCHW in and out. */
  const convNorm = (x: Value, convName: string, normName: string, stride: number, residual?: Value): Value => {
    const [B, , H, W] = x.shape;
    const c = w.get(convName).dims[0];
    const [h, wd] = stride === 2 ? [Math.floor((H + 1) / 2), Math.floor((W + 1) / 2)] : [H, W];
    const conv = g.op('Conv', [x, g.initializer(convName, w.get(convName))], [B, c, h, wd], { kernel_shape: [3, 3], strides: [stride, stride], pads: [1, 1, 1, 1] });
    const nhwc = op.transpose(g, conv, [0, 2, 3, 1]);
    let y = op.layerNorm(g, nhwc, w.get(`${normName}.weight`), w.get(`${normName}.bias`), stem.eps, normName);
    if (residual) y = op.add(g, op.transpose(g, residual, [0, 2, 3, 1]), y);
    return op.transpose(g, op.mul(g, y, op.sigmoid(g, y)), [0, 3, 1, 2]);
  };
  let x = image;
  stem.channels.forEach((_, i) => {
    const name = `backbone.stem.layers.${i}`;
    x = convNorm(x, `${name}.conv.weight`, `${name}.norm`, 2);
    for (let j = 0; j < (stem.blocks?.[i] ?? 0); j++) {
      const r = `backbone.stem.blocks.${i}.${j}`;
      const h = convNorm(x, `${r}.cv1.conv.weight`, `${r}.cv1.norm`, 1);
      x = convNorm(h, `${r}.conv2.weight`, `${r}.norm2`, 1, x);
    }
  });
  return x;
}

/** Multi-head attention core: q [B,n,H*Dh] (already scaled), k, v -> [B,n,H*Dh]. */
function attention(g: GraphBuilder, q: Value, k: Value, v: Value, heads: number): Value {
  const [B, n, W] = q.shape;
  const dh = W / heads;
  const qh = op.transpose(g, op.reshape(g, q, [B, n, heads, dh]), [0, 2, 1, 3]);
  const kh = op.transpose(g, op.reshape(g, k, [B, n, heads, dh]), [0, 2, 3, 1]);
  const vh = op.transpose(g, op.reshape(g, v, [B, n, heads, dh]), [0, 2, 1, 3]);
  const p = op.softmax(g, op.matmul(g, qh, kh), -1);
  return op.reshape(g, op.transpose(g, op.matmul(g, p, vh), [0, 2, 1, 3]), [B, n, W]);
}

/** Pre-norm ViT block i on tokens [B,N,C]; windowed unless the block is global. */
export function vitBlock(g: GraphBuilder, a: Architecture, w: Weights, geo: Geometry, i: number, x: Value): Value {
  const { width: C, heads, eps } = a.backbone;
  const pre = `backbone.blocks.${i}`;
  const [B, N] = x.shape;
  const windowed = geo.windows > 1 && !a.backbone.globalBlocks.includes(i);
  const nwin = windowed ? geo.windows * geo.windows : 1;
  let h = op.layerNorm(g, x, w.get(`${pre}.norm1.weight`), w.get(`${pre}.norm1.bias`), eps, `${pre}.norm1`);
  if (windowed) h = op.reshape(g, h, [B * nwin, N / nwin, C]);
  const scale = 1 / Math.sqrt(C / heads);
  const qkvW = scaleRows(w.get(`${pre}.attn.qkv.weight`), [0, C], scale);
  const qkvB = scaleRows(w.get(`${pre}.attn.qkv.bias`), [0, C], scale);
  // three projections instead of one and a Split: the Split would copy every q, k and v
  const rows = (t: Tensor, r: number) => sliceRows(t, r * C, (r + 1) * C);
  const [q, k, v] = ['q', 'k', 'v'].map((name, r) => op.linear(g, h, rows(qkvW, r), rows(qkvB, r), `${pre}.attn.${name}`));
  let o = attention(g, q, k, v, heads);
  if (windowed) o = op.reshape(g, o, [B, N, C]);
  const gamma1 = w.get(`${pre}.ls1.gamma`).data as Float32Array;
  o = op.linear(g, o, scaleRows(w.get(`${pre}.attn.proj.weight`), [0, C], gamma1), scaleRows(w.get(`${pre}.attn.proj.bias`), [0, C], gamma1), `${pre}.attn.proj`);
  x = op.add(g, x, o);
  h = op.layerNorm(g, x, w.get(`${pre}.norm2.weight`), w.get(`${pre}.norm2.bias`), eps, `${pre}.norm2`);
  h = op.gelu(g, op.linear(g, h, w.get(`${pre}.mlp.fc1.weight`), w.get(`${pre}.mlp.fc1.bias`), `${pre}.mlp.fc1`));
  const gamma2 = w.get(`${pre}.ls2.gamma`).data as Float32Array;
  h = op.linear(g, h, scaleRows(w.get(`${pre}.mlp.fc2.weight`), [0, C], gamma2), scaleRows(w.get(`${pre}.mlp.fc2.bias`), [0, C], gamma2), `${pre}.mlp.fc2`);
  return op.add(g, x, h);
}

/** Window-major [B,N,W] -> row-major spatial order [B,N,W]. */
function toRowMajor(g: GraphBuilder, x: Value, geo: Geometry): Value {
  const { windows: nw, grid: G } = geo;
  if (nw === 1) return x;
  const [B, N, W] = x.shape;
  const gs = G / nw;
  return op.reshape(g, op.transpose(g, op.reshape(g, x, [B, nw, nw, gs, gs, W]), [0, 1, 3, 2, 4, 5]), [B, N, W]);
}

/** Drops the CLS tokens of a backbone sequence: [B, nw²·(1+n), C] -> [B, N, C] (window-major). */
function dropCls(g: GraphBuilder, x: Value, geo: Geometry): Value {
  const [B, T, C] = x.shape;
  const nwin = geo.windows * geo.windows;
  const cut = op.slice(g, op.reshape(g, x, [B * nwin, T / nwin, C]), 1, 1, T / nwin);
  return op.reshape(g, cut, [B, geo.tokens, C]);
}

const silu = (g: GraphBuilder, x: Value) => op.mul(g, x, op.sigmoid(g, x));

/** A conv without bias, LayerNorm over channels, SiLU, on row-major [B,N,Cin] -> [B,N,Cout]; 1x1 convs run as MatMul. */
function convNormAct(g: GraphBuilder, w: Weights, name: string, x: Value, geo: Geometry, eps: number): Value {
  const kernel = w.get(`${name}.conv.weight`);
  const [cout, cin, k] = kernel.dims;
  let y: Value;
  if (k === 1) y = op.linear(g, x, f32([cout, cin], kernel.data as Float32Array), undefined, `${name}.conv`);
  else {
    const [B, N] = x.shape;
    const G = geo.grid;
    const nchw = op.reshape(g, op.transpose(g, x, [0, 2, 1]), [B, cin, G, G]);
    const conv = g.op('Conv', [nchw, g.initializer(`${name}.conv.weight`, kernel)], [B, cout, G, G], {
      kernel_shape: [k, k],
      pads: [k >> 1, k >> 1, k >> 1, k >> 1],
    });
    y = op.transpose(g, op.reshape(g, conv, [B, cout, N]), [0, 2, 1]);
  }
  return silu(g, op.layerNorm(g, y, w.get(`${name}.norm.weight`), w.get(`${name}.norm.bias`), eps, `${name}.norm`));
}

/** RF-DETR's C2f projector on row-major [B,N,T·C] -> [B,N,D] (architecture.md, step 5). */
function c2f(g: GraphBuilder, a: Architecture, w: Weights, geo: Geometry, x: Value, bottlenecks: number, eps: number): Value {
  const c = a.decoder.width / 2;
  const y = op.split(g, convNormAct(g, w, 'projector.cv1', x, geo, eps), -1, [c, c]);
  for (let j = 0; j < bottlenecks; j++) {
    const h = convNormAct(g, w, `projector.m.${j}.cv1`, y[y.length - 1], geo, eps);
    y.push(convNormAct(g, w, `projector.m.${j}.cv2`, h, geo, eps));
  }
  const out = convNormAct(g, w, 'projector.cv2', op.concat(g, y, -1), geo, eps);
  return op.layerNorm(g, out, w.get('projector.norm.weight'), w.get('projector.norm.bias'), eps, 'projector.norm');
}

/** Tapped tokens [B,N,C] x T -> memory [B,N,D] in row-major spatial order. */
export function projector(g: GraphBuilder, a: Architecture, w: Weights, geo: Geometry, taps: Value[]): Value {
  const patches = a.backbone.clsToken ? taps.map((t) => dropCls(g, t, geo)) : taps;
  const normed = patches.map((t) => op.layerNorm(g, t, w.get('backbone.norm.weight'), w.get('backbone.norm.bias'), a.backbone.eps, 'backbone.norm'));
  const p = a.projector;
  if (p?.type === 'c2f') return c2f(g, a, w, geo, toRowMajor(g, op.concat(g, normed, -1), geo), p.bottlenecks, p.eps);
  let m = op.linear(g, op.concat(g, normed, -1), w.get('projector.linear.weight'), w.get('projector.linear.bias'), 'projector.linear');
  m = op.layerNorm(g, m, w.get('projector.norm.weight'), w.get('projector.norm.bias'), a.decoder.eps, 'projector.norm');
  return toRowMajor(g, m, geo);
}

function mlp(g: GraphBuilder, w: Weights, name: string, x: Value, layers: number): Value {
  for (let i = 0; i < layers; i++) {
    x = op.linear(g, x, w.get(`${name}.layers.${i}.weight`), w.get(`${name}.layers.${i}.bias`), `${name}.layers.${i}`);
    if (i + 1 < layers) x = op.relu(g, x);
  }
  return x;
}

function anchorLogits(grid: number, size: number): Tensor {
  const data = new Float32Array(grid * grid * 4);
  const lg = (v: number) => Math.log(v / (1 - v));
  for (let y = 0; y < grid; y++)
    for (let x = 0; x < grid; x++) {
      const o = (y * grid + x) * 4;
      data[o] = lg((x + 0.5) / grid);
      data[o + 1] = lg((y + 0.5) / grid);
      data[o + 2] = lg(size);
      data[o + 3] = lg(size);
    }
  return f32([1, grid * grid, 4], data);
}

/**
 * The anchor boxes themselves, for box reparametrisation: centres and sizes [1,N,2] each, and
 * which are valid (every coordinate strictly inside (0.01, 0.99), compared in float32 as
 * RF-DETR does). Invalid anchors are all zero.
 */
function anchorBoxes(grid: number, size: number): { xy: Tensor; wh: Tensor; valid: Uint8Array } {
  const N = grid * grid;
  const xy = new Float32Array(N * 2);
  const wh = new Float32Array(N * 2);
  const valid = new Uint8Array(N);
  const lo = Math.fround(0.01);
  const hi = Math.fround(0.99);
  const s = Math.fround(size);
  for (let y = 0; y < grid; y++)
    for (let x = 0; x < grid; x++) {
      const i = y * grid + x;
      const box = [Math.fround((x + 0.5) / grid), Math.fround((y + 0.5) / grid), s, s];
      if (!box.every((v) => v > lo && v < hi)) continue;
      valid[i] = 1;
      xy.set(box.slice(0, 2), i * 2);
      wh.set(box.slice(2), i * 2);
    }
  return { xy: f32([1, N, 2], xy), wh: f32([1, N, 2], wh), valid };
}

const exp = (g: GraphBuilder, x: Value) => g.op('Exp', [x], x.shape);

/**
 * A box delta applied to boxes (both [..,4], cx cy w h): sigmoid(delta + logit(box)), or with
 * box reparametrisation xy = dxy * wh + xy, wh = exp(dwh) * wh.
 */
function applyDelta(g: GraphBuilder, a: Architecture, delta: Value, box: Value): Value {
  if (a.boxEncoding !== 'reparam') return op.sigmoid(g, op.add(g, delta, op.inverseSigmoid(g, box)));
  const [dxy, dwh] = op.split(g, delta, -1, [2, 2]);
  const [xy, wh] = op.split(g, box, -1, [2, 2]);
  return op.concat(g, [op.add(g, op.mul(g, dxy, wh), xy), op.mul(g, exp(g, dwh), wh)], -1);
}

/**
 * Two-stage query selection: every token proposes a box and class logits; the top-Q by best
 * class logit become the reference boxes. memory [B,N,D] -> proposals `boxes` [B,Q,4] and their
 * `logits` [B,Q,K] (the depth-0 output), and `ref` [B,Q,4], where the decoder starts: the
 * proposals, or with refpointEmbed the learned per-query boxes composed onto them. With
 * refpointEmbed Q may exceed the N tokens (RF-DETR): the top min(Q, N) are selected (and are
 * the depth-0 output), and queries N.. start from their learned boxes alone.
 * Batch 1: the selected indices gather along the token axis.
 */
export function twoStage(g: GraphBuilder, a: Architecture, w: Weights, geo: Geometry, memory: Value): { ref: Value; logits: Value; boxes: Value } {
  const [B, N] = memory.shape;
  const K = a.numClasses;
  const Q = geo.queries;
  const reparam = a.boxEncoding === 'reparam';
  const anchors = reparam ? anchorBoxes(geo.grid, a.anchorSize) : undefined;
  let src = memory;
  if (anchors && anchors.valid.some((v) => !v)) {
    // tokens whose anchor falls outside (0.01, 0.99) propose from zeroed memory (RF-DETR)
    src = op.mul(g, memory, g.initializer(`two_stage.valid@grid${geo.grid}`, f32([1, N, 1], Float32Array.from(anchors.valid))));
  }
  let enc = op.linear(g, src, w.get('two_stage.enc_output.weight'), w.get('two_stage.enc_output.bias'), 'two_stage.enc_output');
  enc = op.layerNorm(g, enc, w.get('two_stage.enc_output_norm.weight'), w.get('two_stage.enc_output_norm.bias'), a.decoder.eps, 'two_stage.enc_output_norm');
  const logits = op.linear(g, enc, w.get('two_stage.class_head.weight'), w.get('two_stage.class_head.bias'), 'two_stage.class_head');
  const delta = mlp(g, w, 'two_stage.bbox_head', enc, 3);
  let boxes: Value;
  if (anchors) {
    const [dxy, dwh] = op.split(g, delta, -1, [2, 2]);
    const xy = g.initializer(`two_stage.anchor_xy@grid${geo.grid}`, anchors.xy);
    const wh = g.initializer(`two_stage.anchor_wh@grid${geo.grid}`, anchors.wh);
    boxes = op.concat(g, [op.add(g, op.mul(g, dxy, wh), xy), op.mul(g, exp(g, dwh), wh)], -1);
  } else boxes = op.sigmoid(g, op.add(g, delta, g.initializer(`two_stage.anchors@grid${geo.grid}`, anchorLogits(geo.grid, a.anchorSize))));
  const S = Math.min(Q, N);
  const score = g.op('ReduceMax', [logits], [B, N], { axes: [-1], keepdims: 0 });
  const [, idx] = g.opMulti('TopK', [score, g.ints([S])], [[B, S], [B, S]], { axis: -1, largest: 1, sorted: 1 }, { dtype: ['float32', 'int64'] });
  const flat = op.reshape(g, idx, [S]);
  const proposals = g.op('Gather', [boxes, flat], [B, S, 4], { axis: 1 });
  const sel = g.op('Gather', [logits, flat], [B, S, K], { axis: 1 });
  if (!a.decoder.refpointEmbed) return { ref: proposals, logits: sel, boxes: proposals };
  const all = w.get('refpoint_embed.weight').data as Float32Array;
  const learned = g.initializer(`refpoint_embed.weight@q${S}`, f32([1, S, 4], all.slice(0, S * 4)));
  let ref = applyDelta(g, a, learned, proposals);
  if (Q > S) {
    // the learned boxes alone (in sigmoid encoding they are logits)
    const rest = Float32Array.from(all.slice(S * 4, Q * 4), (v) => (a.boxEncoding === 'reparam' ? v : 1 / (1 + Math.exp(-v))));
    ref = op.concat(g, [ref, g.initializer(`refpoint_embed.boxes@${S}-${Q}`, f32([B, Q - S, 4], rest))], 1);
  }
  return { ref, logits: sel, boxes: proposals };
}

/** The content queries of layer 0: the first Q learned query embeddings, [1,Q,D]. */
export function queryContent(g: GraphBuilder, a: Architecture, w: Weights, geo: Geometry): Value {
  const D = a.decoder.width;
  const all = w.get('query_feat.weight').data as Float32Array;
  return g.initializer(`query_feat.weight@q${geo.queries}`, f32([1, geo.queries, D], all.slice(0, geo.queries * D)));
}

/**
 * Sine embedding of boxes [B,Q,4] (cx, cy, w, h) -> [B,Q,2D]: per coordinate, in the order
 * y, x, w, h, D/2 channels sin(2π v / T_j), cos(2π v / T_j) interleaved, T_j = 10000^(2⌊j/2⌋/(D/2)).
 * One MatMul with a constant [4, 2D] (one nonzero per column) and one Sin, cos(t) = sin(t + π/2).
 */
function sineEmbedding(g: GraphBuilder, D: number, box: Value): Value {
  const half = D / 2;
  const order = [1, 0, 2, 3]; // y, x, w, h
  const m = new Float32Array(4 * 2 * D);
  const phase = new Float32Array(2 * D);
  for (let blk = 0; blk < 4; blk++)
    for (let j = 0; j < half; j++) {
      const col = blk * half + j;
      m[order[blk] * 2 * D + col] = (2 * Math.PI) / Math.pow(10000, (2 * Math.floor(j / 2)) / half);
      phase[col] = j % 2 ? Math.PI / 2 : 0;
    }
  const args = op.matmul(g, box, g.initializer(`decoder.sine_embed@D${D}`, f32([4, 2 * D], m)));
  return g.op('Sin', [op.add(g, args, g.initializer(`decoder.sine_phase@D${D}`, f32([2 * D], phase)))], args.shape);
}

/** The query position of reference boxes [B,Q,4] -> [B,Q,D] (the shared ref_point_head). */
export function queryPosition(g: GraphBuilder, a: Architecture, w: Weights, ref: Value): Value {
  const input = a.decoder.queryPos === 'sine' ? sineEmbedding(g, a.decoder.width, ref) : ref;
  return mlp(g, w, 'decoder.ref_point_head', input, 2);
}

/**
 * Decoder layer l: self-attention, deformable cross-attention (GridSample), feed-forward,
 * then (refPoints 'refine') box refinement with the shared box head. tgt [B,Q,D], ref [B,Q,4],
 * memory [B,N,D]. `pos`, the query position, is computed from ref unless given (refPoints 'fixed').
 */
export function decoderLayer(g: GraphBuilder, a: Architecture, w: Weights, geo: Geometry, l: number, tgt: Value, ref: Value, memory: Value, given?: Value): { tgt: Value; ref: Value } {
  const { width: D, heads: H, points: P, eps } = a.decoder;
  const saHeads = a.decoder.selfAttnHeads ?? H;
  const pre = `decoder.layers.${l}`;
  const [B, Q] = tgt.shape;
  const dh = D / H;
  const pos = given ?? queryPosition(g, a, w, ref);

  // self-attention: q = k = tgt + pos, v = tgt
  const qk = op.add(g, tgt, pos);
  const scale = 1 / Math.sqrt(D / saHeads);
  const qkW = catRows([scaleRows(w.get(`${pre}.self_attn.q_proj.weight`), [0, D], scale), w.get(`${pre}.self_attn.k_proj.weight`)]);
  const qkB = catRows([scaleRows(w.get(`${pre}.self_attn.q_proj.bias`), [0, D], scale), w.get(`${pre}.self_attn.k_proj.bias`)]);
  const [q, k] = op.split(g, op.linear(g, qk, qkW, qkB, `${pre}.self_attn.qk_proj`), -1, [D, D]);
  const v = op.linear(g, tgt, w.get(`${pre}.self_attn.v_proj.weight`), w.get(`${pre}.self_attn.v_proj.bias`), `${pre}.self_attn.v_proj`);
  let sa = attention(g, q, k, v, saHeads);
  sa = op.linear(g, sa, w.get(`${pre}.self_attn.out_proj.weight`), w.get(`${pre}.self_attn.out_proj.bias`), `${pre}.self_attn.out_proj`);
  tgt = op.layerNorm(g, op.add(g, tgt, sa), w.get(`${pre}.norm1.weight`), w.get(`${pre}.norm1.bias`), eps, `${pre}.norm1`);

  // deformable cross-attention, one feature level
  const query = op.add(g, tgt, pos);
  const nOff = H * P * 2;
  const offW = scaleRows(w.get(`${pre}.cross_attn.sampling_offsets.weight`), [0, nOff], 1 / P);
  const offB = scaleRows(w.get(`${pre}.cross_attn.sampling_offsets.bias`), [0, nOff], 1 / P);
  const proj = op.linear(g, query, catRows([offW, w.get(`${pre}.cross_attn.attention_weights.weight`)]), catRows([offB, w.get(`${pre}.cross_attn.attention_weights.bias`)]), `${pre}.cross_attn.offsets_weights`);
  const [off, awRaw] = op.split(g, proj, -1, [nOff, H * P]);
  const aw = op.softmax(g, op.reshape(g, awRaw, [B, Q, H, P]), -1);
  const G = geo.grid;
  const value = op.linear(g, memory, w.get(`${pre}.cross_attn.value_proj.weight`), w.get(`${pre}.cross_attn.value_proj.bias`), `${pre}.cross_attn.value_proj`);
  const vmap = op.reshape(g, op.transpose(g, op.reshape(g, value, [B, G, G, H, dh]), [0, 3, 4, 1, 2]), [B * H, dh, G, G]);
  // grid = 2 * (xy + off / P * wh * 0.5) - 1 = (2 xy - 1) + (off / P) * wh
  const [xy, wh] = op.split(g, ref, -1, [2, 2]);
  const centre = op.reshape(g, op.sub(g, op.mul(g, xy, g.scalar(2)), g.scalar(1)), [B, Q, 1, 2]);
  const size = op.reshape(g, wh, [B, Q, 1, 2]);
  const grid = op.add(g, centre, op.mul(g, op.reshape(g, off, [B, Q, H * P, 2]), size));
  const gridH = op.reshape(g, op.transpose(g, op.reshape(g, grid, [B, Q, H, P, 2]), [0, 2, 1, 3, 4]), [B * H, Q, P, 2]);
  const sampled = g.op('GridSample', [vmap, gridH], [B * H, dh, Q, P], { align_corners: 0, mode: 'bilinear', padding_mode: 'zeros' });
  const awH = op.reshape(g, op.transpose(g, aw, [0, 2, 1, 3]), [B * H, 1, Q, P]);
  const summed = g.op('ReduceSum', [op.mul(g, sampled, awH), g.ints([3])], [B * H, dh, Q], { keepdims: 0 });
  let ca = op.transpose(g, op.reshape(g, summed, [B, D, Q]), [0, 2, 1]);
  ca = op.linear(g, ca, w.get(`${pre}.cross_attn.output_proj.weight`), w.get(`${pre}.cross_attn.output_proj.bias`), `${pre}.cross_attn.output_proj`);
  tgt = op.layerNorm(g, op.add(g, tgt, ca), w.get(`${pre}.norm2.weight`), w.get(`${pre}.norm2.bias`), eps, `${pre}.norm2`);

  // feed-forward
  let f = op.relu(g, op.linear(g, tgt, w.get(`${pre}.ffn.fc1.weight`), w.get(`${pre}.ffn.fc1.bias`), `${pre}.ffn.fc1`));
  f = op.linear(g, f, w.get(`${pre}.ffn.fc2.weight`), w.get(`${pre}.ffn.fc2.bias`), `${pre}.ffn.fc2`);
  tgt = op.layerNorm(g, op.add(g, tgt, f), w.get(`${pre}.norm3.weight`), w.get(`${pre}.norm3.bias`), eps, `${pre}.norm3`);

  if (a.decoder.refPoints === 'fixed') return { tgt, ref };
  // box refinement with the shared head
  const delta = mlp(g, w, 'decoder.bbox_head', tgt, 3);
  return { tgt, ref: applyDelta(g, a, delta, ref) };
}

/** The shared class head: tgt [B,Q,D] -> logits [B,Q,K]. */
export function classHead(g: GraphBuilder, w: Weights, tgt: Value): Value {
  return op.linear(g, tgt, w.get('decoder.class_head.weight'), w.get('decoder.class_head.bias'), 'decoder.class_head');
}

/**
 * The heads of one exit: tgt [B,Q,D] -> logits [B,Q,K], after the decoder's final LayerNorm
 * when the family has one; with fixed reference points also the boxes, decoded by the shared
 * box head against `ref` (with refinement the decoder layer already made them).
 */
export function exitHeads(g: GraphBuilder, a: Architecture, w: Weights, tgt: Value, ref?: Value): { logits: Value; boxes?: Value } {
  const h = a.decoder.finalNorm ? op.layerNorm(g, tgt, w.get('decoder.norm.weight'), w.get('decoder.norm.bias'), a.decoder.eps, 'decoder.norm') : tgt;
  const logits = classHead(g, w, h);
  if (a.decoder.refPoints !== 'fixed') return { logits };
  if (!ref) throw new Error('exitHeads: fixed reference points need the reference boxes');
  return { logits, boxes: applyDelta(g, a, mlp(g, w, 'decoder.bbox_head', h, 3), ref) };
}
