/**
 * Post-training quantization of a float model (a subnet as exportSubnet builds it): select the
 * layers, calibrate activation ranges on images, rewrite to QDQ (int8) or code the weights with
 * NUPES power exponents (nupes8/4/3: weight-only, decoded at session load), and describe every
 * layer (weight SQNR, output SQNR against the float model on calibration images).
 */
import { SncError, choices } from '../errors.js';
import type { Model } from '../onnx/graph.js';
import { consumers, prune } from '../onnx/graph.js';
import { collectStatistics, layerSqnr, pairSqnr, type CalibrationSet, type RunOptions } from './calibrate.js';
import { nupesQuantize, type NupesWeight } from './nupes.js';
import { replaceWithNupes } from './nupes-graph.js';
import { rewriteQdq, shadowName, type QdqFormat } from './qdq.js';
import { activationRange, type RangeMethod } from './range/index.js';
import { calibrationValues, selectTargets, type Selection } from './select.js';
import type { QuantizedWeight } from './weights.js';

export const WEIGHT_MODES = ['int8', 'nupes8', 'nupes4', 'nupes3'] as const;
export type WeightMode = (typeof WEIGHT_MODES)[number];

/** Float constants added to activations from this size on (a position table) get 8-bit NUPES codes in the nupes modes. */
const TABLE_MIN_ELEMENTS = 16384;

export function checkWeightMode(m: string): WeightMode {
  if (!(WEIGHT_MODES as readonly string[]).includes(m)) throw new SncError(`quantize: --weights ${JSON.stringify(m)} is not a weight format; valid formats are ${choices(WEIGHT_MODES)}`);
  return m as WeightMode;
}

export interface QuantizeOptions {
  ranges: RangeMethod;
  weights: WeightMode;
  perChannel: boolean;
  exclude?: readonly string[];
  format: QdqFormat;
  /** Why the format was chosen (said in the report and the model's metadata). */
  formatWhy?: string;
  percentile?: number;
  /** NUPES: one exponent per output channel (needs perChannel) instead of one per layer. */
  perChannelExponent?: boolean;
  /** NUPES with the exponent fixed at 1: plain uniform k-bit weights (the baseline NUPES is compared with). */
  uniformExponent?: boolean;
  /**
   * Keep the default float layers (heads, reference points, offset projections) float. Default:
   * true for int8 QDQ (their activations are what PTQ of DETRs breaks on); false for weight-only
   * NUPES codes (activations stay float; weights decode to float at load).
   */
  keepFloatDefaults?: boolean;
  /** Images of the calibration set the per-layer output SQNR is measured on (0: skip). */
  sqnrImages?: number;
}

export interface LayerReport {
  layer: string;
  op: string;
  /** Bits per weight in the file (8 for int8 QDQ). */
  bits?: number;
  exponent?: number;
  weightSqnrDb?: number;
  /**
   * SQNR of the layer's output, quantized alone on the float model's activations, against the
   * float output (dB): the layer's own error, on the first calibration images.
   */
  outputSqnrDb?: number;
  activations?: { value: string; scale: number; zeroPoint: number }[];
}

export interface QuantizeResult {
  model: Model;
  layers: LayerReport[];
  float: Selection['float'];
  calibrationImages: number;
  /** SQNR (dB) of the model's outputs (boxes, logits) against the float model's, end to end. */
  outputs: Record<string, number>;
  seconds: { calibration: number; rewrite: number; sqnr: number };
}

function weightSqnr(ref: Float32Array, err: number): number {
  let s = 0;
  for (const v of ref) s += v * v;
  return err === 0 ? Infinity : 10 * Math.log10(s / err);
}

