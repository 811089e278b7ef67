import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import type { Graph, Model } from '../../src/onnx/graph.js';
import { decodeModel } from '../../src/onnx/reader.js';
import { f32 } from '../../src/onnx/tensor.js';
import { encodeModel } from '../../src/onnx/writer.js';
import { nupesQuantize } from '../../src/quant/nupes.js';
import { nupesNames, replaceWithNupes } from '../../src/quant/nupes-graph.js';
import { laplace } from './samples.js';

const K = 48;
const N = 20;

function matmulModel(outputWeight: boolean): Model {
  const graph: Graph = {
    name: 'g',
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, K] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, N] }, ...(outputWeight ? [{ name: 'w', dtype: 'float32' as const, shape: [K, N] }] : [])],
    initializers: new Map([['w', f32([K, N], laplace(K * N, 0.02, 5))]]),
    nodes: [{ name: 'mm', opType: 'MatMul', domain: '', inputs: ['x', 'w'], outputs: ['y'], attributes: {} }],
  };
  return { graph, opset: 17, metadata: {} };
}

/** Independent decoding of the raw initializers: LSB-first bit stream, w = sign(q)|q s|^(1/a). */
function decodeRaw(g: Graph, bits: number): Float64Array {
  const names = nupesNames('w');
  const bytes = g.initializers.get(names.codes)!.data as Uint8Array;
  const s = g.initializers.get(names.scales)!.data as Float32Array;
  const exps = g.initializers.get(names.exponent)!.data as Float32Array; // one, or one per output channel
  const qmax = 2 ** (bits - 1) - 1;
  const out = new Float64Array(K * N);
  for (let i = 0; i < K * N; i++) {
    // code i occupies bits [i*bits, (i+1)*bits) of the little-endian stream (groups are whole bytes)
    let code = 0;
    for (let b = 0; b < bits; b++) {
      const bit = i * bits + b;
      code |= ((bytes[bit >> 3] >> (bit & 7)) & 1) << b;
    }
    const q = code - qmax;
    const a = exps.length === 1 ? exps[0] : exps[i % N];
    out[i] = Math.sign(q) * (Math.abs(q) * s[i % N]) ** (1 / a);
  }
  return out;
}

for (const [bits, perChannelExponent] of [[8, false], [4, false], [3, false], [4, true]] as const) {
  test(`${bits}-bit NUPES${perChannelExponent ? ' (an exponent per channel)' : ''}: the stored codes, scales and exponents decode to the weights onnxruntime computes, and the decode folds at load`, async (t) => {
    const base = matmulModel(true);
    const w = nupesQuantize(base.graph.initializers.get('w')!, { bits, axis: 1, perChannelExponent });
    t.is(w.exponents?.length, perChannelExponent ? N : undefined);
    const model: Model = { ...base, graph: replaceWithNupes(base.graph, 'w', w) };
    const bytes = encodeModel(model);
    const stored = decodeModel(bytes).graph;
    t.is(stored.initializers.get(nupesNames('w').codes)!.data.length, Math.ceil((K * N * bits) / 8));
    const expected = decodeRaw(stored, bits);
    const dir = mkdtempSync(join(tmpdir(), 'snc-nupes-'));
    try {
      const opt = join(dir, 'optimized.onnx');
      const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
      const x = new Float32Array(K).fill(1);
      const out = await s.run({ x: new ort.Tensor('float32', x, [1, K]) });
      await s.release();
      const got = out.w.data as Float32Array;
      let maxRel = 0;
      for (let i = 0; i < got.length; i++) maxRel = Math.max(maxRel, Math.abs(got[i] - expected[i]) / (Math.abs(expected[i]) + 1e-12));
      t.true(maxRel < 1e-5, `max relative difference ${maxRel}`);
      // the weight as a model uses it (not a graph output): onnxruntime folds the decode
      const plain = matmulModel(false);
      const shipped = encodeModel({ ...plain, graph: replaceWithNupes(plain.graph, 'w', w) });
      const s2 = await ort.InferenceSession.create(shipped, { graphOptimizationLevel: 'all', optimizedModelFilePath: opt, intraOpNumThreads: 1 });
      await s2.release();
      // onnxruntime folded the decode: the optimized graph computes y with a float weight constant, no decode op left
      const optimized = decodeModel(readFileSync(opt)).graph;
      const ops = optimized.nodes.map((n) => n.opType);
      for (const op of ['Gather', 'Mod', 'Div', 'Pow', 'Cast']) t.false(ops.includes(op), `${op} left in ${ops.join(', ')}`);
      t.true([...optimized.initializers.values()].some((v) => v.dtype === 'float32' && v.data.length === K * N));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
