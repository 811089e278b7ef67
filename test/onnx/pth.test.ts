import test from 'ava';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SncError } from '../../src/errors.js';
import { parsePth, readPth } from '../../src/onnx/pth.js';
import { readSafetensors } from '../../src/onnx/safetensors.js';
import { ZipArchive } from '../../src/onnx/zip.js';
import { P, pickle } from '../helpers/pickle.js';
import { RFDETR_TINY, RFDETR_TINY_ARGS } from '../helpers/rfdetr-tiny.js';
import { writeZip } from '../helpers/zip.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const views = join(root, 'test/fixtures/pth/views.pth');
const tiny = RFDETR_TINY;
const tinyPth = join(tiny, 'rf-detr-tiny-random.pth');

function refused(t: import('ava').ExecutionContext, f: () => unknown, re: RegExp): void {
  const e = t.throws(f);
  t.true(e instanceof SncError, `${e?.name}: ${e?.message}`);
  t.regex(e!.message, re);
  t.false(e!.message.includes('\n'));
}

/** The fixture's records, to rebuild the archive with changes. */
function records(path: string): [string, Uint8Array][] {
  const zip = ZipArchive.open(readFileSync(path), path);
  return [...zip.entries.keys()].map((k) => [k, zip.read(k)]);
}

test('the RF-DETR fixture reads tensor for tensor, bit for bit, as its safetensors copy', (t) => {
  const ckpt = readPth(tinyPth);
  const st = readSafetensors(join(tiny, 'rf-detr-tiny-random.safetensors')).tensors;
  t.deepEqual([...ckpt.model.keys()].sort(), [...st.keys()].sort());
  for (const [name, want] of st) {
    const got = ckpt.model.get(name)!;
    t.is(got.dtype, 'float32', name);
    t.deepEqual(got.dims, want.dims, name);
    t.true(Buffer.from(got.data.buffer, got.data.byteOffset, got.data.byteLength).equals(Buffer.from(want.data.buffer, want.data.byteOffset, want.data.byteLength)), name);
  }
  // keys.txt lists the same names in the state dict's order, with the same shapes
  const listed = readFileSync(join(tiny, 'keys.txt'), 'utf8').trim().split('\n').map((l) => l.split('\t'));
  t.deepEqual([...ckpt.model.keys()], listed.map(([n]) => n));
  for (const [n, shape] of listed) t.is(`[${ckpt.model.get(n)!.dims.join(', ')}]`, shape, n);
  t.deepEqual(ckpt.keys, ['model', 'args']);
  t.is(ckpt.ema, undefined);
});

test("the fixture's args read as a plain object", (t) => {
  const { args } = readPth(tinyPth);
  t.truthy(args);
  // the README's args (as the import test reads them), plus two training-only ones
  t.like(args!, { ...RFDETR_TINY_ARGS, pretrained_encoder: null, drop_path: 0 });
});

test('float32 tensors are views, not copies: of the bytes in memory, or of each storage read from the file', (t) => {
  const bytes = readFileSync(tinyPth);
  const inMemory = parsePth(bytes, tinyPth).model;
  t.true([...inMemory.values()].every((x) => x.data.buffer === bytes.buffer && x.data.byteOffset % 4 === 0));
  // from the file: one buffer per storage, exactly the storage's size (read once, into place)
  const fromFile = readPth(tinyPth).model;
  t.true([...fromFile.values()].every((x) => x.data.byteOffset === 0 && x.data.buffer.byteLength === x.data.byteLength));
  t.is(new Set([...fromFile.values()].map((x) => x.data.buffer)).size, fromFile.size);
});

