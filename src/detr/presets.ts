import { SHAPE_CLASSES } from '../data/shapes.js';
import { COCO_CATEGORIES } from './rfdetr/coco-classes.js';
import type { Architecture, SupernetSpec } from './spec.js';

export const IMAGENET = { mean: [0.485, 0.456, 0.406] as [number, number, number], std: [0.229, 0.224, 0.225] as [number, number, number], resize: 'square' as const };

/** Small widths, for the demo detector trained on snc's synthetic shapes. */
const shapesTiny: SupernetSpec = {
  format: 'snc-supernet',
  version: 1,
  name: 'shapes-tiny',
  architecture: {
    backbone: {
      width: 128, depth: 6, heads: 4, mlpRatio: 4, inChannels: 3, storedPatch: 16, posGrid: 16, globalBlocks: [2, 5], tapBlocks: [2, 5], eps: 1e-6,
      // a residual conv stem (issue #16; docs/training.md, step 6): stride 8, 128 channels
      stem: { type: 'conv', channels: [32, 64, 128], blocks: [0, 1, 1], eps: 1e-6 },
    },
    decoder: { width: 128, heads: 4, points: 4, ffn: 512, maxLayers: 3, maxQueries: 100, eps: 1e-5 },
    numClasses: SHAPE_CLASSES.length,
    anchorSize: 0.05,
  },
  knobs: { resolution: [160, 224, 288], patch: [8, 16], windows: [1, 2], layers: [1, 2, 3], queries: [30, 60, 100] },
  default: { resolution: 224, patch: 16, windows: 2, layers: 3, queries: 60 },
  preprocess: IMAGENET,
  classes: SHAPE_CLASSES,
};

/**
 * The options that make the family compute RF-DETR's forward pass (docs/architecture.md): CLS
 * tokens, antialiased position resize, C2f projector, box reparametrisation, learned reference
 * boxes, fixed reference points with a sine query position, the decoder's final LayerNorm.
 */
export const RFDETR_OPTIONS = {
  backbone: { clsToken: true, posResize: 'bicubic-antialias' },
  decoder: { finalNorm: true, refPoints: 'fixed', queryPos: 'sine', refpointEmbed: true },
} as const satisfies { backbone: Partial<Architecture['backbone']>; decoder: Partial<Architecture['decoder']> };

/** Names of 91 COCO-id logits: the category name at its id, `unused-<id>` at the ids COCO leaves out. */
export function cocoLogitNames(): string[] {
  return Array.from({ length: 91 }, (_, i) => COCO_CATEGORIES[i] ?? `unused-${i}`);
}

/**
 * RF-DETR-Nano's exact architecture (rfdetr 1.4.1, RFDETRNanoConfig): ViT-S (384 wide, 6 heads,
 * 12 blocks), taps after blocks 3, 6, 9, 12 (1-based), global attention in the blocks after
 * the first three taps, patch 16, 2 windows, 384 px, position grid 24; C2f projector to D 256;
 * 2 decoder layers, 300 queries, self-attention 8 heads, deformable cross-attention 16 heads x 2
 * points, FFN 2048; 91 COCO-id logits. Seeded random weights: for latency work.
 */
const nano: SupernetSpec = {
  format: 'snc-supernet',
  version: 1,
  name: 'nano',
  architecture: {
    backbone: { width: 384, depth: 12, heads: 6, mlpRatio: 4, inChannels: 3, storedPatch: 16, posGrid: 24, globalBlocks: [3, 6, 9], tapBlocks: [2, 5, 8, 11], eps: 1e-6, ...RFDETR_OPTIONS.backbone },
    projector: { type: 'c2f', bottlenecks: 3, eps: 1e-6 },
    decoder: { width: 256, heads: 16, selfAttnHeads: 8, points: 2, ffn: 2048, maxLayers: 2, maxQueries: 300, eps: 1e-5, ...RFDETR_OPTIONS.decoder },
    numClasses: 91,
    anchorSize: 0.05,
    boxEncoding: 'reparam',
  },
  knobs: { resolution: [288, 384, 480], patch: [12, 16], windows: [1, 2, 4], layers: [0, 1, 2], queries: [100, 200, 300] },
  default: { resolution: 384, patch: 16, windows: 2, layers: 2, queries: 300 },
  preprocess: IMAGENET,
  classes: cocoLogitNames(),
};

export const PRESETS: Readonly<Record<string, { spec: SupernetSpec; seed: number }>> = {
  'shapes-tiny': { spec: shapesTiny, seed: 1 },
  nano: { spec: nano, seed: 0 },
};

/** The supernet examples and `npm start` use: the embedded, trained one. */
export const DEFAULT_SUPERNET = 'shapes-tiny';
