import type { Architecture, SubnetConfig } from './spec.js';

export interface Cost {
  /** Parameters the subnet's ONNX holds (resized patch kernel and position table included). */
  params: number;
  /** Floating-point operations of one forward pass (a multiply-add counts 2). */
  flops: number;
}

/** Parameters and FLOPs of a subnet, computed from shapes (no model is built). */
export function subnetCost(a: Architecture, c: SubnetConfig): Cost {
  const { width: C, depth, heads, mlpRatio, inChannels, globalBlocks, tapBlocks } = a.backbone;
  const { width: D, heads: H, points: P, ffn: F } = a.decoder;
  const K = a.numClasses;
  const G = c.resolution / c.patch;
  const N = G * G;
  const Q = c.queries;
  const L = c.layers;
  const T = tapBlocks.length;
  const mlp3 = D * D + D + D * D + D + 4 * D + 4;
  const cls = a.backbone.clsToken ? c.windows * c.windows : 0;
  const S = N + cls; // backbone sequence length
  const posIn = a.decoder.queryPos === 'sine' ? 2 * D : 4;
  const fixed = a.decoder.refPoints === 'fixed';
  // conv stem (backbone.stem): 3x3 stride-2 convs without bias, LayerNorm; the patch embedding then runs on its output at patch / S
  const stem = a.backbone.stem?.channels ?? [];
  let cin = inChannels;
  let side = c.resolution;
  let stemParams = 0;
  let stemFlops = 0;
  stem.forEach((ch, i) => {
    side = Math.ceil(side / 2);
    const blocks = a.backbone.stem?.blocks?.[i] ?? 0; // residual blocks: two 3x3 convs ch -> ch and two LayerNorms each
    stemParams += ch * cin * 9 + 2 * ch + blocks * 2 * (ch * ch * 9 + 2 * ch);
    stemFlops += 2 * side * side * 9 * ch * (cin + blocks * 2 * ch);
    cin = ch;
  });
  const k = c.patch / 2 ** stem.length;
  let params = stemParams + C * cin * k * k + C + N * C + (cls ? cls * C : 0); // stem, kernel, bias, resized position table, CLS tokens
  params += depth * (2 * C + 3 * C * C + 3 * C + C * C + C + C + 2 * C + 2 * C * C * mlpRatio + C * mlpRatio + C + C);
  params += 2 * C + 2 * D; // final backbone norm, projector norm
  let projFlops: number;
  const p = a.projector;
  if (p?.type === 'c2f') {
    const h = D / 2;
    const n = p.bottlenecks;
    params += T * C * 2 * h + 2 * 2 * h + n * 2 * (9 * h * h + 2 * h) + (2 + n) * h * D + 2 * D;
    projFlops = 2 * N * (T * C * 2 * h + n * 2 * 9 * h * h + (2 + n) * h * D);
  } else {
    params += T * C * D + D;
    projFlops = 2 * N * T * C * D;
  }
  params += D * D + D + 2 * D + K * D + K + mlp3 + N * 4; // two-stage + anchors
  params += Q * D + (posIn * D + D + D * D + D) + (a.decoder.refpointEmbed ? Q * 4 : 0); // queries, ref point head, learned boxes
  const layer = 4 * (D * D + D) + 2 * D + (D * H * P * 3 + H * P * 3) + 2 * (D * D + D) + 2 * D + (F * D + F + D * F + D) + 2 * D;
  params += L * layer + (L > 0 ? mlp3 + K * D + K + (a.decoder.finalNorm ? 2 * D : 0) : 0);

  let flops = stemFlops + 2 * N * C * cin * k * k;
  for (let i = 0; i < depth; i++) {
    const windowed = c.windows > 1 && !globalBlocks.includes(i);
    const n = windowed ? S / (c.windows * c.windows) : S;
    flops += 2 * S * C * 3 * C + 4 * S * n * C + 2 * S * C * C + 4 * S * C * C * mlpRatio;
    flops += S * n * heads * 3; // softmax
  }
  flops += projFlops;
  flops += 2 * N * D * D + 2 * N * D * K + 2 * N * (2 * D * D + 4 * D);
  const queryPos = 2 * Q * (posIn * D + D * D);
  if (fixed && L > 0) flops += queryPos;
  for (let l = 0; l < L; l++) {
    if (!fixed) flops += queryPos;
    flops += 2 * Q * D * 2 * D + 2 * Q * D * D + 4 * Q * Q * D + 2 * Q * D * D; // self-attention
    flops += 2 * Q * D * 3 * H * P + 2 * N * D * D + Q * H * P * (D / H) * 10 + 2 * Q * D * D; // deformable
    flops += 4 * Q * D * F; // ffn
    if (!fixed) flops += 2 * Q * (2 * D * D + 4 * D); // box head
  }
  if (L > 0) flops += 2 * Q * D * K + (fixed ? 2 * Q * (2 * D * D + 4 * D) : 0);
  return { params, flops };
}