test('only the storages of the state dicts asked for are read', (t) => {
  // corrupt every storage of model: reading ema_model alone never touches them, reading model fails
  const entries = (() => {
    const zip = ZipArchive.open(readFileSync(join(root, 'test/fixtures/pth/train-layout.pth')), 'x');
    return [...zip.entries.keys()].map((k): [string, Uint8Array] => [k, zip.read(k)]);
  })();
  const whole = readPth(join(root, 'test/fixtures/pth/train-layout.pth'));
  const emaBytes = new Set([...whole.ema!.values()].map((x) => Buffer.from(x.data.buffer, x.data.byteOffset, x.data.byteLength).toString('hex')));
  const bytes = Buffer.from(writeZip(entries));
  const zip = ZipArchive.open(bytes, 'x');
  for (const [k] of entries) {
    if (!/\/data\/\d+$/.test(k)) continue;
    const data = zip.read(k);
    if (emaBytes.has(Buffer.from(data).toString('hex'))) continue;
    const e = zip.entries.get(k)!;
    bytes[e.headerOffset + 30 + bytes.readUInt16LE(e.headerOffset + 26) + bytes.readUInt16LE(e.headerOffset + 28)] ^= 1; // CRC no longer matches
  }
  t.is(parsePth(bytes, 'c.pth', { parts: ['ema'] }).ema!.size, 4);
  refused(t, () => parsePth(bytes, 'c.pth', { parts: ['model'] }), /^c\.pth: entry 'train-layout\/data\/\d+' fails its CRC-32 check/);
});

test('strided, offset, shared, expanded, float16/bfloat16/float64, integer and bool tensors read as torch holds them (train/make_pth_fixtures.py)', (t) => {
  const ckpt = readPth(views);
  const want = JSON.parse(readFileSync(join(root, 'test/fixtures/pth/views.json'), 'utf8')) as Record<string, { dims: number[]; values: number[] }>;
  t.deepEqual([...ckpt.model.keys()], Object.keys(want));
  const dtype: Record<string, string> = { int64: 'int64', int32: 'int32', bool: 'bool' };
  for (const [name, w] of Object.entries(want)) {
    const got = ckpt.model.get(name)!;
    t.is(got.dtype as string, dtype[name] ?? 'float32', name);
    t.deepEqual(got.dims, w.dims, name);
    t.deepEqual(Array.from(got.data as ArrayLike<number | bigint>, (x) => Number(x)), w.values, name);
  }
  t.deepEqual(ckpt.args, { resolution: 128, class_names: ['cat', 'dog'], lr: 1e-4, flag: true, nothing: null, scales: ['P4'], nested: { a: [1, 2] }, big: (2n ** 70n).toString() });
  t.deepEqual(ckpt.keys, ['model', 'args', 'epoch']);
});

/** A one-tensor checkpoint built by hand: {'model': {'w': tensor(storage '0', offset, size, stride)}}. */
function handBuilt(opts: { size: number[]; stride: number[]; offset?: number; storageBytes?: number; storageType?: string; drop?: string; extra?: [string, Uint8Array][]; pkl?: Uint8Array; align?: number }): Uint8Array {
  const tup = (xs: number[]) => Buffer.concat([P.mark, ...xs.map(P.int), P.tuple]);
  const pkl =
    opts.pkl ??
    pickle(
      P.proto(2), P.emptyDict, P.str('model'), P.emptyDict, P.str('w'),
      P.global('torch._utils', '_rebuild_tensor_v2'),
      P.mark,
      P.mark, P.str('storage'), P.global('torch', opts.storageType ?? 'FloatStorage'), P.str('0'), P.str('cpu'), P.int(4), P.tuple, P.binpersid,
      P.int(opts.offset ?? 0), tup(opts.size), tup(opts.stride), P.newfalse,
      P.global('collections', 'OrderedDict'), P.emptyTuple, P.reduce,
      P.tuple, P.reduce,
      P.setitem, P.setitem, P.stop,
    );
  const data = new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer).subarray(0, opts.storageBytes ?? 16);
  const entries: [string, Uint8Array][] = [['ckpt/data.pkl', pkl], ['ckpt/data/0', data], ['ckpt/version', Buffer.from('3\n')], ...(opts.extra ?? [])];
  return writeZip(entries.filter(([k]) => k !== opts.drop), { align: opts.align ?? 64 });
}