export async function quantizeModel(model: Model, set: CalibrationSet, opts: QuantizeOptions, run: RunOptions & { onPhase?: (phase: string) => void } = {}): Promise<QuantizeResult> {
  const weightOnly = opts.weights !== 'int8';
  const sel = selectTargets(model.graph, { exclude: opts.exclude, weightOnly, keepFloatDefaults: weightOnly ? opts.keepFloatDefaults ?? false : opts.keepFloatDefaults ?? true });
  const t0 = performance.now();
  let out: Model;
  let layers: LayerReport[];
  let calibSeconds = 0;
  let shadow: () => Model['graph'];
  if (opts.weights === 'int8') {
    run.onPhase?.('calibration');
    const values = calibrationValues(sel);
    const stats = await collectStatistics(model, values, set, run);
    calibSeconds = (performance.now() - t0) / 1000;
    const ag = opts.format === 's8s8' ? ({ dtype: 'int8', qmin: -128, qmax: 127 } as const) : ({ dtype: 'uint8', qmin: 0, qmax: 255 } as const);
    const ranges = new Map([...stats].map(([v, h]) => [v, activationRange(h, opts.ranges, ag, { percentile: opts.percentile })]));
    // the shadow graph reuses the quantized weights (MSE clipping per channel is not free)
    const weightCache = new Map<string, QuantizedWeight>();
    const qdq = { format: opts.format, perChannel: opts.perChannel, weightClipping: opts.ranges === 'mse' ? ('mse' as const) : ('max' as const), ranges, weightCache };
    const r = rewriteQdq(model.graph, sel, qdq);
    shadow = () => rewriteQdq(model.graph, sel, qdq, true).graph;
    out = { ...model, graph: r.graph };
    layers = r.layers.map((l) => ({ layer: l.layer, op: l.op, bits: l.weightSqnrDb !== undefined ? (opts.format === 'u8s8' ? 7 : 8) : undefined, weightSqnrDb: l.weightSqnrDb, activations: l.activations }));
  } else {
    const bits = Number(opts.weights.slice(5));
    let g = model.graph;
    const done = new Map<string, LayerReport>();
    const coded = new Map<string, NupesWeight>();
    layers = [];
    for (const t of sel.targets) {
      if (t.weightInput === undefined) continue;
      const name = t.node.inputs[t.weightInput];
      const prev = done.get(name);
      if (prev) {
        layers.push({ ...prev, layer: t.layer });
        continue;
      }
      const wt = model.graph.initializers.get(name)!;
      const axis = t.node.opType === 'Conv' ? 0 : wt.dims.length - 1;
      const w = nupesQuantize(wt, { bits, axis: opts.perChannel ? axis : undefined, exponent: opts.uniformExponent ? 1 : undefined, perChannelExponent: opts.perChannelExponent && opts.perChannel });
      g = replaceWithNupes(g, name, w);
      coded.set(name, w);
      const rep: LayerReport = { layer: t.layer, op: t.node.opType, bits, exponent: w.exponent, weightSqnrDb: weightSqnr(wt.data as Float32Array, w.error) };
      done.set(name, rep);
      layers.push(rep);
    }
    // the other large float constants (the position table, added to the tokens) would stay fp32
    // and, at 4 or 3 bits, weigh as much as all the coded weights: 8-bit codes for them
    const readers = consumers(model.graph);
    for (const [name, t] of model.graph.initializers) {
      if (coded.has(name) || t.dtype !== 'float32' || t.data.length < TABLE_MIN_ELEMENTS) continue;
      const users = readers.get(name) ?? [];
      if (!users.length || !users.every((n) => n.opType === 'Add')) continue;
      const w = nupesQuantize(t, { bits: 8, axis: opts.perChannel ? t.dims.length - 1 : undefined, exponent: opts.uniformExponent ? 1 : undefined });
      g = replaceWithNupes(g, name, w);
      layers.push({ layer: name, op: 'Add', bits: 8, exponent: w.exponent, weightSqnrDb: weightSqnr(t.data as Float32Array, w.error) });
    }
    out = { ...model, graph: prune(g) };
    shadow = () => {
      let sg = model.graph;
      for (const [name, w] of coded) sg = replaceWithNupes(sg, name, w, { keep: true, value: shadowName(name) });
      const copies = sel.targets
        .filter((t) => t.weightInput !== undefined && coded.has(t.node.inputs[t.weightInput]))
        .map((t) => ({ ...t.node, name: shadowName(t.node.name), inputs: t.node.inputs.map((i, k) => (k === t.weightInput ? shadowName(i) : i)), outputs: t.node.outputs.map(shadowName) }));
      return { ...sg, nodes: [...sg.nodes, ...copies] };
    };
  }
  const rewriteSeconds = (performance.now() - t0) / 1000 - calibSeconds;
  out.metadata = {
    ...model.metadata,
    'snc.quant': JSON.stringify({
      weights: opts.weights,
      ...(opts.uniformExponent ? { exponent: 1 } : {}),
      ...(opts.perChannelExponent ? { exponents: 'per channel' } : {}),
      ...(opts.weights === 'int8' ? { ranges: opts.ranges, format: opts.format, formatWhy: opts.formatWhy, activations: 'per-tensor' } : { activations: 'float' }),
      perChannel: opts.perChannel,
      calibrationImages: set.count,
      float: sel.float.map((f) => f.layer),
    }),
  };
  // each layer's own output SQNR (a shadow graph), and the model's outputs end to end
  const t1 = performance.now();
  const nSqnr = Math.min(opts.sqnrImages ?? 8, set.count);
  const outputs: Record<string, number> = {};
  if (nSqnr > 0) {
    run.onPhase?.('sqnr');
    const sg = shadow();
    const have = new Set(sg.nodes.flatMap((n) => n.outputs));
    const outOf = (t: (typeof sel.targets)[number]) => (opts.weights === 'int8' && t.outputNode ? t.outputNode.outputs[0] : t.node.outputs[0]);
    const targets = sel.targets.filter((t) => have.has(shadowName(outOf(t))));
    const sq = await pairSqnr({ ...model, graph: sg }, targets.map((t) => [outOf(t), shadowName(outOf(t))]), set, nSqnr, run);
    targets.forEach((t, k) => {
      const rep = layers.find((l) => l.layer === t.layer && l.outputSqnrDb === undefined);
      if (rep) rep.outputSqnrDb = sq[k];
    });
    const names = model.graph.outputs.map((o) => o.name);
    const e2e = await layerSqnr(model, out, names, set, nSqnr, run);
    for (const n of names) outputs[n] = e2e.get(n)!;
  }
  return { model: out, layers, float: sel.float, calibrationImages: set.count, outputs, seconds: { calibration: calibSeconds, rewrite: rewriteSeconds, sqnr: (performance.now() - t1) / 1000 } };
}

