/**
 * A read-only zip archive over bytes already in memory, for torch.save's checkpoint format.
 *
 * Why not a zip library: torch writes every record uncompressed and 64-byte aligned so a reader
 * can view tensor storages in place; yauzl (streaming, async), fflate and adm-zip read the whole
 * archive and copy an entry into a new buffer, which doubles the memory a 100+ MB checkpoint
 * needs. This reader parses the central directory (zip64 included) and reads an entry only when
 * asked: from bytes in memory as a view, from an open file straight into the entry's own buffer
 * (so a training checkpoint's optimizer state is never read when only the weights are wanted).
 * Deflated entries (method 8, never written by torch) are inflated with node:zlib.
 *
 * Every offset and size is checked against the archive before it is used; a problem is one
 * SncError naming the archive and the entry.
 */
import { readSync } from 'node:fs';
import { crc32, inflateRawSync } from 'node:zlib';
import { SncError } from '../errors.js';

/** Where an archive's bytes come from: `read` returns exactly the bytes asked for (callers check bounds first). */
export interface ZipSource {
  readonly size: number;
  read(offset: number, length: number): Uint8Array;
}

/** An archive already in memory: reads are views. */
export function bytesSource(bytes: Uint8Array): ZipSource {
  return { size: bytes.length, read: (offset, length) => bytes.subarray(offset, offset + length) };
}

/** An open file: each read is one buffer of its own (its own ArrayBuffer, so aligned for any element type). */
export function fileSource(fd: number, size: number, path: string): ZipSource {
  return {
    size,
    read(offset, length) {
      const buf = Buffer.allocUnsafeSlow(length);
      for (let got = 0; got < length; ) {
        const k = readSync(fd, buf, got, length - got, offset + got);
        if (k === 0) throw new SncError(`${path}: file ended at byte ${offset + got} while reading (it shrank?)`);
        got += k;
      }
      return buf;
    },
  };
}

export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  compressedSize: number;
  size: number;
  crc: number;
  /** Offset of the entry's local file header. */
  headerOffset: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
const EOCD_MIN = 22;
const MAX_COMMENT = 0xffff;

export class ZipArchive {
  readonly entries: Map<string, ZipEntry>;

  private constructor(
    private readonly src: ZipSource,
    readonly source: string,
    entries: Map<string, ZipEntry>,
  ) {
    this.entries = entries;
  }