test('a hand-built checkpoint reads; the tensor is a view when aligned and a copy when strided', (t) => {
  t.deepEqual(Array.from(parsePth(handBuilt({ size: [2, 2], stride: [2, 1] }), 'h.pth').model.get('w')!.data as Float32Array), [1, 2, 3, 4]);
  t.deepEqual(Array.from(parsePth(handBuilt({ size: [2, 2], stride: [1, 2] }), 'h.pth').model.get('w')!.data as Float32Array), [1, 3, 2, 4]);
  t.deepEqual(Array.from(parsePth(handBuilt({ size: [2], stride: [1], offset: 2 }), 'h.pth').model.get('w')!.data as Float32Array), [3, 4]);
  // storages at odd offsets are copied into aligned memory, with the same values
  const odd = parsePth(handBuilt({ size: [2, 2], stride: [2, 1], align: 1 }), 'h.pth').model.get('w')!;
  t.deepEqual(Array.from(odd.data as Float32Array), [1, 2, 3, 4]);
});

test('bad tensors and storages are named', (t) => {
  refused(t, () => parsePth(handBuilt({ size: [10], stride: [1] }), 'h.pth'), /^h\.pth \(ckpt\/data\.pkl\): tensor \[10\] with stride \[1\] at offset 0 reaches element 9 of a 4-element storage '0' \(pickle opcode REDUCE at byte \d+\)$/);
  refused(t, () => parsePth(handBuilt({ size: [2, 2], stride: [2] }), 'h.pth'), /tensor stride \[2\] does not match size \[2,2\]/);
  refused(t, () => parsePth(handBuilt({ size: [4], stride: [1], drop: 'ckpt/data/0' }), 'h.pth'), /storage '0' is missing from the archive \(no entry 'ckpt\/data\/0'\)/);
  refused(t, () => parsePth(handBuilt({ size: [4], stride: [1], storageBytes: 12 }), 'h.pth'), /storage '0' holds 12 bytes, but 4 x FloatStorage needs 16/);
  refused(t, () => parsePth(handBuilt({ size: [4], stride: [1], storageType: 'ComplexFloatStorage' }), 'h.pth'), /pickle global 'torch\.ComplexFloatStorage' is not allowed; allowed: torch\._utils\._rebuild_tensor_v2, .*torch\.\{Float,Double,Half,BFloat16,Long,Int,Short,Char,Byte,Bool\}Storage/);
  refused(t, () => parsePth(handBuilt({ size: [4], stride: [1], extra: [['ckpt/byteorder', Buffer.from('big')]] }), 'h.pth'), /^h\.pth: byteorder 'big' is not supported; supported: little$/);
});

test('a checkpoint whose pickle names os.system is refused by name, before anything runs', (t) => {
  const evil = pickle(P.proto(2), P.global('os', 'system'), P.str('touch /tmp/snc-pwned'), P.tuple1, P.reduce, P.stop);
  refused(t, () => parsePth(handBuilt({ size: [4], stride: [1], pkl: evil }), 'evil.pth'), /^evil\.pth \(ckpt\/data\.pkl\): pickle global 'os\.system' is not allowed; allowed: torch\._utils\._rebuild_tensor_v2, /);
  const posix = pickle(P.proto(2), P.global('posix', 'system'), P.str('id'), P.tuple1, P.reduce, P.stop);
  refused(t, () => parsePth(handBuilt({ size: [4], stride: [1], pkl: posix }), 'evil.pth'), /pickle global 'posix\.system' is not allowed/);
  // a callable smuggled in as a storage type is refused too
  refused(t, () => parsePth(handBuilt({ size: [4], stride: [1], storageType: 'load' }), 'h.pth'), /pickle global 'torch\.load' is not allowed/);
});

