import { z } from 'zod';
import { SncError, choices } from '../errors.js';
import { describeIssue, field, finite, list, natInt, posInt, posNum } from '../util/schema.js';
import type { Preprocess } from '../data/preprocess.js';

export type { Preprocess };

/** The architecture of a supernet family: everything fixed by its weights. */
export interface Architecture {
  backbone: {
    /** Token width C. */
    width: number;
    depth: number;
    heads: number;
    mlpRatio: number;
    inChannels: number;
    /** Patch size the patch-embedding kernel is stored at. */
    storedPatch: number;
    /** Side of the patch grid the position table is stored for. */
    posGrid: number;
    /** Blocks that attend over the whole image; all others use windowed attention. */
    globalBlocks: number[];
    /** Blocks whose outputs feed the projector (after the shared final norm). */
    tapBlocks: number[];
    eps: number;
    /**
     * One learned CLS token per attention window (RF-DETR's DINOv2): `backbone.cls_token`, with its
     * own position entry (row 0 of a [1, 1 + S*S, C] table); every window's CLS token joins the
     * global blocks' attention; dropped at the taps. Off (absent): patch tokens only.
     */
    clsToken?: boolean;
    /**
     * How the position table is resized to another grid: 'bicubic' (PyTorch bicubic, a = -0.75,
     * clamped edges; the default) or 'bicubic-antialias' (antialias=True: a = -0.5, taps outside
     * the table dropped and the rest renormalised; RF-DETR).
     */
    posResize?: PosResize;
    /**
     * A hybrid-ViT convolutional stem in front of the patch embedding (absent: the image goes
     * straight into the linear patch embedding). Per entry of `channels` a 3x3 conv of stride 2
     * (padding 1, no bias), a LayerNorm over channels and SiLU (`backbone.stem.layers.{i}`), so
     * the stem has stride S = 2^channels.length. The patch knob keeps its meaning, the token
     * stride in image pixels: the patch embedding runs on the stem's output with kernel and
     * stride patch / S (stored at storedPatch / S; other sizes PI-resized as without a stem), so
     * every patch value and storedPatch must be multiples of S. `blocks[i]` residual blocks
     * follow layer i (`backbone.stem.blocks.{i}.{j}`: x -> SiLU(x + LN(conv2(SiLU(LN(conv1 x))))),
     * two 3x3 convs without bias; absent: none), growing the stem's receptive field.
     */
    stem?: StemSpec;
  };
  /** The projector from the concatenated taps to the decoder width; absent: one Linear + LayerNorm. */
  projector?: ProjectorSpec;
  decoder: {
    /** Decoder width D. */
    width: number;
    heads: number;
    /** Sampling points per head in deformable cross-attention. */
    points: number;
    ffn: number;
    maxLayers: number;
    maxQueries: number;
    eps: number;
    /** Self-attention heads when they differ from `heads` (which then counts cross-attention heads only). */
    selfAttnHeads?: number;
    /** A LayerNorm (`decoder.norm`) on the queries before the heads at every exit (RF-DETR). */
    finalNorm?: boolean;
    /**
     * 'refine' (default): every layer refines the reference boxes with the shared box head and
     * recomputes the query position from them. 'fixed' (RF-DETR's lite_refpoint_refine): the
     * reference boxes stay those of the query selection; the box head decodes each exit's boxes
     * against them, and the query position is computed once.
     */
    refPoints?: 'refine' | 'fixed';
    /** Query position from a box: 'mlp' (default: MLP 4 -> D -> D) or 'sine' (sine embedding, order y, x, w, h, of D/2 per coordinate, then MLP 2D -> D -> D). */
    queryPos?: 'mlp' | 'sine';
    /** A learned box per query (`refpoint_embed.weight` [maxQueries, 4]) composed onto the selected proposals (RF-DETR). */
    refpointEmbed?: boolean;
  };
  numClasses: number;
  /** Width and height of every two-stage anchor box (normalised). */
  anchorSize: number;
  /**
   * How a box delta (dx, dy, dw, dh) applies to a box: 'sigmoid' (default: sigmoid(delta +
   * logit(box))) or 'reparam' (RF-DETR's bbox_reparam: xy = dxy * wh + xy, wh = exp(dwh) * wh).
   */
  boxEncoding?: 'sigmoid' | 'reparam';
}

export type PosResize = 'bicubic' | 'bicubic-antialias';

export type StemSpec = { type: 'conv'; channels: number[]; blocks?: number[]; eps: number };

/** The convolutional stem's stride (1 without one). */
export function stemStride(a: Architecture): number {
  return a.backbone.stem ? 2 ** a.backbone.stem.channels.length : 1;
}

