import { attr, type Attribute, type Graph, type Node, type ValueInfo } from './graph.js';
import { f32, i64, type DType, type Tensor } from './tensor.js';

/** A value in a graph under construction: its name and, when the builder knows them, its type and shape. */
export interface Value {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
}

export type AttrInput = Attribute | number | string | readonly number[];

function toAttribute(v: AttrInput): Attribute {
  if (typeof v === 'number') return attr.int(v);
  if (typeof v === 'string') return attr.string(v);
  if (Array.isArray(v)) return attr.ints(v);
  return v as Attribute;
}

/**
 * Builds an ONNX graph node by node. Node and value names come from the current scope and a
 * per-scope counter, so the same calls always give the same graph (snc's exports are
 * byte-deterministic). Shapes are tracked by the caller: every op states its output shape,
 * which lets any block be emitted alone with exact input shapes.
 */
export class GraphBuilder {
  private readonly nodes: Node[] = [];
  private readonly inits = new Map<string, Tensor>();
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly counters = new Map<string, number>();
  private readonly constCache = new Map<string, Value>();
  private scopes: string[] = [];

  constructor(readonly name: string) {}

  /** Runs fn with names prefixed by `scope/`. */
  scope<T>(scope: string, fn: () => T): T {
    this.scopes.push(scope);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  get currentScope(): string {
    return this.scopes.join('/');
  }

  private fresh(base: string): string {
    const prefix = this.currentScope ? `${this.currentScope}/${base}` : base;
    const n = this.counters.get(prefix) ?? 0;
    this.counters.set(prefix, n + 1);
    return n === 0 ? prefix : `${prefix}_${n}`;
  }

  input(name: string, dtype: DType, shape: readonly number[]): Value {
    this.inputs.push({ name, dtype, shape: [...shape] });
    return { name, dtype, shape };
  }

  /** Declares v a graph output, renaming it through an Identity when a name is given. */
  output(v: Value, name?: string): Value {
    let out = v;
    if (name && name !== v.name) {
      this.nodes.push({ name: `${name}/Identity`, opType: 'Identity', domain: '', inputs: [v.name], outputs: [name], attributes: {} });
      out = { name, dtype: v.dtype, shape: v.shape };
    }
    this.outputs.push({ name: out.name, dtype: out.dtype, shape: [...out.shape] });
    return out;
  }

  /** Adds a named initializer (a weight). Adding the same name twice returns the first. */
  initializer(name: string, t: Tensor): Value {
    if (!this.inits.has(name)) this.inits.set(name, t);
    const s = this.inits.get(name)!;
    return { name, dtype: s.dtype, shape: s.dims };
  }

  hasInitializer(name: string): boolean {
    return this.inits.has(name);
  }

  /** A small constant (shape vectors, scalars), shared between all uses of the same value. */
  constant(t: Tensor, hint = 'const'): Value {
    const key = `${t.dtype}|${t.dims.join('x')}|${Array.from(t.data as ArrayLike<number | bigint>, String).join(',')}`;
    const hit = key.length < 512 ? this.constCache.get(key) : undefined;
    if (hit) return hit;
    const saved = this.scopes;
    this.scopes = [];
    const name = this.fresh(`${hint}`);
    this.scopes = saved;
    const v = this.initializer(name, t);
    if (key.length < 512) this.constCache.set(key, v);
    return v;
  }

  ints(values: readonly number[]): Value {
    return this.constant(i64([values.length], values), 'shape');
  }

  scalar(value: number): Value {
    return this.constant(f32([], [value]), 'scalar');
  }

  /** Appends one node with a single output of the stated type and shape. */
  op(
    opType: string,
    inputs: readonly (Value | null)[],
    shape: readonly number[],
    attributes: Record<string, AttrInput> = {},
    opts: { dtype?: DType; domain?: string; name?: string } = {},
  ): Value {
    return this.opMulti(opType, inputs, [shape], attributes, opts)[0];
  }

  /** Appends one node with several outputs. */
  opMulti(
    opType: string,
    inputs: readonly (Value | null)[],
    shapes: readonly (readonly number[])[],
    attributes: Record<string, AttrInput> = {},
    opts: { dtype?: DType | DType[]; domain?: string; name?: string } = {},
  ): Value[] {
    const nodeName = this.fresh(opts.name ?? opType);
    const dtypes = Array.isArray(opts.dtype)
      ? opts.dtype
      : shapes.map(() => (opts.dtype as DType | undefined) ?? inputs.find((i) => i)?.dtype ?? 'float32');
    const outs = shapes.map((s, k) => ({
      name: shapes.length === 1 ? nodeName : `${nodeName}:${k}`,
      dtype: dtypes[k],
      shape: [...s],
    }));
    const attrs: Record<string, Attribute> = {};
    for (const key of Object.keys(attributes).sort()) attrs[key] = toAttribute(attributes[key]);
    this.nodes.push({
      name: nodeName,
      opType,
      domain: opts.domain ?? '',
      inputs: inputs.map((i) => (i ? i.name : '')),
      outputs: outs.map((o) => o.name),
      attributes: attrs,
    });
    return outs;
  }

  build(): Graph {
    return {
      name: this.name,
      inputs: this.inputs.map((i) => ({ ...i, shape: [...i.shape] })),
      outputs: this.outputs.map((o) => ({ ...o, shape: [...o.shape] })),
      initializers: new Map(this.inits),
      nodes: this.nodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs] })),
    };
  }
}
