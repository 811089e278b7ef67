/** Builds pickles opcode by opcode, for tests that need pickles Python would not write. */
const b = (...xs: number[]): Buffer => Buffer.from(xs);
const u32 = (n: number): Buffer => {
  const x = Buffer.alloc(4);
  x.writeUInt32LE(n);
  return x;
};

export const P = {
  proto: (v = 2) => b(0x80, v),
  stop: b(0x2e),
  mark: b(0x28),
  none: b(0x4e),
  emptyDict: b(0x7d),
  emptyList: b(0x5d),
  emptyTuple: b(0x29),
  tuple: b(0x74),
  tuple1: b(0x85),
  tuple2: b(0x86),
  tuple3: b(0x87),
  newfalse: b(0x89),
  reduce: b(0x52),
  build: b(0x62),
  newobj: b(0x81),
  setitem: b(0x73),
  setitems: b(0x75),
  append: b(0x61),
  pop: b(0x30),
  binpersid: b(0x51),
  stackGlobal: b(0x93),
  int: (n: number) => (n >= 0 && n < 256 ? b(0x4b, n) : Buffer.concat([b(0x4a), u32(n >>> 0)])),
  str: (s: string) => {
    const x = Buffer.from(s, 'utf8');
    return Buffer.concat([b(0x58), u32(x.length), x]);
  },
  global: (module: string, name: string) => Buffer.from(`c${module}\n${name}\n`, 'latin1'),
  put: (i: number) => b(0x71, i),
  get: (i: number) => b(0x68, i),
  raw: (...xs: number[]) => b(...xs),
};

export function pickle(...parts: Buffer[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}
