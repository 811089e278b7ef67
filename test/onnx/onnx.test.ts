import test from 'ava';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { prune } from '../../src/onnx/graph.js';
import { decodeModel } from '../../src/onnx/reader.js';
import { encodeModel } from '../../src/onnx/writer.js';
import * as op from '../../src/onnx/ops.js';
import { f32 } from '../../src/onnx/tensor.js';
import { SncError } from '../../src/errors.js';
import { runOnnx } from '../helpers/ort.js';

function tinyModel() {
  const g = new GraphBuilder('tiny');
  const x = g.input('x', 'float32', [1, 2, 3]);
  const y = op.linear(g, x, f32([4, 3], [1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1]), f32([4], [0, 0, 0, 0.5]), 'fc');
  const z = g.scope('act', () => op.relu(g, y));
  g.output(z, 'out');
  g.output(y, 'pre');
  return { graph: g.build(), opset: 17, metadata: { b: '2', a: '1' } };
}

test('builder output runs in onnxruntime with the values it means', async (t) => {
  const m = tinyModel();
  const out = await runOnnx(encodeModel(m), { x: { dims: [1, 2, 3], data: Float32Array.from([1, -2, 3, -1, -1, -1]) } });
  t.deepEqual(out.out.dims, [1, 2, 4]);
  t.deepEqual(Array.from(out.out.data), [1, 0, 3, 2.5, 0, 0, 0, 0]);
  t.deepEqual(Array.from(out.pre.data).slice(4), [-1, -1, -1, -2.5]);
});

test('reader and writer round-trip: decode(encode(m)) encodes to the same bytes', (t) => {
  const bytes = encodeModel(tinyModel());
  const back = decodeModel(bytes);
  t.is(back.opset, 17);
  t.deepEqual(back.metadata, { a: '1', b: '2' });
  t.deepEqual(back.graph.nodes.map((n) => n.opType), ['MatMul', 'Add', 'Relu', 'Identity', 'Identity']);
  t.deepEqual(encodeModel(back), bytes);
});

test('encoding is deterministic', (t) => {
  t.deepEqual(encodeModel(tinyModel()), encodeModel(tinyModel()));
});

test('node names come from scopes and are unique', (t) => {
  const names = tinyModel().graph.nodes.map((n) => n.name);
  t.true(names.includes('act/Relu'));
  t.is(new Set(names).size, names.length);
});

test('prune drops what no output needs; rewritten graphs still run', async (t) => {
  const m = tinyModel();
  m.graph.outputs = m.graph.outputs.filter((o) => o.name === 'pre');
  const p = prune(m.graph);
  t.deepEqual(p.nodes.map((n) => n.opType), ['MatMul', 'Add', 'Identity']);
  const out = await runOnnx(encodeModel({ ...m, graph: p }), { x: { dims: [1, 2, 3], data: new Float32Array(6) } });
  t.deepEqual(Object.keys(out), ['pre']);
});

test('decoding garbage is an SncError naming the source', (t) => {
  const e = t.throws(() => decodeModel(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f]), 'junk.onnx'), { instanceOf: SncError });
  t.regex(e!.message, /^junk\.onnx is not a valid ONNX file/);
});