test('a checkpoint without a model state dict, or with non-tensors in it, is named', (t) => {
  const noModel = pickle(P.proto(2), P.emptyDict, P.str('epoch'), P.int(3), P.setitem, P.stop);
  refused(t, () => parsePth(handBuilt({ size: [4], stride: [1], pkl: noModel }), 'h.pth'), /^h\.pth: checkpoint has no 'model' state dict; its keys are epoch$/);
  const notTensor = pickle(P.proto(2), P.emptyDict, P.str('model'), P.emptyDict, P.str('w'), P.int(1), P.setitem, P.setitem, P.stop);
  refused(t, () => parsePth(handBuilt({ size: [4], stride: [1], pkl: notTensor }), 'h.pth'), /^h\.pth: 'model'\['w'\] is a int, not a tensor$/);
  const list = pickle(P.proto(2), P.emptyList, P.stop);
  refused(t, () => parsePth(handBuilt({ size: [4], stride: [1], pkl: list }), 'h.pth'), /checkpoint holds a list; expected a dict with 'model'/);
});

test('a zip without data.pkl, a truncated zip, a corrupt storage and a file that is no zip are one line each', (t) => {
  const entries = records(tinyPth);
  refused(t, () => parsePth(writeZip(entries.filter(([k]) => !k.endsWith('data.pkl'))), 'x.pth'), /^x\.pth: zip archive has no data\.pkl, so it is not a torch\.save checkpoint \(entries: rf-detr-tiny-random\/data\/0, /);
  const whole = readFileSync(tinyPth);
  for (const keep of [0, 10, 1000, whole.length / 2, whole.length - 100, whole.length - 1])
    refused(t, () => parsePth(whole.subarray(0, Math.floor(keep)), 'cut.pth'), /^cut\.pth: .*(truncated|too short|not a zip)/);
  const corrupt = Buffer.from(whole);
  const zip = ZipArchive.open(whole, 'x');
  const e = zip.entries.get('rf-detr-tiny-random/data/5')!;
  const dataStart = e.headerOffset + 30 + whole.readUInt16LE(e.headerOffset + 26) + whole.readUInt16LE(e.headerOffset + 28);
  corrupt[dataStart + Math.floor(e.size / 2)] ^= 0x40;
  refused(t, () => parsePth(corrupt, 'bad.pth'), /^bad\.pth: entry 'rf-detr-tiny-random\/data\/5' fails its CRC-32 check \(corrupt archive\)/);
  refused(t, () => parsePth(readFileSync(join(root, 'test/fixtures/pth/plain-p2.pkl')), 'old.pth'), /^old\.pth: not a zip archive \(torch\.save writes a zip since PyTorch 1\.6; older formats are not supported\)$/);
});

test('mutated checkpoints read or fail with one SncError line, never anything else (fast-check, fixed seed)', (t) => {
  const base = readFileSync(views);
  const mutation = fc.record({ at: fc.nat({ max: base.length - 1 }), byte: fc.integer({ min: 0, max: 255 }) });
  fc.assert(
    fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.nat({ max: base.length }), (muts, cut) => {
      const b = Buffer.from(base.subarray(0, Math.max(cut, base.length - 64)));
      for (const m of muts) b[m.at % b.length] = m.byte;
      try {
        parsePth(b, 'm.pth');
      } catch (e) {
        if (!(e instanceof SncError) || e.message.includes('\n')) throw e;
      }
    }),
    { seed: 15, numRuns: 1500 },
  );
  // the pickle alone, rewrapped so the CRC check does not stop the mutation early
  const entries = records(views);
  const pkl = entries.find(([k]) => k.endsWith('data.pkl'))![1];
  fc.assert(
    fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (muts) => {
      const p = Buffer.from(pkl);
      for (const m of muts) p[m.at % p.length] = m.byte;
      try {
        parsePth(writeZip(entries.map(([k, v]) => [k, k.endsWith('data.pkl') ? p : v])), 'm.pth');
      } catch (e) {
        if (!(e instanceof SncError) || e.message.includes('\n')) throw e;
      }
    }),
    { seed: 16, numRuns: 1500 },
  );
  t.pass();
});