export type ProjectorSpec =
  | { type: 'linear' }
  /**
   * RF-DETR's C2f: 1x1 conv to 2c (c = D/2), split in two, `bottlenecks` blocks of two 3x3 convs
   * on the last half (each output kept), 1x1 conv of all (2 + n) c channels to D, a LayerNorm.
   * Convs have no bias and are each followed by a LayerNorm over channels and SiLU.
   */
  | { type: 'c2f'; bottlenecks: number; eps: number };

/** The searchable knobs and the values each may take. */
export interface KnobGrid {
  resolution: number[];
  patch: number[];
  windows: number[];
  layers: number[];
  queries: number[];
}

export type KnobName = keyof KnobGrid;
export const KNOB_NAMES: readonly KnobName[] = ['resolution', 'patch', 'windows', 'layers', 'queries'];
/** Short names accepted in config strings ("res=384,patch=16,..."). */
const ALIASES: Record<string, KnobName> = { res: 'resolution', resolution: 'resolution', patch: 'patch', windows: 'windows', layers: 'layers', queries: 'queries' };
const SHORT: Record<KnobName, string> = { resolution: 'res', patch: 'patch', windows: 'windows', layers: 'layers', queries: 'queries' };

/** One subnet: a value for every knob. */
export type SubnetConfig = Record<KnobName, number>;

/** The content of supernet.json. */
export interface SupernetSpec {
  format: 'snc-supernet';
  version: 1;
  name: string;
  architecture: Architecture;
  knobs: KnobGrid;
  default: SubnetConfig;
  preprocess: Preprocess;
  classes: string[];
  /**
   * Knob values of the grid the weights were never trained at (an imported RF-DETR checkpoint:
   * patch sizes and window counts other than its own). Their subnets export and profile like
   * any other; search leaves them out unless asked to include them.
   */
  untrained?: Partial<KnobGrid>;
}

/** The untrained knob values a config uses, as `knob=value` (empty when it uses none). */
export function untrainedKnobs(spec: Pick<SupernetSpec, 'untrained'>, c: SubnetConfig): string[] {
  if (!spec.untrained) return [];
  return KNOB_NAMES.filter((k) => spec.untrained![k]?.includes(c[k])).map((k) => `${SHORT[k]}=${c[k]}`);
}

export function configKey(c: SubnetConfig): string {
  return KNOB_NAMES.map((k) => `${SHORT[k]}=${c[k]}`).join(',');
}

/** Parses "res=384,patch=16,windows=2,layers=2,queries=300"; omitted knobs come from `defaults`. */
export function parseConfig(text: string, defaults?: SubnetConfig): SubnetConfig {
  const out: Partial<SubnetConfig> = { ...(defaults ?? {}) };
  const example = configKey(defaults ?? { resolution: 384, patch: 16, windows: 2, layers: 2, queries: 300 });
  const parts = text.split(',').map((s) => s.trim());
  if (parts.every((p) => !p)) throw new SncError(`config: '${text}' names no knob; write knob=value pairs such as ${example}`);
  const seen = new Set<KnobName>();
  for (const part of parts) {
    if (!part) throw new SncError(`config: '${text}' has an empty item between commas; write knob=value pairs such as ${example}`);
    const m = /^([a-z]+)\s*=\s*(-?\d+)$/.exec(part);
    if (!m) throw new SncError(`config: cannot read '${part}'; write knob=value pairs such as ${example}`);
    const knob = ALIASES[m[1]];
    if (!knob) throw new SncError(`config: unknown knob '${m[1]}'; valid knobs are ${choices(Object.keys(ALIASES))}`);
    if (seen.has(knob)) throw new SncError(`config: ${SHORT[knob]} is given twice in '${text}'; give each knob once`);
    seen.add(knob);
    out[knob] = Number(m[2]);
  }
  const missing = KNOB_NAMES.filter((k) => out[k] === undefined);
  if (missing.length) throw new SncError(`config: missing ${choices(missing.map((k) => SHORT[k]))} in '${text}'`);
  return out as SubnetConfig;
}

/**
 * Why a config is not a subnet of the grid, or undefined when it is one. Queries are selected
 * from tokens, so a subnet has at most as many queries as tokens, unless the family has learned
 * reference boxes (`arch.decoder.refpointEmbed`): then, as in RF-DETR, the queries beyond the
 * token count start from their learned boxes alone.
 */
