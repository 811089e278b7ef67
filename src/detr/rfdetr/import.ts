/**
 * RF-DETR 1.4.1 checkpoints as snc supernets: reads the architecture from the checkpoint's
 * argparse args (or a named variant) and the tensor shapes, and renames the state dict to snc's
 * weight names (docs/rfdetr.md has the table). Keeps group 0 of the group-DETR tensors.
 */
import { SncError, choices } from '../../errors.js';
import { f32, type Tensor } from '../../onnx/tensor.js';
import { IMAGENET, RFDETR_OPTIONS, cocoLogitNames } from '../presets.js';
import { checkSpec, type Architecture, type KnobGrid, type SupernetSpec } from '../spec.js';
import { weightShapes } from '../weights.js';

export type RfdetrVariant = 'nano' | 'small' | 'medium' | 'base' | 'large';
export const RFDETR_VARIANTS: readonly RfdetrVariant[] = ['nano', 'small', 'medium', 'base', 'large'];

export interface RfdetrCheckpoint {
  state: Map<string, Tensor>;
  args?: Record<string, unknown>;
  source: string;
}

export interface RfdetrImport {
  spec: SupernetSpec;
  weights: Map<string, Tensor>;
  notes: string[];
}

/** The parts of RF-DETR's config snc reads (rfdetr/config.py and main.py's defaults). */
interface RfConfig {
  encoder: string;
  resolution: number;
  patch_size: number;
  num_windows: number;
  positional_encoding_size: number;
  out_feature_indexes: number[];
  dec_layers: number;
  num_queries: number;
  sa_nheads: number;
  ca_nheads: number;
  dec_n_points: number;
  projector_scale: string[];
  two_stage: boolean;
  lite_refpoint_refine: boolean;
  bbox_reparam: boolean;
  decoder_norm: string;
  layer_norm: boolean;
  rms_norm: boolean;
  segmentation_head: boolean;
  class_names?: string[];
}

const COMMON = {
  encoder: 'dinov2_windowed_small',
  num_queries: 300,
  sa_nheads: 8,
  ca_nheads: 16,
  dec_n_points: 2,
  projector_scale: ['P4'],
  two_stage: true,
  lite_refpoint_refine: true,
  bbox_reparam: true,
  decoder_norm: 'LN',
  layer_norm: true,
  rms_norm: false,
  segmentation_head: false,
};

/** RF-DETR 1.4.1's released detection variants (rfdetr/config.py; large is the 2026 one). */
export const VARIANT_CONFIGS: Readonly<Record<RfdetrVariant, RfConfig>> = {
  nano: { ...COMMON, resolution: 384, patch_size: 16, num_windows: 2, positional_encoding_size: 24, out_feature_indexes: [3, 6, 9, 12], dec_layers: 2 },
  small: { ...COMMON, resolution: 512, patch_size: 16, num_windows: 2, positional_encoding_size: 32, out_feature_indexes: [3, 6, 9, 12], dec_layers: 3 },
  medium: { ...COMMON, resolution: 576, patch_size: 16, num_windows: 2, positional_encoding_size: 36, out_feature_indexes: [3, 6, 9, 12], dec_layers: 4 },
  base: { ...COMMON, resolution: 560, patch_size: 14, num_windows: 4, positional_encoding_size: 37, out_feature_indexes: [2, 5, 8, 11], dec_layers: 3 },
  large: { ...COMMON, resolution: 704, patch_size: 16, num_windows: 2, positional_encoding_size: 44, out_feature_indexes: [3, 6, 9, 12], dec_layers: 4 },
};

const ENC = 'backbone.0.encoder.encoder.';
const PROJ = 'backbone.0.projector.stages.0.';
const TR = 'transformer.';

/** DINOv2's attention heads are 64 wide in every size (small 384/6, base 768/12, large 1024/16). */
const DINOV2_HEAD_WIDTH = 64;

