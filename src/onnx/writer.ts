import { onnx } from './proto.js';
import type { onnx as P } from 'onnx-proto';
import type { Attribute, Graph, Model, ValueInfo } from './graph.js';
import { ONNX_DTYPE, toBytes, type Tensor } from './tensor.js';

/** ONNX IR version 8 (onnx 1.10+), the one opsets 13-17 ship with. */
export const IR_VERSION = 8;

function tensorProto(name: string, t: Tensor): P.ITensorProto {
  return { name, dims: [...t.dims], dataType: ONNX_DTYPE[t.dtype], rawData: toBytes(t) };
}

function valueInfo(v: ValueInfo): P.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: ONNX_DTYPE[v.dtype],
        shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attributeProto(name: string, a: Attribute): P.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.type) {
    case 'int':
      return { name, type: T.INT, i: a.value };
    case 'float':
      return { name, type: T.FLOAT, f: a.value };
    case 'string':
      return { name, type: T.STRING, s: new TextEncoder().encode(a.value) };
    case 'ints':
      return { name, type: T.INTS, ints: [...a.value] };
    case 'floats':
      return { name, type: T.FLOATS, floats: [...a.value] };
    case 'tensor':
      return { name, type: T.TENSOR, t: tensorProto('', a.value) };
  }
}

export function graphProto(g: Graph): P.IGraphProto {
  return {
    name: g.name,
    input: g.inputs.map(valueInfo),
    output: g.outputs.map(valueInfo),
    initializer: [...g.initializers].map(([name, t]) => tensorProto(name, t)),
    node: g.nodes.map((n) => ({
      name: n.name,
      opType: n.opType,
      domain: n.domain || undefined,
      input: n.inputs,
      output: n.outputs,
      attribute: Object.keys(n.attributes).map((k) => attributeProto(k, n.attributes[k])),
    })),
  };
}

/** Serialises a model to ONNX bytes. Same model in, same bytes out. */
export function encodeModel(m: Model): Uint8Array {
  const opsets: P.IOperatorSetIdProto[] = [{ domain: '', version: m.opset }];
  for (const d of Object.keys(m.extraOpsets ?? {}).sort()) opsets.push({ domain: d, version: m.extraOpsets![d] });
  const proto: P.IModelProto = {
    irVersion: IR_VERSION,
    opsetImport: opsets,
    producerName: m.producerName ?? 'snc',
    producerVersion: m.producerVersion ?? '',
    graph: graphProto(m.graph),
    metadataProps: Object.keys(m.metadata)
      .sort()
      .map((key) => ({ key, value: m.metadata[key] })),
  };
  return onnx.ModelProto.encode(onnx.ModelProto.fromObject(proto)).finish();
}