export function invalidReason(grid: KnobGrid, c: SubnetConfig, arch?: Architecture): string | undefined {
  for (const k of KNOB_NAMES)
    if (!grid[k].includes(c[k])) return `${SHORT[k]}=${c[k]} is not in the knob grid; valid values are ${choices(grid[k])}`;
  const unit = c.patch * c.windows;
  if (c.resolution % unit !== 0) {
    const ok = grid.resolution.filter((r) => r % unit === 0);
    return `res=${c.resolution} is not divisible by patch x windows = ${c.patch} x ${c.windows} = ${unit}; ` +
      (ok.length ? `valid resolutions for this patch and window count are ${choices(ok)}` : 'no resolution of the grid is, change patch or windows');
  }
  const tokens = (c.resolution / c.patch) ** 2;
  if (c.queries > tokens && !arch?.decoder.refpointEmbed) return `queries=${c.queries} is more than the ${tokens} tokens of res=${c.resolution},patch=${c.patch}, and queries are selected from tokens`;
  return undefined;
}

export function validateConfig(grid: KnobGrid, c: SubnetConfig, arch?: Architecture): SubnetConfig {
  const why = invalidReason(grid, c, arch);
  if (why) throw new SncError(`config: ${why}`);
  return c;
}

/** Every valid config of the grid, in a fixed order. */
export function enumerateConfigs(grid: KnobGrid, arch?: Architecture): SubnetConfig[] {
  const out: SubnetConfig[] = [];
  for (const resolution of grid.resolution)
    for (const patch of grid.patch)
      for (const windows of grid.windows)
        for (const layers of grid.layers)
          for (const queries of grid.queries) {
            const c = { resolution, patch, windows, layers, queries };
            if (!invalidReason(grid, c, arch)) out.push(c);
          }
  return out;
}

const triple = (item: z.ZodType) => z.tuple([item, item, item], { error: 'a list of 3 numbers (R, G, B)' });

/** The shape of supernet.json: every field present, of its type and range. */
const SPEC = z.object({
  format: field((v) => v === 'snc-supernet', '"snc-supernet"'),
  version: field((v) => v === 1, '1 (the version this snc reads)'),
  name: field((v) => typeof v === 'string' && v.length > 0, 'a non-empty name'),
  architecture: z.object(
    {
      backbone: z.object(
        { width: posInt, depth: posInt, heads: posInt, mlpRatio: posNum, inChannels: posInt, storedPatch: posInt, posGrid: posInt, globalBlocks: list(natInt, false), tapBlocks: list(natInt, true), eps: posNum },
        { error: 'an object' },
      ),
      decoder: z.object({ width: posInt, heads: posInt, points: posInt, ffn: posInt, maxLayers: posInt, maxQueries: posInt, eps: posNum }, { error: 'an object' }),
      numClasses: posInt,
      anchorSize: posNum,
    },
    { error: 'an object' },
  ),
  knobs: z.object({ resolution: list(posInt, true), patch: list(posInt, true), windows: list(posInt, true), layers: list(natInt, true), queries: list(posInt, true) }, { error: 'an object' }),
  default: z.object({ resolution: posInt, patch: posInt, windows: posInt, layers: natInt, queries: posInt }, { error: 'an object' }),
  preprocess: z.object({ mean: triple(finite), std: triple(posNum), resize: field((v) => v === 'square', '"square"') }, { error: 'an object with mean, std and resize' }),
  classes: list(field((v) => typeof v === 'string', 'a string'), true),
  untrained: z.record(z.string(), list(natInt), { error: 'an object of knob value lists' }).optional(),
});