function readConfig(ckpt: RfdetrCheckpoint, variant: RfdetrVariant | undefined, notes: string[]): RfConfig {
  const src = ckpt.source;
  if (variant !== undefined && !RFDETR_VARIANTS.includes(variant))
    throw new SncError(`rfdetr: unknown variant '${variant}'; valid variants are ${choices(RFDETR_VARIANTS)}`);
  if (!ckpt.args && !variant)
    throw new SncError(`${src}: holds no RF-DETR args, so its configuration is unknown; name the variant (${choices(RFDETR_VARIANTS)})`);
  const base: Partial<RfConfig> = variant ? { ...VARIANT_CONFIGS[variant] } : { ...COMMON };
  const cfg = { ...base } as Record<string, unknown>;
  if (ckpt.args) {
    for (const k of [...Object.keys(VARIANT_CONFIGS.nano), 'class_names'])
      if (ckpt.args[k] !== undefined && ckpt.args[k] !== null) cfg[k] = ckpt.args[k];
    if (variant) notes.push(`the checkpoint's args set the configuration; variant ${variant} only fills what they leave out`);
  }
  const need = (k: keyof RfConfig, type: 'number' | 'boolean' | 'string' | 'numbers' | 'strings') => {
    const v = cfg[k];
    const ok =
      type === 'numbers' ? Array.isArray(v) && v.length > 0 && v.every((x) => Number.isInteger(x))
      : type === 'strings' ? Array.isArray(v) && v.every((x) => typeof x === 'string')
      : type === 'number' ? Number.isInteger(v) && (v as number) > 0
      : typeof v === type;
    if (!ok) throw new SncError(`${src}: args.${k} is ${JSON.stringify(v)}, expected ${type === 'numbers' ? 'a list of integers' : type === 'strings' ? 'a list of strings' : type === 'number' ? 'a positive integer' : `a ${type}`}${variant ? '' : `; name the variant (${choices(RFDETR_VARIANTS)}) to fill it in`}`);
  };
  for (const k of ['resolution', 'patch_size', 'num_windows', 'positional_encoding_size', 'dec_layers', 'num_queries', 'sa_nheads', 'ca_nheads', 'dec_n_points'] as const) need(k, 'number');
  need('out_feature_indexes', 'numbers');
  need('projector_scale', 'strings');
  need('encoder', 'string');
  need('decoder_norm', 'string');
  for (const k of ['two_stage', 'lite_refpoint_refine', 'bbox_reparam', 'layer_norm', 'rms_norm', 'segmentation_head'] as const) need(k, 'boolean');
  if (cfg.class_names !== undefined) need('class_names', 'strings');
  return cfg as unknown as RfConfig;
}

/** Refuses what snc's family cannot run, naming the setting. */
function checkArchitecture(cfg: RfConfig, state: Map<string, Tensor>, src: string): void {
  const unknown = (why: string): never => {
    throw new SncError(`${src}: unknown architecture: ${why}; snc imports RF-DETR's detection models (N, S, M, B, L: two_stage, bbox_reparam, lite_refpoint_refine, one P4 level)`);
  };
  if (!state.has('query_feat.weight') || !state.has(`${ENC}embeddings.cls_token`)) unknown('no query_feat.weight or backbone.0.encoder.encoder.embeddings.cls_token, so not an RF-DETR detector');
  if (!/^dinov2_windowed_(small|base)$/.test(cfg.encoder)) unknown(`encoder '${cfg.encoder}' (valid: dinov2_windowed_small, dinov2_windowed_base)`);
  if (state.has(`${ENC}embeddings.register_tokens`)) unknown('the backbone has register tokens');
  if (cfg.projector_scale.length !== 1 || cfg.projector_scale[0] !== 'P4') unknown(`projector_scale ${JSON.stringify(cfg.projector_scale)} (valid: ["P4"])`);
  if (!cfg.two_stage) unknown('two_stage is off');
  if (!cfg.bbox_reparam) unknown('bbox_reparam is off');
  if (!cfg.lite_refpoint_refine) unknown('lite_refpoint_refine is off');
  if (cfg.decoder_norm !== 'LN') unknown(`decoder_norm '${cfg.decoder_norm}' (valid: LN)`);
  if (!cfg.layer_norm || cfg.rms_norm) unknown('the projector does not use LayerNorm');
}

/** Tensor names of the state dict matching a pattern with one integer group, the integers sorted. */
function indices(state: Map<string, Tensor>, re: RegExp): number[] {
  const out = new Set<number>();
  for (const k of state.keys()) {
    const m = re.exec(k);
    if (m) out.add(Number(m[1]));
  }
  return [...out].sort((a, b) => a - b);
}

