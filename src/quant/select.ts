/**
 * Which nodes of a graph get quantized. Conv, MatMul and Gemm are the quantizable ops; the
 * parts of a detection transformer that PTQ studies find fragile stay float by default
 * (LayerNorm, Softmax and GridSample are never quantized: they are not quantizable ops here):
 * the sampling-offset and attention-weight projection, the reference-point head and the output
 * heads (box and class, two-stage and decoder). `--exclude` adds op types, node names or layer
 * names (a `*` matches any run of characters); an exclusion that names nothing is an error.
 */
import { SncError, choices } from '../errors.js';
import type { Graph, Node } from '../onnx/graph.js';

export const QUANT_OPS: ReadonlySet<string> = new Set(['Conv', 'MatMul', 'Gemm']);

/** Layers kept float by default, by layer name, with the reason the report gives. */
export const KEEP_FLOAT: readonly { pattern: RegExp; why: string }[] = [
  { pattern: /cross_attn\.offsets_weights$/, why: 'sampling-offset and attention-weight projection' },
  { pattern: /ref_point_head\./, why: 'reference-point head' },
  { pattern: /query_pos\//, why: 'reference-point math (sine embedding of the reference boxes)' },
  { pattern: /bbox_head\./, why: 'box head' },
  { pattern: /class_head$/, why: 'class head' },
];

/** A quantizable node and what to quantize around it. */
export interface Target {
  node: Node;
  /** The weight's initializer name without `.weight` (e.g. backbone.blocks.0.mlp.fc1), else the node name. */
  layer: string;
  /** Input index of the weight (an initializer), if any. */
  weightInput?: number;
  /** Input indices of activations (values computed by the graph). */
  activationInputs: number[];
  /**
   * Quantize the output too: a Conv's (DQ -> Conv -> Q fuses to QLinearConv), or that of the
   * bias Add after a MatMul: onnxruntime fuses MatMul + Add into a Gemm before its QDQ pass, and
   * a DQ -> Gemm fuses (to QGemm) only with a Q after it.
   */
  quantizeOutput: boolean;
  /** The node whose output is quantized: the target itself, or its bias Add. */
  outputNode?: Node;
  /**
   * The bias Add of a MatMul whose sum several nodes read: its output stays float, and the
   * MatMul runs as onnxruntime's MatMulIntegerToFloat with the bias added after it. A Q after
   * the Add would fuse DQ -> MatMul + Add -> Q into a QGemm, but onnxruntime's optimizer gives
   * every reader of the DQ after it its own copy, so the float ops those readers start no longer
   * read one value: a GELU's Div and Mul then run as five ops (Div, Erf, Add, Mul, Mul) instead
   * of onnxruntime's fused Gelu. One MLP (576x384x1536, fc1, GELU, fc2): 9.7 -> 6.8 ms on
   * ort-cpu-1t, 43.5 -> 39.2 ms on ort-wasm-1t (docs/quant.md).
   */
  floatBias?: Node;
}

export interface Selection {
  targets: Target[];
  /** Quantizable nodes left float, and why. */
  float: { layer: string; op: string; why: string }[];
}

/** The name a node is known by in reports and exclusions. */
export function layerName(graph: Graph, node: Node): string {
  const w = node.inputs[weightIndex(node)];
  return w && graph.initializers.has(w) && /\.weight(@.*)?$/.test(w) ? w.replace(/\.weight(@.*)?$/, '') : node.name;
}

function globMatch(pattern: string, s: string): boolean {
  if (!pattern.includes('*')) return pattern === s;
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(s);
}

const weightIndex = (n: Node): number => (n.opType === 'Conv' || n.opType === 'Gemm' || n.opType === 'MatMul' ? 1 : -1);

/** The Add that adds a constant bias to `n`'s output, when it is that output's only consumer. */
function biasAdd(graph: Graph, n: Node, consumers: Map<string, Node[]>): Node | undefined {
  const c = consumers.get(n.outputs[0]) ?? [];
  if (c.length !== 1 || c[0].opType !== 'Add') return undefined;
  const other = c[0].inputs.find((i) => i !== n.outputs[0]);
  const t = other ? graph.initializers.get(other) : undefined;
  return t && t.dims.length === 1 ? c[0] : undefined;
}

/**
 * `weightOnly`: the selection for weight-only codes (NUPES): a MatMul whose inputs are all
 * constant is a target too (its weight is still stored).
 */
export function selectTargets(graph: Graph, opts: { exclude?: readonly string[]; keepFloatDefaults?: boolean; weightOnly?: boolean } = {}): Selection {
  const exclude = opts.exclude ?? [];
  const consumers = new Map<string, Node[]>();
  for (const n of graph.nodes) for (const i of n.inputs) if (i) (consumers.get(i) ?? consumers.set(i, []).get(i)!).push(n);
  const outputs = new Set(graph.outputs.map((o) => o.name));
  const matches = (e: string, n: Node, layer: string) => e === n.opType || globMatch(e, n.name) || globMatch(e, layer);
  for (const e of exclude) {
    if (!e) throw new SncError('quantize: --exclude needs an op type, a node name or a layer name');
    if (!graph.nodes.some((n) => matches(e, n, layerName(graph, n)))) {
      const ops = [...new Set(graph.nodes.map((n) => n.opType))].sort();
      const layers = [...new Set(graph.nodes.filter((n) => QUANT_OPS.has(n.opType)).map((n) => layerName(graph, n)))];
      throw new SncError(
        `quantize: --exclude ${JSON.stringify(e)} names no node of the model; valid are op types ${choices(ops)}, node names, or layer names such as ${choices(layers.slice(0, 6))}${layers.length > 6 ? ` (${layers.length} in all)` : ''}`,
      );
    }
  }
  const targets: Target[] = [];
  const float: Selection['float'] = [];
  for (const n of graph.nodes) {
    if (!QUANT_OPS.has(n.opType)) continue;
    const layer = layerName(graph, n);
    const ex = exclude.find((e) => matches(e, n, layer));
    if (ex) {
      float.push({ layer, op: n.opType, why: `--exclude ${ex}` });
      continue;
    }
    const keep = opts.keepFloatDefaults === false ? undefined : KEEP_FLOAT.find((k) => k.pattern.test(layer));
    if (keep) {
      float.push({ layer, op: n.opType, why: keep.why });
      continue;
    }
    const wi = weightIndex(n);
    const hasWeight = wi >= 0 && graph.initializers.has(n.inputs[wi]) && graph.initializers.get(n.inputs[wi])!.dtype === 'float32';
    const actIdx = [0, 1].filter((i) => n.inputs[i] && !graph.initializers.has(n.inputs[i]));
    if (!actIdx.length && !(opts.weightOnly && hasWeight)) {
      float.push({ layer, op: n.opType, why: 'constant inputs (onnxruntime folds it)' });
      continue;
    }
    if (n.opType === 'Conv' && !hasWeight) {
      float.push({ layer, op: n.opType, why: 'weight is not a constant' });
      continue;
    }
    if (n.opType === 'Gemm' && n.attributes.transA?.value) {
      float.push({ layer, op: n.opType, why: 'Gemm with transA' });
      continue;
    }
    const add = n.opType === 'MatMul' && hasWeight ? biasAdd(graph, n, consumers) : undefined;
    const floatBias = add && (consumers.get(add.outputs[0]) ?? []).length > 1 ? add : undefined;
    const outputNode = n.opType === 'Conv' ? n : add && !floatBias && !outputs.has(add.outputs[0]) ? add : undefined;
    targets.push({ node: n, layer, weightInput: hasWeight ? wi : undefined, activationInputs: actIdx, quantizeOutput: outputNode !== undefined, outputNode, ...(floatBias ? { floatBias } : {}) });
  }
  return { targets, float };
}

/** The activation values the targets read (and the Conv outputs), which calibration observes. */
export function calibrationValues(sel: Selection): string[] {
  const out = new Set<string>();
  for (const t of sel.targets) {
    for (const i of t.activationInputs) out.add(t.node.inputs[i]);
    if (t.outputNode) out.add(t.outputNode.outputs[0]);
  }
  return [...out];
}
