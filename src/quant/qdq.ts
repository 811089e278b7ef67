/**
 * Rewrites a float graph into QDQ form (QuantizeLinear/DequantizeLinear pairs), the format
 * onnxruntime's CPU and WebAssembly providers fuse into integer kernels (a DQ -> MatMul fuses to
 * MatMulIntegerToFloat, DQ -> Conv -> Q to QLinearConv). Weights: symmetric int8, per output
 * channel or per tensor, stored as int8 initializers behind a DequantizeLinear. Activations: per
 * tensor, asymmetric, one QuantizeLinear per value and a DequantizeLinear per consumer (so each
 * node unit owns its DQ, as onnxruntime's selectors want).
 *
 * Formats: `s8s8` int8 activations x int8 weights; `u8s8` uint8 activations x 7-bit
 * (reduced-range) int8 weights, onnxruntime's advice on x86 without VNNI, where u8·s8 pairs are
 * summed into a saturating int16.
 */
import { SncError, choices } from '../errors.js';
import type { Graph, Node } from '../onnx/graph.js';
import { prune } from '../onnx/graph.js';
import { tensor } from '../onnx/tensor.js';
import { activationGrid, affineParams, weightGrid, type QuantParams } from './grid.js';
import type { Range } from './range/types.js';
import type { Selection, Target } from './select.js';
import { dequantizeWeight, quantizeWeight, type QuantizedWeight, type WeightClipping } from './weights.js';

export const QDQ_FORMATS = ['s8s8', 'u8s8'] as const;
export type QdqFormat = (typeof QDQ_FORMATS)[number];

export function checkFormat(f: string): QdqFormat {
  if (!(QDQ_FORMATS as readonly string[]).includes(f)) throw new SncError(`quantize: --format ${JSON.stringify(f)} is not a QDQ format; valid formats are ${choices(QDQ_FORMATS)}`);
  return f as QdqFormat;
}

/**
 * The format a runtime runs faster, end to end (docs/quant.md, `bench/quant-speed.ts`):
 * u8s8 with reduced-range weights on both. onnxruntime-node on x86: VPMADDUBSW without VNNI
 * saturates int16 with 8-bit weights. onnxruntime-web (WebAssembly): s8s8 won the one-MatMul
 * measurement on the AMD EPYC host (23 against 32 ms), but nano's whole int8 model ran faster
 * in u8s8 in each of three interleaved runs on two hosts (by 3, 2 and 6 %).
 */
export function formatFor(runtime: string): { format: QdqFormat; why: string } {
  if (runtime === 'onnxruntime-web')
    return { format: 'u8s8', why: 'onnxruntime-web (WebAssembly): u8s8 ran nano end to end faster than s8s8 in three interleaved runs on two hosts' };
  return { format: 'u8s8', why: 'onnxruntime-node on x86 without VNNI: u8s8 with 7-bit (reduced-range) weights avoids int16 saturation' };
}

export interface QdqOptions {
  format: QdqFormat;
  perChannel: boolean;
  weightClipping: WeightClipping;
  /** Range of every activation value the targets read (calibrationValues). */
  ranges: ReadonlyMap<string, Range>;
  /** Quantized weights by initializer name, filled and reused across rewrites of one graph. */
  weightCache?: Map<string, QuantizedWeight>;
}

export interface QdqLayer {
  layer: string;
  op: string;
  node: string;
  /** SQNR of the quantized weight against the float one (dB), when the node has a weight. */
  weightSqnrDb?: number;
  /** The activation parameters used, per input value. */
  activations: { value: string; scale: number; zeroPoint: number }[];
}

function sqnr(ref: Float32Array, test: Float32Array): number {
  let s = 0;
  let e = 0;
  for (let i = 0; i < ref.length; i++) {
    s += ref[i] * ref[i];
    e += (ref[i] - test[i]) ** 2;
  }
  return e === 0 ? Infinity : 10 * Math.log10(s / e);
}

/** Output name of a target's quantized copy in a shadow graph. */
export const shadowName = (value: string) => `${value}/shadow`;

/**
 * Returns the rewritten graph (a new object; the input is not changed) and per-layer facts.
 * `shadow`: keep every node float and add, beside each target, a quantized copy reading the
 * float inputs (output shadowName(out)): each layer's own error, on float activations.
 */