function toF32(t: Tensor, name: string, src: string): Tensor {
  if (t.dtype === 'float32') return t;
  if (t.dtype === 'float64') return f32(t.dims, Float32Array.from(t.data as Float64Array));
  if (t.dtype === 'float16') {
    const h = t.data as Uint16Array;
    const out = new Float32Array(h.length);
    for (let i = 0; i < h.length; i++) {
      const s = h[i] & 0x8000 ? -1 : 1;
      const e = (h[i] >> 10) & 0x1f;
      const m = h[i] & 0x3ff;
      out[i] = e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
    }
    return f32(t.dims, out);
  }
  throw new SncError(`${src}: tensor '${name}' is ${t.dtype}; RF-DETR weights are floating point`);
}

function rows(t: Tensor, from: number, to: number): Tensor {
  const cols = t.dims.slice(1).reduce((p, d) => p * d, 1);
  return f32([to - from, ...t.dims.slice(1)], (t.data as Float32Array).slice(from * cols, to * cols));
}

function catRows(ts: Tensor[]): Tensor {
  const data = new Float32Array(ts.reduce((s, t) => s + t.data.length, 0));
  let o = 0;
  for (const t of ts) {
    data.set(t.data as Float32Array, o);
    o += t.data.length;
  }
  return f32([ts.reduce((s, t) => s + t.dims[0], 0), ...ts[0].dims.slice(1)], data);
}

/** How each snc tensor is made from RF-DETR tensors. */
interface Source {
  from: string[];
  make(ts: Tensor[]): Tensor;
}
const same = (name: string): Source => ({ from: [name], make: ([t]) => t });

/** The snc name -> RF-DETR source table for one architecture (docs/rfdetr.md). */
export function rfdetrNameMap(a: Architecture): Map<string, Source> {
  const m = new Map<string, Source>();
  const D = a.decoder.width;
  const Q = a.decoder.maxQueries;
  const pair = (snc: string, rf: string) => {
    m.set(`${snc}.weight`, same(`${rf}.weight`));
    m.set(`${snc}.bias`, same(`${rf}.bias`));
  };
  m.set('backbone.cls_token', same(`${ENC}embeddings.cls_token`));
  m.set('backbone.pos_embed', same(`${ENC}embeddings.position_embeddings`));
  pair('backbone.patch_embed', `${ENC}embeddings.patch_embeddings.projection`);
  for (let i = 0; i < a.backbone.depth; i++) {
    const s = `backbone.blocks.${i}`;
    const r = `${ENC}encoder.layer.${i}`;
    pair(`${s}.norm1`, `${r}.norm1`);
    for (const leaf of ['weight', 'bias'])
      m.set(`${s}.attn.qkv.${leaf}`, { from: ['query', 'key', 'value'].map((p) => `${r}.attention.attention.${p}.${leaf}`), make: catRows });
    pair(`${s}.attn.proj`, `${r}.attention.output.dense`);
    m.set(`${s}.ls1.gamma`, same(`${r}.layer_scale1.lambda1`));
    pair(`${s}.norm2`, `${r}.norm2`);
    pair(`${s}.mlp.fc1`, `${r}.mlp.fc1`);
    pair(`${s}.mlp.fc2`, `${r}.mlp.fc2`);
    m.set(`${s}.ls2.gamma`, same(`${r}.layer_scale2.lambda1`));
  }
  pair('backbone.norm', `${ENC}layernorm`);
  const convx = (snc: string, rf: string) => {
    m.set(`${snc}.conv.weight`, same(`${rf}.conv.weight`));
    pair(`${snc}.norm`, `${rf}.bn`);
  };
  convx('projector.cv1', `${PROJ}0.cv1`);
  convx('projector.cv2', `${PROJ}0.cv2`);
  const p = a.projector;
  for (let j = 0; p?.type === 'c2f' && j < p.bottlenecks; j++) {
    convx(`projector.m.${j}.cv1`, `${PROJ}0.m.${j}.cv1`);
    convx(`projector.m.${j}.cv2`, `${PROJ}0.m.${j}.cv2`);
  }
  pair('projector.norm', `${PROJ}1`);
  pair('two_stage.enc_output', `${TR}enc_output.0`);
  pair('two_stage.enc_output_norm', `${TR}enc_output_norm.0`);
  pair('two_stage.class_head', `${TR}enc_out_class_embed.0`);
  for (let i = 0; i < 3; i++) pair(`two_stage.bbox_head.layers.${i}`, `${TR}enc_out_bbox_embed.0.layers.${i}`);
  m.set('query_feat.weight', { from: ['query_feat.weight'], make: ([t]) => rows(t, 0, Q) });
  m.set('refpoint_embed.weight', { from: ['refpoint_embed.weight'], make: ([t]) => rows(t, 0, Q) });
  for (let i = 0; i < 2; i++) pair(`decoder.ref_point_head.layers.${i}`, `${TR}decoder.ref_point_head.layers.${i}`);
  for (let l = 0; l < a.decoder.maxLayers; l++) {
    const s = `decoder.layers.${l}`;
    const r = `${TR}decoder.layers.${l}`;
    ['q', 'k', 'v'].forEach((x, k) => {
      m.set(`${s}.self_attn.${x}_proj.weight`, { from: [`${r}.self_attn.in_proj_weight`], make: ([t]) => rows(t, k * D, (k + 1) * D) });
      m.set(`${s}.self_attn.${x}_proj.bias`, { from: [`${r}.self_attn.in_proj_bias`], make: ([t]) => rows(t, k * D, (k + 1) * D) });
    });
    pair(`${s}.self_attn.out_proj`, `${r}.self_attn.out_proj`);
    for (const n of ['norm1', 'norm2', 'norm3']) pair(`${s}.${n}`, `${r}.${n}`);
    for (const c of ['sampling_offsets', 'attention_weights', 'value_proj', 'output_proj']) pair(`${s}.cross_attn.${c}`, `${r}.cross_attn.${c}`);
    pair(`${s}.ffn.fc1`, `${r}.linear1`);
    pair(`${s}.ffn.fc2`, `${r}.linear2`);
  }
  pair('decoder.norm', `${TR}decoder.norm`);
  pair('decoder.class_head', 'class_embed');
  for (let i = 0; i < 3; i++) pair(`decoder.bbox_head.layers.${i}`, `bbox_embed.layers.${i}`);
  return m;
}

