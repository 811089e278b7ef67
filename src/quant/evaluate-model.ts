/** COCO metrics of any model snc exported (float or quantized), run with onnxruntime-node. */
import ort from 'onnxruntime-node';
import type { CocoDataset } from '../data/coco.js';
import type { Problems } from '../data/problems.js';
import type { ResultsWriter } from '../data/results.js';
import { mapClasses } from '../detr/postprocess.js';
import { defaultThreads, evaluateSession, openImages, type EvalReport } from '../eval/evaluate.js';
import { readModelInfo, type ModelInfo } from './model-info.js';

export interface ModelEvalOptions {
  threads?: number;
  topK?: number;
  prefetch?: number;
  limit?: number;
  detectionsOut?: ResultsWriter;
  onProgress?: (done: number, total: number) => void;
}

export async function evaluateModelBytes(bytes: Uint8Array, source: string, ds: CocoDataset, problems: Problems, opts: ModelEvalOptions = {}): Promise<EvalReport & { info: ModelInfo; setupSeconds: number }> {
  const info = readModelInfo(bytes, source);
  const model = { resolution: info.resolution, preprocess: info.preprocess, classes: info.classes };
  mapClasses(model.classes, ds.categories); // fails early when no class is a category
  const t0 = performance.now();
  const images = openImages(ds, problems, { model, prefetch: opts.prefetch, limit: opts.limit });
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: opts.threads ?? defaultThreads(), interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' }).catch(async (e) => {
    await images.close();
    throw e;
  });
  const setupSeconds = (performance.now() - t0) / 1000;
  try {
    const r = await evaluateSession(session, ds, problems, { model, images, topK: opts.topK, prefetch: opts.prefetch, limit: opts.limit, detectionsOut: opts.detectionsOut, onProgress: opts.onProgress });
    return { ...r, info, setupSeconds };
  } finally {
    await session.release();
  }
}
