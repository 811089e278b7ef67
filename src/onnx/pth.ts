/**
 * Reads PyTorch checkpoints (`torch.save`'s zip format, PyTorch >= 1.6) without Python.
 *
 * The archive holds `<name>/data.pkl` (a pickle of the saved object in which every tensor is a
 * call to `torch._utils._rebuild_tensor_v2` on a storage given by persistent id
 * `('storage', torch.<Type>Storage, key, location, numel)`), `<name>/data/<key>` (each storage's
 * raw little-endian bytes), `<name>/version` and, since PyTorch 1.10, `<name>/byteorder`.
 *
 * The pickle is read by the restricted unpickler (./pickle.ts) with only the globals a
 * checkpoint needs; anything else is refused by name. A storage is read only when a tensor of
 * the state dicts asked for uses it; contiguous float32/int64/... tensors are views of their
 * storage's bytes (torch aligns storages to 64 bytes), strided views are materialised and
 * float16/bfloat16/float64 converted to float32.
 */
import { closeSync, fstatSync, openSync } from 'node:fs';
import { SncError, choices } from '../errors.js';
import { isTuple, PLAIN_GLOBALS, PLAIN_GLOBALS_TEXT, PyGlobal, PyObject, toPlain, typeName, unpickle, type PickleGlobal } from './pickle.js';
import { DTYPE_BYTES, fromBytes, numel as countElements, type DType, type Tensor, type TypedArray } from './tensor.js';
import { fileSource, ZipArchive, type ZipSource } from './zip.js';

/** Element types of torch's typed storages, by storage class name. */
const STORAGE_TYPES = {
  FloatStorage: { bytes: 4, out: 'float32' },
  DoubleStorage: { bytes: 8, out: 'float32' },
  HalfStorage: { bytes: 2, out: 'float32' },
  BFloat16Storage: { bytes: 2, out: 'float32' },
  LongStorage: { bytes: 8, out: 'int64' },
  IntStorage: { bytes: 4, out: 'int32' },
  ShortStorage: { bytes: 2, out: 'int32' },
  CharStorage: { bytes: 1, out: 'int8' },
  ByteStorage: { bytes: 1, out: 'uint8' },
  BoolStorage: { bytes: 1, out: 'bool' },
} as const satisfies Record<string, { bytes: number; out: DType }>;
type StorageType = keyof typeof STORAGE_TYPES;

/** One storage of the archive: its type, and its bytes, read (and CRC-checked) on first use. */
export class TorchStorage {
  private data: Uint8Array | undefined;
  constructor(
    readonly type: StorageType,
    readonly key: string,
    readonly numel: number,
    private readonly load: () => Uint8Array,
  ) {}
  get bytes(): Uint8Array {
    return (this.data ??= this.load());
  }
}

/** A tensor as the pickle describes it: a strided view of a storage, materialised on demand. */
export class TorchTensor {
  constructor(
    readonly storage: TorchStorage,
    readonly offset: number,
    readonly size: readonly number[],
    readonly stride: readonly number[],
  ) {}
  get dims(): readonly number[] {
    return this.size;
  }
  get dtype(): DType {
    return STORAGE_TYPES[this.storage.type].out;
  }
}

/** The globals a checkpoint may name, and what the message lists as allowed. */
const REBUILD_TENSOR = 'torch._utils._rebuild_tensor_v2';
const ALLOWED_TEXT = [
  REBUILD_TENSOR,
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  `torch.{${Object.keys(STORAGE_TYPES).map((s) => s.replace('Storage', '')).join(',')}}Storage`,
  PLAIN_GLOBALS_TEXT,
].join(', ');

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