/** Checks a parsed supernet.json and throws one SncError naming the first bad field. */
export function checkSpec(spec: SupernetSpec, source: string): SupernetSpec {
  const bad = (why: string): never => {
    throw new SncError(`${source}: ${why}`);
  };
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) bad('not a supernet description (expected a JSON object)');
  if (spec.version !== undefined && spec.version !== 1 && spec.format === 'snc-supernet') bad(`version ${JSON.stringify(spec.version)} is not supported; this snc reads version 1`);
  const parsed = SPEC.safeParse(spec);
  if (!parsed.success) bad(describeIssue(spec, parsed.error.issues[0]));
  const a = spec.architecture;
  if (!a?.backbone || !a?.decoder) bad('architecture.backbone and architecture.decoder are required');
  const b = a.backbone;
  if (b.width % b.heads !== 0) bad(`backbone.width ${b.width} is not divisible by backbone.heads ${b.heads}`);
  if (a.decoder.width % a.decoder.heads !== 0) bad(`decoder.width ${a.decoder.width} is not divisible by decoder.heads ${a.decoder.heads}`);
  for (const t of [...b.tapBlocks, ...b.globalBlocks])
    if (!(Number.isInteger(t) && t >= 0 && t < b.depth)) bad(`block index ${t} is outside 0..${b.depth - 1}`);
  if (!b.tapBlocks.length) bad('backbone.tapBlocks is empty');
  for (const k of KNOB_NAMES) if (!Array.isArray(spec.knobs?.[k]) || !spec.knobs[k].length) bad(`knobs.${k} must be a non-empty list`);
  if (Math.max(...spec.knobs.layers) > a.decoder.maxLayers) bad(`knobs.layers goes past decoder.maxLayers ${a.decoder.maxLayers}`);
  if (Math.max(...spec.knobs.queries) > a.decoder.maxQueries) bad(`knobs.queries goes past decoder.maxQueries ${a.decoder.maxQueries}`);
  const d = a.decoder;
  const sa = d.selfAttnHeads ?? d.heads;
  if (!(Number.isInteger(sa) && sa > 0 && d.width % sa === 0)) bad(`decoder.selfAttnHeads ${sa} does not divide decoder.width ${d.width}`);
  const oneOf = (field: string, v: unknown, valid: readonly unknown[]) => {
    if (v !== undefined && !valid.includes(v)) bad(`${field} is ${JSON.stringify(v)}; valid values are ${choices(valid.map((x) => JSON.stringify(x)))}`);
  };
  oneOf('backbone.posResize', b.posResize, ['bicubic', 'bicubic-antialias']);
  oneOf('backbone.clsToken', b.clsToken, [true, false]);
  oneOf('decoder.finalNorm', d.finalNorm, [true, false]);
  oneOf('decoder.refPoints', d.refPoints, ['refine', 'fixed']);
  oneOf('decoder.queryPos', d.queryPos, ['mlp', 'sine']);
  oneOf('decoder.refpointEmbed', d.refpointEmbed, [true, false]);
  oneOf('boxEncoding', a.boxEncoding, ['sigmoid', 'reparam']);
  if (a.projector) {
    oneOf('projector.type', a.projector.type, ['linear', 'c2f']);
    if (a.projector.type === 'c2f' && !(Number.isInteger(a.projector.bottlenecks) && a.projector.bottlenecks >= 0)) bad(`projector.bottlenecks ${a.projector.bottlenecks} is not a count`);
    if (a.projector.type === 'c2f' && d.width % 2 !== 0) bad(`decoder.width ${d.width} is odd; the C2f projector splits it in halves`);
  }
  if (b.stem) {
    oneOf('backbone.stem.type', b.stem.type, ['conv']);
    if (!(Array.isArray(b.stem.channels) && b.stem.channels.length > 0 && b.stem.channels.every((c) => Number.isInteger(c) && c > 0)))
      bad(`backbone.stem.channels ${JSON.stringify(b.stem.channels)} is not a non-empty list of channel counts`);
    const blocks = b.stem.blocks;
    if (blocks !== undefined && !(Array.isArray(blocks) && blocks.length === b.stem.channels.length && blocks.every((n) => Number.isInteger(n) && n >= 0)))
      bad(`backbone.stem.blocks ${JSON.stringify(blocks)} is not a list of ${b.stem.channels.length} block counts (one per stem layer, each >= 0)`);
    if (!(typeof b.stem.eps === 'number' && b.stem.eps > 0)) bad(`backbone.stem.eps ${JSON.stringify(b.stem.eps)} is not a number > 0`);
    const S = stemStride(a);
    const off = [b.storedPatch, ...spec.knobs.patch].filter((p) => p % S !== 0);
    if (off.length) bad(`patch size${off.length > 1 ? 's' : ''} ${[...new Set(off)].join(', ')} not a multiple of the conv stem's stride ${S} (${b.stem.channels.length} stride-2 layers); with a stem, storedPatch and every patch value must be multiples of ${S}`);
  }
  if (d.queryPos === 'sine' && d.width % 4 !== 0) bad(`decoder.width ${d.width} is not divisible by 4, which the sine query position needs`);
  if (spec.classes.length !== a.numClasses) bad(`${spec.classes.length} class names for numClasses ${a.numClasses}`);
  const why = invalidReason(spec.knobs, spec.default, a);
  if (why) bad(`default config: ${why}`);
  for (const k of Object.keys(spec.untrained ?? {}) as KnobName[]) {
    if (!KNOB_NAMES.includes(k)) bad(`untrained.${k} is not a knob; valid knobs are ${choices(KNOB_NAMES)}`);
    const off = spec.untrained![k]!.filter((v) => !spec.knobs[k].includes(v));
    if (off.length) bad(`untrained.${k} lists ${off.join(', ')}, which knobs.${k} does not have`);
  }
  const untrained = untrainedKnobs(spec, spec.default);
  if (untrained.length) bad(`the default config uses untrained ${untrained.join(', ')}`);
  return spec;
}
