import { SHAPE_CLASSES } from '../data/shapes.js';
import type { SupernetSpec } from './spec.js';

const IMAGENET = { mean: [0.485, 0.456, 0.406] as [number, number, number], std: [0.229, 0.224, 0.225] as [number, number, number], resize: 'square' as const };

/** Small widths, for the demo detector trained on snc's synthetic shapes. */
const shapesTiny: SupernetSpec = {
  format: 'snc-supernet',
  version: 1,
  name: 'shapes-tiny',
  architecture: {
    backbone: { width: 128, depth: 6, heads: 4, mlpRatio: 4, inChannels: 3, storedPatch: 16, posGrid: 16, globalBlocks: [2, 5], tapBlocks: [2, 5], eps: 1e-6 },
    decoder: { width: 128, heads: 4, points: 4, ffn: 512, maxLayers: 3, maxQueries: 100, eps: 1e-5 },
    numClasses: SHAPE_CLASSES.length,
    anchorSize: 0.05,
  },
  knobs: { resolution: [160, 224, 288], patch: [8, 16], windows: [1, 2], layers: [1, 2, 3], queries: [30, 60, 100] },
  default: { resolution: 224, patch: 16, windows: 2, layers: 3, queries: 60 },
  preprocess: IMAGENET,
  classes: SHAPE_CLASSES,
};

/** RF-DETR-N-like sizes (DINOv2-S-like backbone), for latency work. */
const nano: SupernetSpec = {
  format: 'snc-supernet',
  version: 1,
  name: 'nano',
  architecture: {
    backbone: { width: 384, depth: 12, heads: 6, mlpRatio: 4, inChannels: 3, storedPatch: 16, posGrid: 24, globalBlocks: [2, 5, 8, 11], tapBlocks: [2, 5, 8, 11], eps: 1e-6 },
    decoder: { width: 256, heads: 8, points: 4, ffn: 2048, maxLayers: 4, maxQueries: 300, eps: 1e-5 },
    numClasses: 80,
    anchorSize: 0.05,
  },
  knobs: { resolution: [288, 384, 480], patch: [12, 16], windows: [1, 2, 4], layers: [1, 2, 3, 4], queries: [100, 200, 300] },
  default: { resolution: 384, patch: 16, windows: 2, layers: 2, queries: 300 },
  preprocess: IMAGENET,
  classes: Array.from({ length: 80 }, (_, i) => `class${i}`),
};

export const PRESETS: Readonly<Record<string, { spec: SupernetSpec; seed: number }>> = {
  'shapes-tiny': { spec: shapesTiny, seed: 1 },
  nano: { spec: nano, seed: 0 },
};