function checkpointGlobals(): Map<string, PickleGlobal> {
  const g = new Map<string, PickleGlobal>(PLAIN_GLOBALS);
  const rebuild = (args: readonly unknown[], fail: (why: string) => never): TorchTensor => {
    if (args.length < 4 || args.length > 7) fail(`${REBUILD_TENSOR} takes 4 to 7 arguments, got ${args.length}`);
    const [storage, offset, size, stride] = args;
    if (!(storage instanceof TorchStorage)) return fail(`${REBUILD_TENSOR} on a ${typeName(storage)}, not a storage`);
    const s = storage;
    if (!isInt(offset) || offset < 0) return fail(`tensor storage offset ${String(offset)} is not an integer >= 0`);
    if (!isTuple(size) || !size.every((d) => isInt(d) && d >= 0)) return fail(`tensor size ${describe(size)} is not a tuple of integers >= 0`);
    if (!isTuple(stride) || stride.length !== size.length || !stride.every((d) => isInt(d) && d >= 0))
      return fail(`tensor stride ${describe(stride)} does not match size ${describe(size)}`);
    const dims = size as number[];
    const steps = stride as number[];
    const count = dims.reduce((a, b) => a * b, 1);
    if (count > 0) {
      let last = offset;
      for (let i = 0; i < dims.length; i++) last += (dims[i] - 1) * steps[i];
      if (last >= s.numel) fail(`tensor [${dims.join(', ')}] with stride [${steps.join(', ')}] at offset ${offset} reaches element ${last} of a ${s.numel}-element storage '${s.key}'`);
      if (count > s.numel && count > 1 << 24) fail(`tensor [${dims.join(', ')}] is a broadcast view of ${count} elements over a ${s.numel}-element storage; too large to materialise`);
    }
    return new TorchTensor(s, offset, dims, steps);
  };
  g.set(REBUILD_TENSOR, { call: rebuild });
  const param = (args: readonly unknown[], fail: (why: string) => never): unknown => {
    if (!(args[0] instanceof TorchTensor)) return fail(`torch._utils._rebuild_parameter on a ${typeName(args[0])}, not a tensor`);
    return args[0];
  };
  g.set('torch._utils._rebuild_parameter', { call: param });
  g.set('torch._utils._rebuild_parameter_with_state', { call: param });
  for (const name of Object.keys(STORAGE_TYPES)) g.set(`torch.${name}`, {}); // named in persistent ids, never called
  return g;
}

function describe(v: unknown): string {
  try {
    return JSON.stringify(toPlain(v, 'value', undefined, 4))?.slice(0, 80) ?? String(v);
  } catch {
    return typeName(v);
  }
}

/**
 * Reads the archive's pickle, resolving storages. Returns the saved object with TorchTensors in
 * it; a storage's bytes are read only when one of its tensors is materialised (toTensor).
 */
export function loadTorchArchive(input: Uint8Array | ZipSource, source: string): unknown {
  const zip = ZipArchive.open(input, source);
  const pkls = [...zip.entries.keys()].filter((k) => k === 'data.pkl' || /^[^/]+\/data\.pkl$/.test(k));
  if (pkls.length === 0) {
    const names = [...zip.entries.keys()].slice(0, 5);
    throw new SncError(`${source}: zip archive has no data.pkl, so it is not a torch.save checkpoint (entries: ${names.join(', ') || 'none'}${zip.entries.size > 5 ? ', …' : ''})`);
  }
  if (pkls.length > 1) throw new SncError(`${source}: zip archive holds ${pkls.length} data.pkl records (${pkls.join(', ')}); expected one`);
  const prefix = pkls[0].slice(0, -'data.pkl'.length);
  if (zip.has(`${prefix}byteorder`)) {
    const order = new TextDecoder().decode(zip.read(`${prefix}byteorder`)).trim();
    if (order !== 'little') throw new SncError(`${source}: byteorder '${order.slice(0, 20)}' is not supported; supported: little`);
  }
  const storages = new Map<string, TorchStorage>();
  const persistentLoad = (pid: unknown, fail: (why: string) => never): TorchStorage => {
    if (!isTuple(pid) || pid.length !== 5 || pid[0] !== 'storage') return fail(`persistent id ${describe(pid)} is not ('storage', type, key, location, numel)`);
    const [, type, key, , count] = pid;
    if (!(type instanceof PyGlobal) || type.module !== 'torch' || !(type.name in STORAGE_TYPES)) return fail(`storage type ${describe(type)} is not one of ${choices(Object.keys(STORAGE_TYPES).map((s) => `torch.${s}`))}`);
    if (typeof key !== 'string' || !isInt(count) || count < 0) return fail(`persistent id ${describe(pid)} has a bad key or element count`);
    const st = type.name as StorageType;
    const seen = storages.get(key);
    if (seen) {
      if (seen.type !== st) fail(`storage '${key}' is used as both ${seen.type} and ${st}`);
      return seen;
    }
    const entry = `${prefix}data/${key}`;
    const found = zip.entries.get(entry);
    if (!found) return fail(`storage '${key}' is missing from the archive (no entry '${entry}')`);
    const want = count * STORAGE_TYPES[st].bytes;
    if (found.size < want) fail(`storage '${key}' holds ${found.size} bytes, but ${count} x ${st} needs ${want}`);
    const s = new TorchStorage(st, key, count, () => zip.read(entry).subarray(0, want));
    storages.set(key, s);
    return s;
  };
  return unpickle(zip.read(pkls[0]), { globals: checkpointGlobals(), allowedText: ALLOWED_TEXT, persistentLoad, source: `${source} (${pkls[0]})` });
}

