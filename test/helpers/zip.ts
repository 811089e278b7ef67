/**
 * A minimal zip writer for tests: stored entries 64-byte aligned as torch writes them, or
 * deflated ones, optionally with zip64 records, so tests can build archives with chosen records.
 */
import { crc32, deflateRawSync } from 'node:zlib';

export interface WriteZipOptions {
  /** Align stored data to this many bytes (default 64, torch's). */
  align?: number;
  /** Deflate every entry (method 8). */
  deflate?: boolean;
  /** Write sizes and offsets as zip64 extra fields and a zip64 end record. */
  zip64?: boolean;
  /** Overrides the method field (to test refusals). */
  method?: number;
  /** General-purpose flags of every entry. */
  flags?: number;
}

export function writeZip(entries: [string, Uint8Array][], opts: WriteZipOptions = {}): Uint8Array {
  const align = opts.deflate ? 1 : opts.align ?? 64;
  const method = opts.method ?? (opts.deflate ? 8 : 0);
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const nameBytes = Buffer.from(name, 'utf8');
    const body = opts.deflate ? deflateRawSync(data) : data;
    const base = offset + 30 + nameBytes.length;
    // pad with an extra field (id 0xcafe) so the data starts at a multiple of `align`
    const pad = align > 1 ? (align - ((base + 4) % align)) % align : 0;
    const extraLen = align > 1 ? 4 + pad : 0;
    const local = Buffer.alloc(30 + nameBytes.length + extraLen);
    const crc = crc32(data) >>> 0;
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(opts.flags ?? 0, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(extraLen, 28);
    nameBytes.copy(local, 30);
    if (extraLen) {
      local.writeUInt16LE(0xcafe, 30 + nameBytes.length);
      local.writeUInt16LE(pad, 32 + nameBytes.length);
    }
    const z64 = opts.zip64 ? 4 + 24 : 0;
    const cd = Buffer.alloc(46 + nameBytes.length + z64);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(45, 4);
    cd.writeUInt16LE(45, 6);
    cd.writeUInt16LE(opts.flags ?? 0, 8);
    cd.writeUInt16LE(method, 10);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(opts.zip64 ? 0xffffffff : body.length, 20);
    cd.writeUInt32LE(opts.zip64 ? 0xffffffff : data.length, 24);
    cd.writeUInt16LE(nameBytes.length, 28);
    cd.writeUInt16LE(z64, 30);
    cd.writeUInt32LE(opts.zip64 ? 0xffffffff : offset, 42);
    nameBytes.copy(cd, 46);
    if (opts.zip64) {
      const e = 46 + nameBytes.length;
      cd.writeUInt16LE(0x0001, e);
      cd.writeUInt16LE(24, e + 2);
      cd.writeBigUInt64LE(BigInt(data.length), e + 4);
      cd.writeBigUInt64LE(BigInt(body.length), e + 12);
      cd.writeBigUInt64LE(BigInt(offset), e + 20);
    }
    parts.push(local, body);
    central.push(cd);
    offset += local.length + body.length;
  }
  const cdSize = central.reduce((s, b) => s + b.length, 0);
  const tail: Buffer[] = [];
  if (opts.zip64) {
    const rec = Buffer.alloc(56);
    rec.writeUInt32LE(0x06064b50, 0);
    rec.writeBigUInt64LE(44n, 4);
    rec.writeUInt16LE(45, 12);
    rec.writeUInt16LE(45, 14);
    rec.writeBigUInt64LE(BigInt(entries.length), 24);
    rec.writeBigUInt64LE(BigInt(entries.length), 32);
    rec.writeBigUInt64LE(BigInt(cdSize), 40);
    rec.writeBigUInt64LE(BigInt(offset), 48);
    const loc = Buffer.alloc(20);
    loc.writeUInt32LE(0x07064b50, 0);
    loc.writeBigUInt64LE(BigInt(offset + cdSize), 8);
    loc.writeUInt32LE(1, 16);
    tail.push(rec, loc);
  }
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(opts.zip64 ? 0xffff : entries.length, 8);
  eocd.writeUInt16LE(opts.zip64 ? 0xffff : entries.length, 10);
  eocd.writeUInt32LE(opts.zip64 ? 0xffffffff : cdSize, 12);
  eocd.writeUInt32LE(opts.zip64 ? 0xffffffff : offset, 16);
  return Buffer.concat([...parts, ...central, ...tail, eocd]);
}