/** Tensors of the checkpoint snc knowingly leaves out, with the note that says why. */
function ignoredReason(name: string, depth: number, notes: Set<string>): boolean {
  if (name === `${ENC}embeddings.mask_token`) return true; // masked-image pre-training only
  if (/^transformer\.(enc_output|enc_output_norm|enc_out_class_embed|enc_out_bbox_embed)\.([1-9]\d*)\./.test(name)) {
    notes.add('group DETR: kept group 0 of the two-stage heads, query_feat and refpoint_embed (the groups beyond 0 only train)');
    return true;
  }
  if (name.startsWith('segmentation_head.')) {
    notes.add('ignored the segmentation head (snc builds detectors: boxes and class logits)');
    return true;
  }
  const m = /^backbone\.0\.encoder\.encoder\.encoder\.layer\.(\d+)\./.exec(name);
  if (m && Number(m[1]) >= depth) {
    notes.add(`dropped the ViT blocks after block ${depth - 1}: RF-DETR runs them but no feature is tapped from them`);
    return true;
  }
  return false;
}

/**
 * The imported knob grid: resolutions from 0.75x to 1.25x the trained one in steps of patch x
 * windows, decoder depths 1..L, a quarter to all of the queries, and beside the trained patch
 * size and window count a few others (patch ± 4, windows 1 and 2x up to 4), marked untrained.
 */
function defaultGrid(cfg: RfConfig, tokensOk: (res: number) => boolean): { knobs: KnobGrid; untrained: Partial<KnobGrid> } {
  const unit = cfg.patch_size * cfg.num_windows;
  const resolution: number[] = [];
  for (let r = Math.ceil((cfg.resolution * 0.75) / unit) * unit; r <= cfg.resolution * 1.25; r += unit) if (tokensOk(r)) resolution.push(r);
  if (!resolution.includes(cfg.resolution)) resolution.push(cfg.resolution);
  resolution.sort((x, y) => x - y);
  const Q = cfg.num_queries;
  const queries = [...new Set([Math.round(Q / 4), Math.round(Q / 2), Math.round((3 * Q) / 4), Q])].filter((q) => q > 0);
  const p = cfg.patch_size;
  const nw = cfg.num_windows;
  const otherPatches = [p - 4, p + 4].filter((x) => x >= 4);
  const otherWindows = [1, 2 * nw].filter((x) => x !== nw && x <= 4);
  return {
    knobs: {
      resolution,
      patch: [...otherPatches, p].sort((a, b) => a - b),
      windows: [...otherWindows, nw].sort((a, b) => a - b),
      layers: Array.from({ length: cfg.dec_layers }, (_, i) => i + 1),
      queries,
    },
    untrained: { patch: otherPatches, windows: otherWindows },
  };
}

