import { onnx } from './proto.js';
import type { onnx as P } from 'onnx-proto';
import { SncError } from '../errors.js';
import type { Attribute, Graph, Model, Node, ValueInfo } from './graph.js';
import { dtypeFromOnnx, fromBytes, tensor, type Tensor, type TypedArray } from './tensor.js';

const num = (v: number | { toNumber(): number } | null | undefined): number =>
  v == null ? 0 : typeof v === 'number' ? v : v.toNumber();

function readTensor(t: P.ITensorProto): Tensor {
  try {
    return readTensorData(t);
  } catch (e) {
    if (e instanceof SncError) throw e;
    throw new SncError(`tensor '${t.name ?? ''}': ${(e as Error).message}`);
  }
}

function readTensorData(t: P.ITensorProto): Tensor {
  const dtype = dtypeFromOnnx(t.dataType ?? 0);
  const dims = (t.dims ?? []).map(num);
  if (!dims.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new SncError(`tensor '${t.name ?? ''}' has dims [${dims.join(', ')}]; sizes are integers >= 0`);
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL)
    throw new SncError(`initializer '${t.name}' uses external data, which snc does not read; save the model with weights inside the file`);
  let data: TypedArray;
  if (t.rawData && t.rawData.length) data = fromBytes(dtype, t.rawData);
  else if (dtype === 'float32') data = Float32Array.from(t.floatData ?? []);
  else if (dtype === 'float64') data = Float64Array.from(t.doubleData ?? []);
  else if (dtype === 'int64') data = BigInt64Array.from((t.int64Data ?? []).map((v) => BigInt(String(v))));
  else if (dtype === 'int32') data = Int32Array.from(t.int32Data ?? []);
  else if (dtype === 'int8') data = Int8Array.from(t.int32Data ?? []);
  else if (dtype === 'float16') data = Uint16Array.from(t.int32Data ?? []);
  else data = Uint8Array.from(t.int32Data ?? []);
  return tensor(dtype, dims, data);
}

function readValueInfo(v: P.IValueInfoProto): ValueInfo {
  const tt = v.type?.tensorType;
  return {
    name: v.name ?? '',
    dtype: tt?.elemType ? dtypeFromOnnx(tt.elemType) : 'float32',
    shape: (tt?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : num(d.dimValue))),
  };
}

function readAttribute(a: P.IAttributeProto): Attribute | undefined {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.type) {
    case T.INT:
      return { type: 'int', value: num(a.i) };
    case T.FLOAT:
      return { type: 'float', value: a.f ?? 0 };
    case T.STRING:
      return { type: 'string', value: new TextDecoder().decode(a.s ?? new Uint8Array()) };
    case T.INTS:
      return { type: 'ints', value: (a.ints ?? []).map(num) };
    case T.FLOATS:
      return { type: 'floats', value: [...(a.floats ?? [])] };
    case T.TENSOR:
      return a.t ? { type: 'tensor', value: readTensor(a.t) } : undefined;
    default:
      return undefined; // sub-graphs and sparse tensors are kept out of snc's IR
  }
}

export function readGraph(g: P.IGraphProto): Graph {
  const initializers = new Map<string, Tensor>();
  for (const t of g.initializer ?? []) initializers.set(t.name ?? '', readTensor(t));
  const nodes: Node[] = (g.node ?? []).map((n, k) => {
    const attributes: Record<string, Attribute> = {};
    for (const a of n.attribute ?? []) {
      const v = readAttribute(a);
      if (v) attributes[a.name ?? ''] = v;
    }
    return {
      name: n.name || `${n.opType}_${k}`,
      opType: n.opType ?? '',
      domain: n.domain ?? '',
      inputs: [...(n.input ?? [])],
      outputs: [...(n.output ?? [])],
      attributes,
    };
  });
  return {
    name: g.name ?? '',
    inputs: (g.input ?? []).map(readValueInfo).filter((v) => !initializers.has(v.name)),
    outputs: (g.output ?? []).map(readValueInfo),
    initializers,
    nodes,
  };
}

/** Parses ONNX bytes into snc's graph form. A file that is not ONNX gives an SncError. */
export function decodeModel(bytes: Uint8Array, source = 'model'): Model {
  let proto: P.ModelProto;
  try {
    proto = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new SncError(`${source} is not a valid ONNX file: ${(e as Error).message}`);
  }
  if (!proto.graph) throw new SncError(`${source} is not a valid ONNX file: it has no graph`);
  try {
    return modelOf(proto, proto.graph);
  } catch (e) {
    // whatever a damaged file trips on is the file's fault: one line naming it
    throw new SncError(e instanceof SncError ? `${source}: ${e.message}` : `${source} is not a valid ONNX file: ${(e as Error).message}`);
  }
}

function modelOf(proto: P.ModelProto, graph: P.IGraphProto): Model {
  let opset = 0;
  const extraOpsets: Record<string, number> = {};
  for (const o of proto.opsetImport ?? []) {
    if (!o.domain || o.domain === 'ai.onnx') opset = num(o.version);
    else extraOpsets[o.domain] = num(o.version);
  }
  const metadata: Record<string, string> = {};
  for (const p of proto.metadataProps ?? []) metadata[p.key ?? ''] = p.value ?? '';
  return {
    graph: readGraph(graph),
    opset,
    extraOpsets,
    producerName: proto.producerName ?? '',
    producerVersion: proto.producerVersion ?? '',
    metadata,
  };
}