export function rewriteQdq(graph: Graph, sel: Selection, opts: QdqOptions, shadow = false): { graph: Graph; layers: QdqLayer[] } {
  const ag = activationGrid(opts.format === 's8s8' ? 'int8' : 'uint8');
  const wg = weightGrid(8, opts.format === 'u8s8');
  const inits = new Map(graph.initializers);
  const nodes: Node[] = [];
  const layers: QdqLayer[] = [];
  const qOf = new Map<string, { name: string; params: QuantParams }>();
  const weightOf = new Map<string, { q: QuantizedWeight; scaleName: string; zpName: string; codesName: string }>();
  const renamed = new Map<string, string>(); // Conv outputs -> their DQ'd values
  const byNode = new Map(sel.targets.map((t) => [t.node, t]));
  const zpType = ag.dtype;
  const scalarT = (v: number) => tensor('float32', [], [v]);
  const zpT = (v: number) => tensor(zpType, [], [v]);

  const quantizeValue = (value: string): { name: string; params: QuantParams } => {
    let q = qOf.get(value);
    if (q) return q;
    const r = opts.ranges.get(value);
    if (!r) throw new Error(`no calibration range for ${value}`);
    const params = affineParams(r.lo, r.hi, ag);
    params.scale = Math.fround(params.scale);
    const base = `${value}/quant`;
    inits.set(`${base}.scale`, scalarT(params.scale));
    inits.set(`${base}.zero_point`, zpT(params.zeroPoint));
    q = { name: `${base}.q`, params };
    nodes.push({ name: `${base}/QuantizeLinear`, opType: 'QuantizeLinear', domain: '', inputs: [value, `${base}.scale`, `${base}.zero_point`], outputs: [q.name], attributes: {} });
    qOf.set(value, q);
    return q;
  };
  const dq = (q: { name: string }, value: string, consumer: string): string => {
    const base = `${value}/quant`;
    const out = `${base}.dq@${consumer}`;
    nodes.push({ name: `${out}/DequantizeLinear`, opType: 'DequantizeLinear', domain: '', inputs: [q.name, `${base}.scale`, `${base}.zero_point`], outputs: [out], attributes: {} });
    return out;
  };

  const pendingOutputs = new Map<Node, Target>();
  const shadowAdds = new Map<Node, Node>();
  /** Q/DQ after `orig`'s output (`emitted` is what was pushed for it: itself, or its shadow copy). */
  const quantizeAfter = (orig: Node, emitted: Node) => {
    const value = orig.outputs[0];
    const q = quantizeValue(value);
    if (!shadow) renamed.set(value, dq(q, value, 'out'));
    else {
      // the shadow output passes through the same Q/DQ as the real one would
      const qs = `${shadowName(value)}/q`;
      emitted.outputs[0] = `${shadowName(value)}/raw`;
      nodes.push({ name: `${qs}/QuantizeLinear`, opType: 'QuantizeLinear', domain: '', inputs: [emitted.outputs[0], `${value}/quant.scale`, `${value}/quant.zero_point`], outputs: [qs], attributes: {} });
      nodes.push({ name: `${qs}/DequantizeLinear`, opType: 'DequantizeLinear', domain: '', inputs: [qs, `${value}/quant.scale`, `${value}/quant.zero_point`], outputs: [shadowName(value)], attributes: {} });
    }
  };

  // A float-output target's bias as a [1, N] row (the same sum at any rank >= 2): onnxruntime's
  // MatMul + Add -> Gemm fusion takes only a 1-D bias when the MatMul's input has more than two
  // dimensions, so the DQ -> MatMul fuses to MatMulIntegerToFloat instead of a float Gemm.
  const rowBias = new Map<Node, { index: number; name: string }>();
  if (!shadow) {
    for (const t of sel.targets) {
      const a = t.floatBias;
      if (!a) continue;
      const index = a.inputs.findIndex((i) => i !== t.node.outputs[0]);
      const b = graph.initializers.get(a.inputs[index])!;
      const name = `${a.inputs[index]}@row`;
      inits.set(name, { ...b, dims: [1, b.dims[0]] });
      rowBias.set(a, { index, name });
    }
  }

  for (const n0 of graph.nodes) {
    const t = byNode.get(n0);
    if (shadow) nodes.push(n0);
    const pending = pendingOutputs.get(n0);
    if (pending) {
      if (shadow) {
        const copy = shadowAdds.get(n0)!;
        nodes.push(copy);
        quantizeAfter(n0, copy);
      } else {
        const n: Node = { ...n0, inputs: n0.inputs.map((i) => renamed.get(i) ?? i) };
        nodes.push(n);
        quantizeAfter(n0, n);
      }
      continue;
    }
    const n: Node = { ...n0, inputs: n0.inputs.map((i) => renamed.get(i) ?? i), outputs: n0.outputs.map((o) => (shadow ? shadowName(o) : o)), attributes: { ...n0.attributes } };
    if (shadow) n.name = shadowName(n0.name);
    if (!t) {
      const row = rowBias.get(n0);
      if (row) n.inputs[row.index] = row.name;
      if (!shadow) nodes.push(n);
      continue;
    }
    const info: QdqLayer = { layer: t.layer, op: n.opType, node: n.name, activations: [] };
    const actParams: QuantParams[] = [];
    for (const i of t.activationInputs) {
      const value = n0.inputs[i]; // the float value (a Conv output's range, not its DQ's name)
      const q = quantizeValue(value);
      actParams.push(q.params);
      info.activations.push({ value, scale: q.params.scale, zeroPoint: q.params.zeroPoint });
      n.inputs[i] = dq(q, value, n.name);
    }
    if (t.weightInput !== undefined) {
      const wname = n.inputs[t.weightInput];
      const wt = graph.initializers.get(wname)!;
      // MatMul B [K, N] and Gemm B [K, N] (transB: [N, K]) have output channels on axis 1 (0); Conv W [M, C, kh, kw] on 0
      const axis = n.opType === 'Conv' ? 0 : n.opType === 'Gemm' && n.attributes.transB?.value ? 0 : wt.dims.length - 1;
      let w = weightOf.get(wname);
      if (!w) {
        let q = opts.weightCache?.get(wname);
        if (!q) {
          q = quantizeWeight(wt, wg, { axis: opts.perChannel ? axis : undefined, clipping: opts.weightClipping });
          opts.weightCache?.set(wname, q);
        }
        const codesName = `${wname}/quant.codes`;
        const scaleName = `${wname}/quant.scale`;
        const zpName = `${wname}/quant.zero_point`;
        inits.set(codesName, tensor('int8', q.dims, q.codes));
        inits.set(scaleName, q.axis === undefined ? scalarT(q.scales[0]) : tensor('float32', [q.scales.length], q.scales));
        inits.set(zpName, q.axis === undefined ? tensor('int8', [], [0]) : tensor('int8', [q.scales.length], new Int8Array(q.scales.length)));
        w = { q, scaleName, zpName, codesName };
        weightOf.set(wname, w);
      }
      info.weightSqnrDb = sqnr(wt.data as Float32Array, dequantizeWeight(w.q));
      const out = `${wname}/quant.dq@${n.name}`;
      nodes.push({
        name: `${out}/DequantizeLinear`,
        opType: 'DequantizeLinear',
        domain: '',
        inputs: [w.codesName, w.scaleName, w.zpName],
        outputs: [out],
        attributes: w.q.axis === undefined ? {} : { axis: { type: 'int', value: w.q.axis } },
      });
      n.inputs[t.weightInput] = out;
      // Conv bias: int32 with scale s_x * s_w (what QLinearConv adds before requantizing)
      const bname = n.opType === 'Conv' ? n.inputs[2] : undefined;
      const bias = bname ? graph.initializers.get(bname) : undefined;
      if (bname && bias && actParams.length === 1) {
        const sx = actParams[0].scale;
        const M = bias.dims[0];
        const bs = Float32Array.from({ length: M }, (_, c) => Math.fround(sx * w!.q.scales[w!.q.axis === undefined ? 0 : c]));
        const bq = Int32Array.from(bias.data as Float32Array, (b, c) => Math.round(b / bs[c]));
        const base = `${bname}/quant`;
        inits.set(`${base}.codes`, tensor('int32', [M], bq));
        inits.set(`${base}.scale`, tensor('float32', [M], bs));
        inits.set(`${base}.zero_point`, tensor('int32', [M], new Int32Array(M)));
        nodes.push({ name: `${base}/DequantizeLinear`, opType: 'DequantizeLinear', domain: '', inputs: [`${base}.codes`, `${base}.scale`, `${base}.zero_point`], outputs: [`${base}.dq`], attributes: { axis: { type: 'int', value: 0 } } });
        n.inputs[2] = `${base}.dq`;
      }
    }
    nodes.push(n);
    if (t.outputNode && t.outputNode !== n0) {
      pendingOutputs.set(t.outputNode, t);
      if (shadow) {
        // the shadow copy takes its bias Add along, so its output is compared after the Add
        const a = t.outputNode;
        const copy: Node = { ...a, name: shadowName(a.name), inputs: a.inputs.map((i) => (i === n0.outputs[0] ? n.outputs[0] : i)), outputs: a.outputs.map(shadowName), attributes: { ...a.attributes } };
        shadowAdds.set(a, copy);
      }
    } else if (t.outputNode) quantizeAfter(n0, n);
    layers.push(info);
  }
  const g = shadow ? { ...graph, nodes, initializers: inits } : prune({ ...graph, nodes, initializers: inits });
  return { graph: g, layers };
}