/** Names for the K class logits: COCO category ids, or args.class_names at ids 1.. (RF-DETR's mapping). */
function classNames(K: number, names: string[] | undefined, notes: string[]): string[] {
  if (!names?.length && K === 91) {
    notes.push('class names: the 80 COCO categories at their category ids (91 logits)');
    return cocoLogitNames();
  }
  const out = Array.from({ length: K }, (_, i) => `unused-${i}`);
  if (names?.length) {
    if (names.length > K - 1) throw new SncError(`rfdetr: args.class_names has ${names.length} names for ${K} class logits (RF-DETR scores name i at logit i + 1)`);
    names.forEach((n, i) => (out[i + 1] = n));
    notes.push(`class names: ${names.length} from args.class_names at logits 1..${names.length}`);
  } else notes.push(`class names: the checkpoint names none; logits are named unused-0..unused-${K - 1}`);
  return out;
}

/**
 * Maps an RF-DETR state dict (+ its argparse args as a plain object, when present) to an snc
 * supernet: keeps group 0 of group-DETR tensors, notes an ignored segmentation head, throws
 * SncError (one line, naming the problem) for an unknown architecture and for missing or extra
 * tensors.
 */
export function supernetFromRfdetr(ckpt: RfdetrCheckpoint, opts: { variant?: RfdetrVariant; vitHeads?: number } = {}): RfdetrImport {
  const src = ckpt.source;
  const notes: string[] = [];
  const cfg = readConfig(ckpt, opts.variant, notes);
  const state = ckpt.state;
  checkArchitecture(cfg, state, src);
  const need = (name: string): Tensor => {
    const t = state.get(name);
    if (!t) throw new SncError(`${src}: tensor '${name}' is missing`);
    return t;
  };

  // shapes the state dict fixes
  const cls = need(`${ENC}embeddings.cls_token`);
  const C = cls.dims[cls.dims.length - 1];
  const kernel = need(`${ENC}embeddings.patch_embeddings.projection.weight`);
  const layers = indices(state, /^backbone\.0\.encoder\.encoder\.encoder\.layer\.(\d+)\./);
  const taps = cfg.out_feature_indexes.map((s) => s - 1);
  const depth = Math.max(...cfg.out_feature_indexes);
  if (taps.some((t) => t < 0) || depth > layers.length)
    throw new SncError(`${src}: args.out_feature_indexes ${JSON.stringify(cfg.out_feature_indexes)} do not fit the ${layers.length} ViT blocks of the state dict (valid: 1..${layers.length})`);
  const heads = opts.vitHeads ?? C / DINOV2_HEAD_WIDTH;
  if (!Number.isInteger(heads) || heads <= 0 || C % heads !== 0)
    throw new SncError(`${src}: cannot tell the ViT head count: width ${C} is not a multiple of DINOv2's 64-wide heads; give the head count (vitHeads)`);
  const pos = need(`${ENC}embeddings.position_embeddings`);
  const S = Math.round(Math.sqrt(pos.dims[1] - 1));
  if (S * S + 1 !== pos.dims[1]) throw new SncError(`${src}: position_embeddings has ${pos.dims[1]} rows, not 1 + S*S`);
  if (S !== cfg.positional_encoding_size) notes.push(`position table is ${S}x${S}; args.positional_encoding_size says ${cfg.positional_encoding_size} (the tensor wins)`);
  const qf = need('query_feat.weight');
  const D = qf.dims[1];
  const groups = indices(state, /^transformer\.enc_output\.(\d+)\./).length;
  if (!groups) throw new SncError(`${src}: tensor 'transformer.enc_output.0.weight' is missing`);
  if (qf.dims[0] !== cfg.num_queries * groups)
    throw new SncError(`${src}: query_feat.weight has ${qf.dims[0]} rows, not num_queries ${cfg.num_queries} x ${groups} groups`);
  const decLayers = indices(state, /^transformer\.decoder\.layers\.(\d+)\./).length;
  if (decLayers !== cfg.dec_layers) throw new SncError(`${src}: the state dict has ${decLayers} decoder layers; args.dec_layers says ${cfg.dec_layers}`);
  const K = need('class_embed.weight').dims[0];
  const ffn = decLayers ? need(`${TR}decoder.layers.0.linear1.weight`).dims[0] : 2048;
  const bottlenecks = indices(state, /^backbone\.0\.projector\.stages\.0\.0\.m\.(\d+)\./).length;
  const mlpRatio = need(`${ENC}encoder.layer.0.mlp.fc1.weight`).dims[0] / C;
  if (!Number.isInteger(mlpRatio)) throw new SncError(`${src}: ViT MLP width ${mlpRatio * C} is not a multiple of the width ${C}`);

  const arch: Architecture = {
    backbone: {
      width: C,
      depth,
      heads,
      mlpRatio,
      inChannels: kernel.dims[1],
      storedPatch: kernel.dims[2],
      posGrid: S,
      globalBlocks: cfg.out_feature_indexes.filter((i) => i < depth),
      tapBlocks: taps,
      eps: 1e-6,
      ...RFDETR_OPTIONS.backbone,
    },
    projector: { type: 'c2f', bottlenecks, eps: 1e-6 },
    decoder: {
      width: D,
      heads: cfg.ca_nheads,
      selfAttnHeads: cfg.sa_nheads,
      points: cfg.dec_n_points,
      ffn,
      maxLayers: decLayers,
      maxQueries: cfg.num_queries,
      eps: 1e-5,
      ...RFDETR_OPTIONS.decoder,
    },
    numClasses: K,
    anchorSize: 0.05,
    boxEncoding: 'reparam',
  };

  const tokensOk = (r: number) => (r / cfg.patch_size) ** 2 >= cfg.num_queries;
  const { knobs, untrained } = defaultGrid(cfg, tokensOk);
  const spec: SupernetSpec = {
    format: 'snc-supernet',
    version: 1,
    name: opts.variant ? `rfdetr-${opts.variant}` : 'rfdetr',
    architecture: arch,
    knobs,
    default: { resolution: cfg.resolution, patch: cfg.patch_size, windows: cfg.num_windows, layers: cfg.dec_layers, queries: cfg.num_queries },
    preprocess: IMAGENET,
    classes: classNames(K, cfg.class_names, notes),
    untrained,
  };

  // rename, checking that every tensor is used or knowingly left out
  const map = rfdetrNameMap(arch);
  const used = new Set<string>();
  const weights = new Map<string, Tensor>();
  const shapes = weightShapes(arch);
  for (const [name, dims] of shapes) {
    const s = map.get(name);
    if (!s) throw new Error(`rfdetr: no source for snc tensor ${name}`);
    const ins = s.from.map((n) => toF32(need(n), n, src));
    s.from.forEach((n) => used.add(n));
    const t = s.make(ins);
    if (t.dims.length !== dims.length || t.dims.some((d, i) => d !== dims[i]))
      throw new SncError(`${src}: tensor '${s.from.join("' + '")}' gives shape [${t.dims.join(', ')}] for ${name}, expected [${dims.join(', ')}]`);
    weights.set(name, t);
  }
  const ignoredNotes = new Set<string>();
  const extra = [...state.keys()].filter((k) => !used.has(k) && !ignoredReason(k, depth, ignoredNotes) && !k.endsWith('num_batches_tracked'));
  if (extra.length)
    throw new SncError(`${src}: ${extra.length} tensor${extra.length > 1 ? 's' : ''} that RF-DETR's ${opts.variant ?? 'detection'} architecture does not have, first '${extra[0]}'`);
  if (groups > 1) ignoredNotes.add(`group DETR: kept group 0 of ${groups} (two-stage heads, and the first ${cfg.num_queries} rows of query_feat and refpoint_embed)`);
  notes.push(...[...ignoredNotes].filter((n) => !n.startsWith('group DETR: kept group 0 of the')));
  if (cfg.segmentation_head && !notes.some((n) => n.includes('segmentation'))) notes.push('ignored the segmentation head (snc builds detectors)');
  checkSpec(spec, src);
  return { spec, weights, notes };
}
