import test from 'ava';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SncError } from '../../src/errors.js';
import { parseSafetensors, serializeSafetensors, writeSafetensors, MAX_HEADER_BYTES } from '../../src/onnx/safetensors.js';
import { f32, i64, tensor } from '../../src/onnx/tensor.js';

function withHeader(header: unknown, dataBytes: number): Uint8Array {
  const json = Buffer.from(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

test('round trip keeps names, dtypes, shapes, values and metadata', (t) => {
  const a = f32([2, 3], [1, 2, 3, 4, 5, 6]);
  const b = tensor('int64', [2], [7, -8]);
  const bytes = serializeSafetensors({ 'x.weight': a, 'y.idx': b }, { k: 'v' });
  const back = parseSafetensors(bytes);
  t.deepEqual(back.metadata, { k: 'v' });
  t.deepEqual([...back.tensors.keys()].sort(), ['x.weight', 'y.idx']);
  t.deepEqual(Array.from(back.tensors.get('x.weight')!.data as Float32Array), [1, 2, 3, 4, 5, 6]);
  t.deepEqual(back.tensors.get('x.weight')!.dims, [2, 3]);
  t.deepEqual(Array.from(back.tensors.get('y.idx')!.data as BigInt64Array), [7n, -8n]);
  t.is((8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))) % 8, 0, 'data section is 8-byte aligned');
});

test('serialisation is deterministic whatever the insertion order', (t) => {
  const a = f32([1], [1]);
  const b = f32([1], [2]);
  t.deepEqual(serializeSafetensors({ a, b }), serializeSafetensors({ b, a }));
});

const bad: [string, () => Uint8Array, RegExp][] = [
  ['too short', () => new Uint8Array(4), /shorter than the 8-byte header length/],
  ['header past end', () => {
    const b = new Uint8Array(16);
    new DataView(b.buffer).setBigUint64(0, 1000n, true);
    return b;
  }, /runs past the end/],
  ['huge header length', () => {
    const b = new Uint8Array(16);
    new DataView(b.buffer).setBigUint64(0, BigInt(MAX_HEADER_BYTES) + 1n, true);
    return b;
  }, /exceeds/],
  ['not json', () => {
    const b = new Uint8Array(8 + 3);
    new DataView(b.buffer).setBigUint64(0, 3n, true);
    b.set([123, 123, 123], 8);
    return b;
  }, /not valid UTF-8 JSON/],
  ['bad dtype', () => withHeader({ a: { dtype: 'Q9', shape: [1], data_offsets: [0, 4] } }, 4), /dtype "Q9"/],
  ['offsets out of bounds', () => withHeader({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, 4), /out of the 4-byte data section/],
  ['length mismatch', () => withHeader({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8), /holds 8 bytes but float32 x \[3\] needs 12/],
  ['overlap', () => withHeader({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 12), /overlap/],
  ['negative shape', () => withHeader({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4), /invalid shape/],
];
for (const [name, make, re] of bad)
  test(`a bad file is a clear SncError: ${name}`, (t) => {
    const e = t.throws(() => parseSafetensors(make(), 'w.safetensors'), { instanceOf: SncError });
    t.regex(e!.message, /^w\.safetensors: /);
    t.regex(e!.message, re);
  });

test('writeSafetensors streams the same bytes serializeSafetensors assembles, and leaves no temporary file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'snc-st-'));
  const tensors = { b: f32([2, 3], [1, 2, 3, 4, 5, 6]), a: i64([2], [7, -8]) };
  writeSafetensors(join(dir, 'w.safetensors'), tensors, { k: 'v' });
  t.deepEqual(new Uint8Array(readFileSync(join(dir, 'w.safetensors'))), serializeSafetensors(tensors, { k: 'v' }));
  t.deepEqual(readdirSync(dir), ['w.safetensors']);
});
