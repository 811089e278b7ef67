import type { DType, Tensor } from './tensor.js';

/** An ONNX attribute value, tagged with its ONNX type so that 1 and 1.0 stay distinct. */
export type Attribute =
  | { readonly type: 'int'; readonly value: number }
  | { readonly type: 'float'; readonly value: number }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'ints'; readonly value: readonly number[] }
  | { readonly type: 'floats'; readonly value: readonly number[] }
  | { readonly type: 'tensor'; readonly value: Tensor };

export const attr = {
  int: (value: number): Attribute => ({ type: 'int', value }),
  float: (value: number): Attribute => ({ type: 'float', value }),
  string: (value: string): Attribute => ({ type: 'string', value }),
  ints: (value: readonly number[]): Attribute => ({ type: 'ints', value: [...value] }),
  floats: (value: readonly number[]): Attribute => ({ type: 'floats', value: [...value] }),
  tensor: (value: Tensor): Attribute => ({ type: 'tensor', value }),
};

export interface Node {
  name: string;
  opType: string;
  domain: string;
  /** Input value names; '' marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attributes: Record<string, Attribute>;
}

/** A graph input or output: its name, element type and shape (a string is a symbolic dim). */
export interface ValueInfo {
  name: string;
  dtype: DType;
  shape: (number | string)[];
}

/**
 * The in-memory form of an ONNX graph that snc builds, reads and rewrites. Nodes are kept in
 * topological order; initializers keep their insertion order so that output is deterministic.
 */
export interface Graph {
  name: string;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers: Map<string, Tensor>;
  nodes: Node[];
}

export interface Model {
  graph: Graph;
  /** Default-domain opset version. */
  opset: number;
  /** Other domains the graph uses, e.g. { 'com.microsoft': 1 }. */
  extraOpsets?: Record<string, number>;
  producerName?: string;
  producerVersion?: string;
  /** Written as metadata_props, sorted by key. */
  metadata: Record<string, string>;
}

/** Maps each value name to the node that produces it. */
export function producers(graph: Graph): Map<string, Node> {
  const m = new Map<string, Node>();
  for (const n of graph.nodes) for (const o of n.outputs) m.set(o, n);
  return m;
}

/** Maps each value name to the nodes that read it. */
export function consumers(graph: Graph): Map<string, Node[]> {
  const m = new Map<string, Node[]>();
  for (const n of graph.nodes)
    for (const i of n.inputs) {
      if (!i) continue;
      let list = m.get(i);
      if (!list) m.set(i, (list = []));
      list.push(n);
    }
  return m;
}

/**
 * Drops nodes and initializers that no graph output depends on (after a rewrite or after
 * cutting a sub-graph out).
 */
export function prune(graph: Graph): Graph {
  const needed = new Set(graph.outputs.map((o) => o.name));
  const keep: Node[] = [];
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const n = graph.nodes[i];
    if (n.outputs.some((o) => needed.has(o))) {
      keep.push(n);
      for (const x of n.inputs) if (x) needed.add(x);
    }
  }
  keep.reverse();
  const initializers = new Map([...graph.initializers].filter(([k]) => needed.has(k)));
  const inputs = graph.inputs.filter((i) => needed.has(i.name) || graph.outputs.some((o) => o.name === i.name));
  return { ...graph, nodes: keep, initializers, inputs };
}
