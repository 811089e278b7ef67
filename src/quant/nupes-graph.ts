/**
 * A NUPES weight in the ONNX file holds exactly the method's parameters: its k-bit codes packed
 * into a uint8 initializer (offset codes q + qmax), the per-channel scales s and the exponent a.
 * A subgraph of plain opset-17 ops decodes w = sign(q)|q|^(1/a) · s^(1/a); every input of it is
 * a constant, so onnxruntime folds it when the session loads (the weight then costs at run time
 * what a float weight costs; the file holds k bits per weight):
 *
 *   packed uint8 [G, B] -> Cast int64 -> (B > 1: Mul [256^b] -> ReduceSum) -> Div [2^(k j)]
 *   -> Mod 2^k -> Reshape [-1] -> (Slice [0, n)) -> Gather(table) -> Reshape dims -> Mul factors
 *   table = Sign(levels) · Pow(Abs(levels), 1/a), factors = Pow(s, 1/a)
 *
 * 8-bit codes skip the unpacking (Cast -> Gather). The codes go through Gather from a table,
 * not DequantizeLinear -> Pow: onnxruntime keeps DequantizeLinear unfolded.
 */
import type { Graph, Node } from '../onnx/graph.js';
import { tensor, type Tensor } from '../onnx/tensor.js';
import { qmaxOf, type NupesWeight } from './nupes.js';
import { packCodes, packLayout } from './pack.js';

/** Initializer names of NUPES weight `name`. */
export function nupesNames(name: string) {
  const meta = `${name}/nupes`;
  return { meta, codes: `${meta}.codes`, scales: `${meta}.scales`, exponent: `${meta}.exponent` };
}

/**
 * Replaces initializer `name` by its NUPES coding; the decode subgraph computes a value of the
 * same name, so the weight's consumers are unchanged. Returns a new graph. With `keep` the float
 * initializer stays and the decoded weight is the value `value` (a shadow copy, for SQNR).
 */
export function replaceWithNupes(graph: Graph, name: string, w: NupesWeight, opts: { keep?: boolean; value?: string } = {}): Graph {
  const inits = new Map(graph.initializers);
  if (!inits.has(name)) throw new Error(`no initializer ${name}`);
  if (!opts.keep) inits.delete(name);
  const names = nupesNames(opts.value ?? name);
  const n = w.codes.length;
  const { codesPerGroup, bytesPerGroup } = packLayout(w.bits);
  const packed = packCodes(w.codes, w.bits);
  const groups = packed.length / bytesPerGroup;
  const qmax = qmaxOf(w.bits);
  inits.set(names.codes, tensor('uint8', [groups, bytesPerGroup], packed));
  inits.set(names.scales, tensor('float32', w.axis === undefined ? [] : w.dims.map((d, i) => (i === w.axis ? d : 1)), w.scales));
  const perChannel = w.exponents !== undefined && w.axis !== undefined;
  const scaleDims = w.axis === undefined ? [] : w.dims.map((d, i) => (i === w.axis ? d : 1));
  inits.set(names.exponent, perChannel ? tensor('float32', [w.exponents!.length], w.exponents!) : tensor('float32', [], [w.exponent]));
  // constants that depend only on the code width are shared by every weight of that width
  const shared = (suffix: string, t: () => Tensor) => {
    const k = `nupes${w.bits}.${suffix}`;
    if (!inits.has(k)) inits.set(k, t());
    return k;
  };
  const levels = shared('levels', () => tensor('float32', [2 ** w.bits], Array.from({ length: 2 ** w.bits }, (_, c) => Math.max(-qmax, Math.min(qmax, c - qmax)))));
  // node and intermediate names: short (a model has one decode per weight), numbered per graph
  let id = 0;
  while (graph.nodes.some((x) => x.name === `nupes${id}/Mul`) || inits.has(`nupes${id}.dims`)) id++;
  const nodes: Node[] = [];
  const c = (suffix: string, t: Tensor) => {
    const k = `nupes${id}.${suffix}`;
    inits.set(k, t);
    return k;
  };
  const node = (op: string, inputs: string[], out: string, attributes: Node['attributes'] = {}) => {
    const o = `nupes${id}/${out}`;
    nodes.push({ name: o, opType: op, domain: '', inputs, outputs: [o], attributes });
    return o;
  };
  const i64 = (dims: number[], v: number[]) => tensor('int64', dims, v);
  let inv = node('Div', [shared('one', () => tensor('float32', [], [1])), names.exponent], 'inv_exponent');
  // per-channel exponents: one table row per channel, [C, 2^k] flattened; codes index their channel's row
  const invCol = perChannel ? node('Reshape', [inv, c('col', i64([2], [w.exponents!.length, 1]))], 'inv_col') : inv;
  let table = node('Mul', [node('Sign', [levels], 'sign'), node('Pow', [node('Abs', [levels], 'abs'), invCol], 'pow')], 'table');
  if (perChannel) {
    table = node('Reshape', [table, shared('flat', () => i64([1], [-1]))], 'table_flat');
    inv = node('Reshape', [inv, c('scale_dims', i64([scaleDims.length], scaleDims))], 'inv_b');
  }
  const factors = node('Pow', [names.scales, inv], 'factors');
  let v = node('Cast', [names.codes], 'cast', { to: { type: 'int', value: 7 } });
  if (w.bits !== 8) {
    if (bytesPerGroup > 1) {
      v = node('Mul', [v, shared('byte_weights', () => i64([bytesPerGroup], Array.from({ length: bytesPerGroup }, (_, b) => 256 ** b)))], 'bytes');
      v = node('ReduceSum', [v, shared('axis1', () => i64([1], [1]))], 'group', { keepdims: { type: 'int', value: 1 } });
    }
    v = node('Div', [v, shared('shifts', () => i64([codesPerGroup], Array.from({ length: codesPerGroup }, (_, j) => 2 ** (w.bits * j))))], 'shift');
    v = node('Mod', [v, shared('modulus', () => i64([], [2 ** w.bits]))], 'unpacked');
  }
  v = node('Reshape', [v, shared('flat', () => i64([1], [-1]))], 'flat');
  if (groups * codesPerGroup !== n) v = node('Slice', [v, shared('start', () => i64([1], [0])), c('end', i64([1], [n])), shared('axis0', () => i64([1], [0]))], 'trim');
  if (perChannel) {
    v = node('Reshape', [v, c('dims', i64([w.dims.length], w.dims))], 'shaped_codes');
    const L = 2 ** w.bits;
    v = node('Add', [v, c('rows', i64(scaleDims, Array.from({ length: w.exponents!.length }, (_, k) => k * L)))], 'rows');
    v = node('Gather', [table, v], 'shaped', { axis: { type: 'int', value: 0 } });
  } else {
    v = node('Gather', [table, v], 'decoded', { axis: { type: 'int', value: 0 } });
    v = node('Reshape', [v, c('dims', i64([w.dims.length], w.dims))], 'shaped');
  }
  nodes.push({ name: `nupes${id}/Mul`, opType: 'Mul', domain: '', inputs: [v, factors], outputs: [opts.value ?? name], attributes: {} });
  return { ...graph, initializers: inits, nodes: [...nodes, ...graph.nodes] };
}
