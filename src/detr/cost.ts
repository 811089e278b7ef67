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
  let params = C * inChannels * c.patch * c.patch + C + N * C; // kernel, bias, resized position table
  params += depth * (2 * C + 3 * C * C + 3 * C + C * C + C + C + 2 * C + 2 * C * C * mlpRatio + C * mlpRatio + C + C);
  params += 2 * C + (T * C * D + D) + 2 * D; // final norm, projector
  params += D * D + D + 2 * D + K * D + K + mlp3 + N * 4; // two-stage + anchors
  params += Q * D + (4 * D + D + D * D + D); // queries, ref point head
  const layer = 4 * (D * D + D) + 2 * D + (D * H * P * 3 + H * P * 3) + 2 * (D * D + D) + 2 * D + (F * D + F + D * F + D) + 2 * D;
  params += L * layer + (L > 0 ? mlp3 + K * D + K : 0);

  let flops = 2 * N * C * inChannels * c.patch * c.patch;
  for (let i = 0; i < depth; i++) {
    const windowed = c.windows > 1 && !globalBlocks.includes(i);
    const n = windowed ? N / (c.windows * c.windows) : N;
    flops += 2 * N * C * 3 * C + 4 * N * n * C + 2 * N * C * C + 4 * N * C * C * mlpRatio;
    flops += N * n * heads * 3; // softmax
  }
  flops += 2 * N * T * C * D;
  flops += 2 * N * D * D + 2 * N * D * K + 2 * N * (2 * D * D + 4 * D);
  for (let l = 0; l < L; l++) {
    flops += 2 * Q * (4 * D + D * D); // ref point head
    flops += 2 * Q * D * 2 * D + 2 * Q * D * D + 4 * Q * Q * D + 2 * Q * D * D; // self-attention
    flops += 2 * Q * D * 3 * H * P + 2 * N * D * D + Q * H * P * (D / H) * 10 + 2 * Q * D * D; // deformable
    flops += 4 * Q * D * F; // ffn
    flops += 2 * Q * (2 * D * D + 4 * D); // box head
  }
  if (L > 0) flops += 2 * Q * D * K;
  return { params, flops };
}
