/**
 * Calibration: the float model runs on calibration images (a COCO folder as `snc data synth`
 * writes) with the tensors to quantize exposed as extra graph outputs; each image's values are
 * folded into one streaming histogram per tensor as they arrive (memory independent of the
 * image count). The same mechanism compares a quantized model's layer outputs with the float
 * ones (layerSqnr).
 */
import ort from 'onnxruntime-node';
import { readCocoDataset, type CocoDataset } from '../data/coco.js';
import { Preprocessor, type Preprocess } from '../data/preprocess.js';
import { Problems } from '../data/problems.js';
import { streamImages, type ImageStream } from '../data/stream.js';
import { SncError } from '../errors.js';
import type { Model } from '../onnx/graph.js';
import { onnx } from '../onnx/proto.js';
import { graphProto, IR_VERSION } from '../onnx/writer.js';
import { StreamingHistogram } from './histogram.js';

export const DEFAULT_CALIBRATION_IMAGES = 128;

/**
 * ONNX bytes of `model` with `extra` values added as graph outputs (float tensors of unknown
 * shape: onnxruntime infers it).
 */
export function encodeWithOutputs(model: Model, extra: readonly string[]): Uint8Array {
  const g = graphProto(model.graph);
  const have = new Set(model.graph.outputs.map((o) => o.name));
  g.output = [...(g.output ?? []), ...extra.filter((e) => !have.has(e)).map((name) => ({ name, type: { tensorType: { elemType: 1 } } }))];
  const opsets = [{ domain: '', version: model.opset }, ...Object.keys(model.extraOpsets ?? {}).sort().map((d) => ({ domain: d, version: model.extraOpsets![d] }))];
  return onnx.ModelProto.encode(onnx.ModelProto.fromObject({ irVersion: IR_VERSION, opsetImport: opsets, producerName: 'snc', graph: g })).finish();
}

export interface CalibrationSet {
  ds: CocoDataset;
  /** Images used (the first `count` of the folder). */
  count: number;
  /** The images (the first `limit` of them when given). */
  open(limit?: number): ImageStream;
}

/** The first `images` images of a COCO folder, pre-processed for a model. */
export function calibrationSet(dir: string, model: { resolution: number; preprocess: Preprocess }, images = DEFAULT_CALIBRATION_IMAGES, flag = '--calib'): CalibrationSet {
  if (!Number.isInteger(images) || images < 1) throw new SncError(`quantize: --images ${images} is not an integer >= 1 (calibration images to use; default ${DEFAULT_CALIBRATION_IMAGES})`);
  const problems = new Problems(false);
  const ds = readCocoDataset(dir, {}, problems);
  if (!ds.images.length) throw new SncError(`quantize: ${flag} ${dir} has no images (give a COCO folder with images, e.g. one written by snc data synth)`);
  const count = Math.min(images, ds.images.length);
  const pre = new Preprocessor(model.preprocess, model.resolution);
  return { ds, count, open: (limit = count) => streamImages(ds, pre, problems, { limit: Math.min(limit, count) }) };
}

export interface RunOptions {
  threads?: number;
  onProgress?: (done: number, total: number) => void;
}

function sessionOptions(threads = 1): ort.InferenceSession.SessionOptions {
  return { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all', logSeverityLevel: 3 };
}

/** Runs the model over the set, folding every value of `values` into its histogram. */
export async function collectStatistics(model: Model, values: readonly string[], set: CalibrationSet, opts: RunOptions & { bins?: number } = {}): Promise<Map<string, StreamingHistogram>> {
  const stats = new Map(values.map((v) => [v, new StreamingHistogram(opts.bins ?? 2048)]));
  if (!values.length) return stats;
  const session = await ort.InferenceSession.create(encodeWithOutputs(model, values), sessionOptions(opts.threads));
  const input = session.inputNames[0];
  const dims = model.graph.inputs[0].shape as number[];
  let done = 0;
  try {
    for await (const item of set.open()) {
      const out = await session.run({ [input]: new ort.Tensor('float32', item.tensor, dims) }, [...values]);
      item.release();
      for (const v of values) stats.get(v)!.add(out[v].data as Float32Array);
      done++;
      opts.onProgress?.(done, set.count);
    }
  } finally {
    await session.release();
  }
  if (!done) throw new SncError(`quantize: no calibration image of ${set.ds.imagesDir} could be decoded`);
  return stats;
}

/**
 * SQNR (dB) of each value of the quantized model against the same value of the float model,
 * over the set: 10 log10(sum ref^2 / sum (ref - q)^2), summed over images.
 */
export async function layerSqnr(float: Model, quant: Model, values: readonly string[], set: CalibrationSet, images: number, opts: RunOptions = {}): Promise<Map<string, number>> {
  const a = await ort.InferenceSession.create(encodeWithOutputs(float, values), sessionOptions(opts.threads));
  const b = await ort.InferenceSession.create(encodeWithOutputs(quant, values), sessionOptions(opts.threads));
  const sig = new Map(values.map((v) => [v, 0]));
  const err = new Map(values.map((v) => [v, 0]));
  const dims = float.graph.inputs[0].shape as number[];
  let done = 0;
  try {
    for await (const item of set.open(images)) {
      const feed = { [a.inputNames[0]]: new ort.Tensor('float32', item.tensor, dims) };
      const ra = await a.run(feed, [...values]);
      const rb = await b.run(feed, [...values]);
      item.release();
      for (const v of values) {
        const x = ra[v].data as Float32Array;
        const y = rb[v].data as Float32Array;
        let s = 0;
        let e = 0;
        for (let i = 0; i < x.length; i++) {
          s += x[i] * x[i];
          e += (x[i] - y[i]) ** 2;
        }
        sig.set(v, sig.get(v)! + s);
        err.set(v, err.get(v)! + e);
      }
      done++;
      opts.onProgress?.(done, Math.min(images, set.count));
    }
  } finally {
    await a.release();
    await b.release();
  }
  return new Map(values.map((v) => [v, err.get(v)! === 0 ? Infinity : 10 * Math.log10(sig.get(v)! / err.get(v)!)]));
}

/**
 * SQNR (dB) of value pairs [reference, test] computed by one model (a shadow graph, see
 * rewriteQdq), over the first `images` images of the set.
 */
export async function pairSqnr(model: Model, pairs: readonly [string, string][], set: CalibrationSet, images: number, opts: RunOptions = {}): Promise<number[]> {
  const names = [...new Set(pairs.flat())];
  const s = await ort.InferenceSession.create(encodeWithOutputs(model, names), sessionOptions(opts.threads));
  const sig = pairs.map(() => 0);
  const err = pairs.map(() => 0);
  const dims = model.graph.inputs[0].shape as number[];
  let done = 0;
  try {
    for await (const item of set.open(images)) {
      const r = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', item.tensor, dims) }, names);
      item.release();
      pairs.forEach(([a, b], k) => {
        const x = r[a].data as Float32Array;
        const y = r[b].data as Float32Array;
        for (let i = 0; i < x.length; i++) {
          sig[k] += x[i] * x[i];
          err[k] += (x[i] - y[i]) ** 2;
        }
      });
      done++;
      opts.onProgress?.(done, Math.min(images, set.count));
    }
  } finally {
    await s.release();
  }
  return pairs.map((_, k) => (err[k] === 0 ? Infinity : 10 * Math.log10(sig[k] / err[k])));
}