test("a training checkpoint's ema_model reads beside model; optimizer and scheduler state do not stop it (train/make_pth_fixtures.py)", (t) => {
  const ckpt = readPth(join(root, 'test/fixtures/pth/train-layout.pth'));
  t.deepEqual(ckpt.keys, ['model', 'ema_model', 'optimizer', 'lr_scheduler', 'epoch', 'args']);
  t.deepEqual([...ckpt.model.keys()], ['0.weight', '0.bias', '1.weight', '1.bias']);
  for (const [k, m] of ckpt.model) t.deepEqual(Array.from(ckpt.ema!.get(k)!.data as Float32Array), Array.from(m.data as Float32Array, (x) => x * 2), k);
  t.deepEqual(ckpt.args, { resolution: 64 });
  const emaOnly = readPth(join(root, 'test/fixtures/pth/train-layout.pth'), { parts: ['ema'] });
  t.is(emaOnly.model.size, 0);
  t.is(emaOnly.ema!.size, 4);
});

test('_rebuild_tensor_v2 takes only a storage from a persistent id, not data shaped like one', (t) => {
  // a dict with 'bytes' and 'type' keys where the storage should be
  const fake = pickle(
    P.proto(2), P.emptyDict, P.str('model'), P.emptyDict, P.str('w'),
    P.global('torch._utils', '_rebuild_tensor_v2'),
    P.mark, P.emptyDict, P.str('bytes'), P.str('x'), P.setitem, P.int(0), P.mark, P.int(1), P.tuple, P.mark, P.int(1), P.tuple, P.tuple, P.reduce,
    P.setitem, P.setitem, P.stop,
  );
  const bytes = writeZip([['ckpt/data.pkl', fake], ['ckpt/version', Buffer.from('3\n')]]);
  refused(t, () => parsePth(bytes, 'f.pth'), /torch\._utils\._rebuild_tensor_v2 on a dict, not a storage/);
});

test('views of one storage repeated through the memo cannot make the reader copy without bound', (t) => {
  const tup = (xs: number[]) => Buffer.concat([P.mark, ...xs.map(P.int), P.tuple]);
  // {'model': {'a': T, 'b': T, 'c': T}}, T a 4096 x 4096 broadcast of one element (64 MB as float32)
  const tensor = Buffer.concat([
    P.global('torch._utils', '_rebuild_tensor_v2'),
    P.mark,
    P.mark, P.str('storage'), P.global('torch', 'FloatStorage'), P.str('0'), P.str('cpu'), P.int(1), P.tuple, P.binpersid,
    P.int(0), Buffer.concat([P.mark, P.raw(0x4d, 0x00, 0x10), P.raw(0x4d, 0x00, 0x10), P.tuple]), tup([0, 0]), P.newfalse,
    P.global('collections', 'OrderedDict'), P.emptyTuple, P.reduce,
    P.tuple, P.reduce, P.put(9),
  ]);
  const pkl = pickle(P.proto(2), P.emptyDict, P.str('model'), P.emptyDict, P.mark, P.str('a'), tensor, P.str('b'), P.get(9), P.str('c'), P.get(9), P.setitems, P.setitem, P.stop);
  const bytes = writeZip([['ckpt/data.pkl', pkl], ['ckpt/data/0', new Uint8Array(4)]]);
  refused(t, () => parsePth(bytes, 'b.pth'), /^b\.pth: strided or converted tensors would need more than twice the file's size in copies/);
});

test('args whose shared parts expand without bound are refused', (t) => {
  // L0 = [], L(i) = [L(i-1), L(i-1)]: 40 levels share their parts, and expand to 2^40 values
  const levels = Buffer.concat(Array.from({ length: 40 }, (_, i) => Buffer.concat([P.mark, P.get(i), P.get(i), P.raw(0x6c), P.put(i + 1), P.pop])));
  const args = Buffer.concat([P.global('argparse', 'Namespace'), P.emptyTuple, P.newobj, P.emptyDict, P.str('x'), P.emptyList, P.put(0), P.pop, levels, P.get(40), P.setitem, P.build]);
  const pkl = pickle(P.proto(2), P.emptyDict, P.str('model'), P.emptyDict, P.setitem, P.str('args'), args, P.setitem, P.stop);
  refused(t, () => parsePth(writeZip([['ckpt/data.pkl', pkl]]), 'a.pth'), /^a\.pth \(args\): value expands to more than 1000000 parts/);
});
