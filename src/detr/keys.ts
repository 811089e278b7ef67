/**
 * LUT keys of the supernet's blocks: a key names a block kind and every shape that decides its
 * cost, so blocks with equal keys cost the same. The model plan and the latency predictor both
 * take their keys from here.
 */
import type { Architecture, StemSpec, SubnetConfig } from './spec.js';

/** `32-64-128`, or with residual blocks `32-64-128+0-1-1` (blocks per layer). */
function stemKey(s: StemSpec): string {
  return s.channels.join('-') + (s.blocks?.some((n) => n > 0) ? `+${s.blocks.join('-')}` : '');
}

export const keyOf = {
  patchEmbed: (a: Architecture, res: number, patch: number, windows: number) =>
    `patch_embed:C${a.backbone.width},res=${res},patch=${patch},windows=${windows}${a.backbone.stem ? `,stem=${stemKey(a.backbone.stem)}` : ''}`,
  /** `cls`: CLS tokens in the sequence (one per window of the subnet, also in global blocks). */
  vitBlock: (a: Architecture, tokens: number, windows: number, cls = 0) =>
    `vit_block:C${a.backbone.width},tokens=${tokens},windows=${windows}${cls ? `,cls=${cls}` : ''}`,
  projector: (a: Architecture, tokens: number, windows: number) =>
    `projector:C${a.backbone.width},D${a.decoder.width},tokens=${tokens},windows=${windows}`,
  twoStage: (a: Architecture, tokens: number, queries: number) => `two_stage:D${a.decoder.width},K${a.numClasses},tokens=${tokens},queries=${queries}`,
  queryPos: (a: Architecture, queries: number) => `query_pos:D${a.decoder.width},queries=${queries}`,
  decoderLayer: (a: Architecture, tokens: number, queries: number) => `decoder_layer:D${a.decoder.width},tokens=${tokens},queries=${queries}`,
  classHead: (a: Architecture, queries: number) => `class_head:D${a.decoder.width},K${a.numClasses},queries=${queries}`,
  /** The fixed cost of one session run, which no block owns: feeding the image and returning. */
  overhead: (res: number) => `overhead:res=${res}`,
};

/** How many blocks of each key one forward pass of the subnet runs (its latency is the weighted sum). */
export function blockCounts(a: Architecture, c: SubnetConfig): Map<string, number> {
  const m = new Map<string, number>();
  const add = (k: string, n = 1) => m.set(k, (m.get(k) ?? 0) + n);
  const tokens = (c.resolution / c.patch) ** 2;
  const depth = a.backbone.depth;
  const global = c.windows === 1 ? depth : a.backbone.globalBlocks.length;
  add(keyOf.overhead(c.resolution));
  add(keyOf.patchEmbed(a, c.resolution, c.patch, c.windows));
  const cls = a.backbone.clsToken ? c.windows * c.windows : 0;
  add(keyOf.vitBlock(a, tokens, 1, cls), global);
  if (depth - global > 0) add(keyOf.vitBlock(a, tokens, c.windows, cls), depth - global);
  add(keyOf.projector(a, tokens, c.windows));
  add(keyOf.twoStage(a, tokens, c.queries));
  if (c.layers > 0) {
    if (a.decoder.refPoints === 'fixed') add(keyOf.queryPos(a, c.queries));
    add(keyOf.decoderLayer(a, tokens, c.queries), c.layers);
    add(keyOf.classHead(a, c.queries));
  }
  return m;
}