let halfTable: Float32Array | undefined;
/** float16 bits -> float32, through a 64k-entry table built on first use. */
function halfToFloat(): Float32Array {
  if (halfTable) return halfTable;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    t[h] = e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
  }
  return (halfTable = t);
}

/**
 * Bytes that materialising strided or converted tensors may allocate: a checkpoint's tensors
 * need at most twice its size (float16 -> float32), so a small file whose pickle names the same
 * storage through many strided views cannot make the reader allocate without bound.
 */
export interface CopyBudget {
  bytesLeft: number;
  source: string;
}

export function copyBudget(fileBytes: number, source: string): CopyBudget {
  return { bytesLeft: 2 * fileBytes + (64 << 20), source };
}

/** Materialises a TorchTensor as a Tensor (a view of its storage's bytes where possible). */
export function toTensor(t: TorchTensor, budget?: CopyBudget): Tensor {
  const { storage: s, offset, size, stride } = t;
  const dims = [...size];
  const n = countElements(dims);
  const info = STORAGE_TYPES[s.type];
  let contiguous = true;
  for (let i = dims.length - 1, want = 1; i >= 0; i--) {
    if (dims[i] !== 1 && stride[i] !== want) contiguous = false;
    want *= dims[i];
  }
  const native = s.type === 'FloatStorage' || s.type === 'LongStorage' || s.type === 'IntStorage' || s.type === 'CharStorage' || s.type === 'ByteStorage' || s.type === 'BoolStorage';
  if (contiguous && native) return { dtype: info.out, dims, data: fromBytes(info.out, s.bytes.subarray(offset * info.bytes, (offset + n) * info.bytes)) };
  if (budget) {
    budget.bytesLeft -= n * DTYPE_BYTES[info.out];
    if (budget.bytesLeft < 0) throw new SncError(`${budget.source}: strided or converted tensors would need more than twice the file's size in copies; the checkpoint repeats views of its storages`);
  }
  // gather element by element, converting the element type
  const src = s.bytes;
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const out = ((): TypedArray => {
    switch (info.out) {
      case 'float32':
        return new Float32Array(n);
      case 'int64':
        return new BigInt64Array(n);
      case 'int32':
        return new Int32Array(n);
      case 'int8':
        return new Int8Array(n);
      default:
        return new Uint8Array(n);
    }
  })();
  const half = s.type === 'HalfStorage' ? halfToFloat() : undefined;
  const bf = new Float32Array(1);
  const bfBits = new Uint32Array(bf.buffer);
  const read = ((): ((i: number) => number | bigint) => {
    switch (s.type) {
      case 'FloatStorage':
        return (i) => view.getFloat32(i * 4, true);
      case 'DoubleStorage':
        return (i) => view.getFloat64(i * 8, true);
      case 'HalfStorage':
        return (i) => half![view.getUint16(i * 2, true)];
      case 'BFloat16Storage':
        return (i) => {
          bfBits[0] = view.getUint16(i * 2, true) << 16;
          return bf[0];
        };
      case 'LongStorage':
        return (i) => view.getBigInt64(i * 8, true);
      case 'IntStorage':
        return (i) => view.getInt32(i * 4, true);
      case 'ShortStorage':
        return (i) => view.getInt16(i * 2, true);
      case 'CharStorage':
        return (i) => view.getInt8(i);
      case 'ByteStorage':
      case 'BoolStorage':
        return (i) => view.getUint8(i);
    }
  })();
  const w = out as unknown as { [i: number]: number | bigint };
  if (n > 0) {
    const rank = dims.length;
    const idx = new Array<number>(rank).fill(0);
    let at = offset;
    for (let k = 0; k < n; k++) {
      w[k] = read(at);
      // advance the multi-index, last dimension fastest
      for (let d = rank - 1; d >= 0; d--) {
        idx[d]++;
        at += stride[d];
        if (idx[d] < dims[d]) break;
        at -= stride[d] * dims[d];
        idx[d] = 0;
      }
    }
  }
  return { dtype: info.out, dims, data: out };
}

