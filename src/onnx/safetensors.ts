/**
 * safetensors reader and writer: an 8-byte little-endian header length, a JSON header
 * { name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__"?: {..} }, then the
 * tensor bytes. Every field of a file is checked before anything is allocated from it.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { SncError } from '../errors.js';
import { AtomicFileWriter } from '../util/fs.js';
import { DTYPE_BYTES, fromBytes, numel, toBytes, type DType, type Tensor } from './tensor.js';

/** Headers larger than this are refused (the format's own reference limit is 100 MB). */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

const ST_TO_DTYPE: Record<string, DType> = {
  F32: 'float32',
  F16: 'float16',
  F64: 'float64',
  I64: 'int64',
  I32: 'int32',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool',
};
const DTYPE_TO_ST = Object.fromEntries(Object.entries(ST_TO_DTYPE).map(([k, v]) => [v, k])) as Record<DType, string>;

export interface SafetensorsFile {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

/** Parses safetensors bytes. Throws SncError naming the file and the first problem found. */
export function parseSafetensors(bytes: Uint8Array, source = 'safetensors file'): SafetensorsFile {
  const bad = (why: string): never => {
    throw new SncError(`${source}: ${why}`);
  };
  if (bytes.length < 8) bad(`file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = view.getBigUint64(0, true);
  if (headerLen > BigInt(MAX_HEADER_BYTES)) bad(`header length ${headerLen} exceeds the ${MAX_HEADER_BYTES}-byte cap`);
  const n = Number(headerLen);
  if (8 + n > bytes.length) bad(`header length ${n} runs past the end of the ${bytes.length}-byte file`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    bad(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) bad('header is not a JSON object');
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const entries: { name: string; dtype: DType; shape: number[]; begin: number; end: number }[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null) bad('__metadata__ is not an object');
      metadata = Object.fromEntries(Object.entries(raw as object).map(([k, v]) => [k, String(v)]));
      continue;
    }
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = ST_TO_DTYPE[String(e?.dtype)];
    if (!dtype) bad(`tensor '${name}' has dtype ${JSON.stringify(e?.dtype)}; supported: ${Object.keys(ST_TO_DTYPE).join(', ')}`);
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      bad(`tensor '${name}' has an invalid shape ${JSON.stringify(shape)}`);
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0))
      bad(`tensor '${name}' has invalid data_offsets ${JSON.stringify(off)}`);
    const [begin, end] = off as number[];
    if (begin > end || end > dataLen) bad(`tensor '${name}' data_offsets [${begin}, ${end}] are out of the ${dataLen}-byte data section`);
    const want = numel(shape as number[]) * DTYPE_BYTES[dtype];
    if (end - begin !== want)
      bad(`tensor '${name}' holds ${end - begin} bytes but ${dtype} x [${(shape as number[]).join(', ')}] needs ${want}`);
    entries.push({ name, dtype, shape: shape as number[], begin, end });
  }
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < sorted.length; i++)
    if (sorted[i].begin < sorted[i - 1].end && sorted[i].end > sorted[i].begin)
      bad(`tensors '${sorted[i - 1].name}' and '${sorted[i].name}' overlap`);
  const tensors = new Map<string, Tensor>();
  for (const e of entries) {
    const slice = bytes.subarray(dataStart + e.begin, dataStart + e.end);
    tensors.set(e.name, { dtype: e.dtype, dims: e.shape, data: fromBytes(e.dtype, slice) });
  }
  return { tensors, metadata };
}

/** Reads a safetensors file; the header length is checked against the file size before reading it all. */
export function readSafetensors(path: string): SafetensorsFile {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new SncError(`cannot open ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(8);
    if (size >= 8) readSync(fd, head, 0, 8, 0);
    const headerLen = size >= 8 ? head.readBigUInt64LE(0) : 0n;
    if (size >= 8 && (headerLen > BigInt(MAX_HEADER_BYTES) || 8n + headerLen > BigInt(size)))
      return parseSafetensors(head, path); // reports the header problem without reading the file
    const bytes = Buffer.alloc(size);
    let got = 0;
    while (got < size) got += readSync(fd, bytes, got, size - got, got);
    return parseSafetensors(bytes, path);
  } finally {
    closeSync(fd);
  }
}

/** The header (length prefix included) of tensors sorted by name, and that order. */
function layout(tensors: Map<string, Tensor> | Record<string, Tensor>, metadata?: Record<string, string>): { map: Map<string, Tensor>; names: string[]; head: Uint8Array; dataBytes: number } {
  const map = tensors instanceof Map ? tensors : new Map(Object.entries(tensors));
  const names = [...map.keys()].sort();
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = map.get(name)!;
    const len = numel(t.dims) * DTYPE_BYTES[t.dtype];
    header[name] = { dtype: DTYPE_TO_ST[t.dtype], shape: [...t.dims], data_offsets: [offset, offset + len] };
    offset += len;
  }
  let json = JSON.stringify(header);
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const headerBytes = Buffer.from(json, 'utf8');
  const head = new Uint8Array(8 + headerBytes.length);
  new DataView(head.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  head.set(headerBytes, 8);
  return { map, names, head, dataBytes: offset };
}

/** Serialises tensors (sorted by name, 8-byte aligned data) to safetensors bytes. */
export function serializeSafetensors(tensors: Map<string, Tensor> | Record<string, Tensor>, metadata?: Record<string, string>): Uint8Array {
  const { map, names, head, dataBytes } = layout(tensors, metadata);
  const out = new Uint8Array(head.length + dataBytes);
  out.set(head, 0);
  let pos = head.length;
  for (const name of names) {
    const b = toBytes(map.get(name)!);
    out.set(b, pos);
    pos += b.length;
  }
  return out;
}

/**
 * Writes a safetensors file atomically (temporary file + rename), tensor by tensor: the file's
 * bytes are never assembled in memory, so writing costs no copy of the weights.
 */
export function writeSafetensors(path: string, tensors: Map<string, Tensor> | Record<string, Tensor>, metadata?: Record<string, string>): void {
  const { map, names, head } = layout(tensors, metadata);
  const w = new AtomicFileWriter(path);
  try {
    w.write(head);
    for (const name of names) w.write(toBytes(map.get(name)!));
    w.commit();
  } catch (e) {
    w.abort();
    throw e;
  }
}
