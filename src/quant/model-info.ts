/**
 * What running a model snc exported needs, read from the model itself: the input resolution
 * (from the input's shape), the pre-processing and the class names (from the metadata_props
 * snc writes: snc.preprocess, snc.classes), and the quantization it carries (snc.quant).
 */
import type { Preprocess } from '../data/preprocess.js';
import { SncError } from '../errors.js';
import type { Model } from '../onnx/graph.js';
import { decodeModel } from '../onnx/reader.js';

export interface ModelInfo {
  resolution: number;
  preprocess: Preprocess;
  classes: string[];
  config?: string;
  supernet?: string;
  quant?: Record<string, unknown>;
}

export function modelInfo(m: Model, source: string): ModelInfo {
  const need = (key: string): unknown => {
    const v = m.metadata[key];
    if (v === undefined) throw new SncError(`${source}: has no metadata '${key}' (not a model snc exported; re-export it with snc export or snc quantize)`);
    try {
      return JSON.parse(v);
    } catch {
      throw new SncError(`${source}: metadata '${key}' is not valid JSON`);
    }
  };
  const preprocess = need('snc.preprocess') as Preprocess;
  const classes = need('snc.classes') as string[];
  const input = m.graph.inputs[0];
  const R = input?.shape[2];
  if (!input || input.shape.length !== 4 || typeof R !== 'number' || input.shape[3] !== R)
    throw new SncError(`${source}: input ${input?.name ?? '(none)'} is not a square image [1, 3, R, R]`);
  const quant = m.metadata['snc.quant'] ? (JSON.parse(m.metadata['snc.quant']) as Record<string, unknown>) : undefined;
  return { resolution: R, preprocess, classes, config: m.metadata['snc.config'], supernet: m.metadata['snc.supernet'], quant };
}

export function readModelInfo(bytes: Uint8Array, source: string): ModelInfo {
  return modelInfo(decodeModel(bytes, source), source);
}