  /**
   * Parses the central directory of an archive (bytes in memory, or a ZipSource such as an open
   * file). Throws SncError when it is not a readable zip.
   */
  static open(input: Uint8Array | ZipSource, source: string): ZipArchive {
    const src = input instanceof Uint8Array ? bytesSource(input) : input;
    const bad = (why: string): never => {
      throw new SncError(`${source}: ${why}`);
    };
    const len = src.size;
    if (len < EOCD_MIN) bad(`${len} bytes is too short for a zip archive (truncated?)`);
    // the end-of-central-directory record sits in the last 22 + comment bytes (and a zip64
    // locator in the 20 before it)
    const tailStart = Math.max(0, len - EOCD_MIN - MAX_COMMENT - 20);
    const tail = src.read(tailStart, len - tailStart);
    const tv = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
    let eocd = -1;
    for (let p = tail.length - EOCD_MIN; p >= Math.max(0, tail.length - EOCD_MIN - MAX_COMMENT); p--) {
      if (tv.getUint32(p, true) === SIG_EOCD && p + EOCD_MIN + tv.getUint16(p + 20, true) <= tail.length) {
        eocd = p;
        break;
      }
    }
    if (eocd < 0) {
      const head = src.read(0, 4);
      const zipStart = head.length === 4 && new DataView(head.buffer, head.byteOffset, 4).getUint32(0, true) === SIG_LOCAL;
      bad(zipStart ? 'zip archive is truncated (no end-of-central-directory record)' : 'not a zip archive (torch.save writes a zip since PyTorch 1.6; older formats are not supported)');
    }
    let count = tv.getUint16(eocd + 10, true);
    let cdSize = tv.getUint32(eocd + 12, true);
    let cdOffset = tv.getUint32(eocd + 16, true);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      // zip64: a locator just before the EOCD points at the zip64 EOCD record
      const loc = eocd - 20;
      if (loc < 0 || tv.getUint32(loc, true) !== SIG_EOCD64_LOCATOR) bad('zip64 archive without its end-of-central-directory locator (truncated?)');
      const big = (v: bigint): number => (v > BigInt(Number.MAX_SAFE_INTEGER) ? bad(`zip64 field ${v} is out of range`) : Number(v));
      const rec = big(tv.getBigUint64(loc + 8, true));
      if (rec + 56 > len) bad(`zip64 end-of-central-directory record at ${rec} is out of the ${len}-byte file`);
      const r = src.read(rec, 56);
      const rv = new DataView(r.buffer, r.byteOffset, 56);
      if (rv.getUint32(0, true) !== SIG_EOCD64) bad(`zip64 end-of-central-directory record at ${rec} is missing`);
      count = big(rv.getBigUint64(32, true));
      cdSize = big(rv.getBigUint64(40, true));
      cdOffset = big(rv.getBigUint64(48, true));
    }
    if (cdOffset + cdSize > len) bad(`central directory (${cdSize} bytes at ${cdOffset}) runs past the end of the ${len}-byte file (truncated?)`);
    if (count > cdSize / 46) bad(`central directory claims ${count} entries in ${cdSize} bytes`);
    const entries = new Map<string, ZipEntry>();
    const decoder = new TextDecoder('utf-8', { fatal: false });
    // the directory, read once; offsets below are into it
    const cd = src.read(cdOffset, cdSize);
    const view = new DataView(cd.buffer, cd.byteOffset, cd.byteLength);
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + 46 > cdSize || view.getUint32(p, true) !== SIG_CENTRAL) bad(`central directory entry ${i} at ${cdOffset + p} is malformed`);
      const flags = view.getUint16(p + 8, true);
      const method = view.getUint16(p + 10, true);
      const crc = view.getUint32(p + 16, true);
      let compressedSize = view.getUint32(p + 20, true);
      let size = view.getUint32(p + 24, true);
      const nameLen = view.getUint16(p + 28, true);
      const extraLen = view.getUint16(p + 30, true);
      const commentLen = view.getUint16(p + 32, true);
      let headerOffset = view.getUint32(p + 42, true);
      const end = p + 46 + nameLen + extraLen + commentLen;
      if (end > cdSize) bad(`central directory entry ${i} runs past the directory`);
      const name = decoder.decode(cd.subarray(p + 46, p + 46 + nameLen));
      // zip64 extended information: the 64-bit values present are those whose 32-bit field is all ones
      const extraEnd = p + 46 + nameLen + extraLen;
      for (let e = p + 46 + nameLen; e + 4 <= extraEnd; ) {
        const id = view.getUint16(e, true);
        const sz = view.getUint16(e + 2, true);
        if (e + 4 + sz > extraEnd) bad(`entry '${name}' has a malformed extra field`);
        if (id === 0x0001) {
          let q = e + 4;
          const next = (): number => {
            if (q + 8 > e + 4 + sz) bad(`entry '${name}' has a short zip64 extra field`);
            const big = view.getBigUint64(q, true);
            if (big > BigInt(Number.MAX_SAFE_INTEGER)) bad(`entry '${name}' has an out-of-range zip64 field ${big}`);
            q += 8;
            return Number(big);
          };
          if (size === 0xffffffff) size = next();
          if (compressedSize === 0xffffffff) compressedSize = next();
          if (headerOffset === 0xffffffff) headerOffset = next();
        }
        e += 4 + sz;
      }
      if (flags & 1) bad(`entry '${name}' is encrypted`);
      if (entries.has(name)) bad(`entry '${name}' appears twice`);
      entries.set(name, { name, method, compressedSize, size, crc, headerOffset });
      p = end;
    }
    return new ZipArchive(src, source, entries);
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /**
   * The entry's bytes: for stored entries a view into bytes in memory, or one read from a file;
   * a new buffer for deflated ones. With `verify` the CRC-32 is checked (node:zlib's native crc32).
   */
  read(name: string, verify = true): Uint8Array {
    const e = this.entries.get(name);
    if (!e) throw new SncError(`${this.source}: zip archive has no entry '${name}'`);
    const bad = (why: string): never => {
      throw new SncError(`${this.source}: entry '${name}' ${why}`);
    };
    const len = this.src.size;
    const h = e.headerOffset;
    if (h + 30 > len) bad(`has no local header at ${h} (truncated or corrupt archive)`);
    const lh = this.src.read(h, 30);
    const lv = new DataView(lh.buffer, lh.byteOffset, 30);
    if (lv.getUint32(0, true) !== SIG_LOCAL) bad(`has no local header at ${h} (truncated or corrupt archive)`);
    const start = h + 30 + lv.getUint16(26, true) + lv.getUint16(28, true);
    if (start + e.compressedSize > len) bad(`data (${e.compressedSize} bytes at ${start}) runs past the end of the ${len}-byte file (truncated?)`);
    const raw = this.src.read(start, e.compressedSize);
    let data: Uint8Array;
    if (e.method === 0) {
      if (e.compressedSize !== e.size) bad(`is stored with ${e.compressedSize} bytes but its size is ${e.size}`);
      data = raw;
    } else if (e.method === 8) {
      try {
        data = inflateRawSync(raw, { maxOutputLength: Math.max(1, e.size) });
      } catch (err) {
        return bad(`does not inflate (${(err as Error).message})`);
      }
      if (data.length !== e.size) bad(`inflates to ${data.length} bytes, expected ${e.size}`);
    } else return bad(`uses compression method ${e.method}; supported: 0 (stored) and 8 (deflate)`);
    if (verify && crc32(data) >>> 0 !== e.crc) bad('fails its CRC-32 check (corrupt archive)');
    return data;
  }
}