/** What a training or released checkpoint holds. */
export interface PthCheckpoint {
  /** The model's state dict (`model`, `state_dict`, or the whole file when it is one). */
  model: Map<string, Tensor>;
  /** `ema_model`, when present. */
  ema?: Map<string, Tensor>;
  /** `args` (an argparse.Namespace) as a plain object. */
  args?: Record<string, unknown>;
  /** The file's top-level keys. */
  keys: string[];
}

function stateDict(v: unknown, what: string, source: string, budget: CopyBudget): Map<string, Tensor> {
  if (!(v instanceof Map)) throw new SncError(`${source}: ${what} is a ${typeName(v)}, not a state dict`);
  const out = new Map<string, Tensor>();
  for (const [k, t] of v) {
    if (typeof k !== 'string') throw new SncError(`${source}: ${what} has a ${typeName(k)} key; state dict keys are strings`);
    if (!(t instanceof TorchTensor)) throw new SncError(`${source}: ${what}['${k}'] is a ${typeName(t)}, not a tensor`);
    out.set(k, toTensor(t, budget));
  }
  return out;
}

export interface ReadPthOptions {
  /** Which state dicts to materialise (default both). */
  parts?: readonly ('model' | 'ema')[];
}

/** Parses a checkpoint (bytes, or a ZipSource). Throws one SncError naming the file and the problem. */
export function parsePth(input: Uint8Array | ZipSource, source: string, opts: ReadPthOptions = {}): PthCheckpoint {
  const parts = opts.parts ?? ['model', 'ema'];
  const budget = copyBudget(input instanceof Uint8Array ? input.length : input.size, source);
  const top = loadTorchArchive(input, source);
  if (!(top instanceof Map)) throw new SncError(`${source}: checkpoint holds a ${typeName(top)}; expected a dict with 'model' (a state dict)`);
  const keys = [...top.keys()].map(String);
  const isStateDict = top.size > 0 && [...top.values()].every((v) => v instanceof TorchTensor);
  const modelKey = top.has('model') ? 'model' : top.has('state_dict') ? 'state_dict' : undefined;
  if (!modelKey && !isStateDict) throw new SncError(`${source}: checkpoint has no 'model' state dict; its keys are ${choices(keys.slice(0, 12)) || 'none'}`);
  const empty = new Map<string, Tensor>();
  const model = !parts.includes('model') ? empty : modelKey ? stateDict(top.get(modelKey), `'${modelKey}'`, source, budget) : stateDict(top, 'the checkpoint', source, budget);
  const ema = top.has('ema_model') && parts.includes('ema') ? stateDict(top.get('ema_model'), "'ema_model'", source, budget) : undefined;
  let args: Record<string, unknown> | undefined;
  const a = top.get('args');
  if (a instanceof PyObject || a instanceof Map) args = toPlain(a, `${source} (args)`, (x) => (x instanceof TorchTensor ? `<tensor [${x.size.join(', ')}]>` : undefined)) as Record<string, unknown>;
  else if (a !== undefined && a !== null) throw new SncError(`${source}: 'args' is a ${typeName(a)}; expected an argparse.Namespace or a dict`);
  return { model, ...(ema ? { ema } : {}), ...(args ? { args } : {}), keys };
}

/**
 * Reads a checkpoint file: the zip directory and the pickle, then only the storages of the state
 * dicts asked for, each straight into its own buffer (no copy, nothing else of the file read).
 */
export function readPth(path: string, opts: ReadPthOptions = {}): PthCheckpoint {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new SncError(`cannot open ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return parsePth(fileSource(fd, fstatSync(fd).size, path), path, opts);
  } finally {
    closeSync(fd);
  }
}
