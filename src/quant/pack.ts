/**
 * Packing of k-bit codes into bytes: groups of g = 8 / gcd(8, k) codes fill g·k/8 bytes as one
 * little-endian integer, code j of a group at bits [j·k, (j+1)·k). 8 bits: a byte per code;
 * 4 bits: two per byte; 3 bits: eight in three bytes. The last group is padded with zeros.
 */
const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);

export function packLayout(bits: number): { codesPerGroup: number; bytesPerGroup: number } {
  if (!Number.isInteger(bits) || bits < 1 || bits > 8) throw new Error(`code width ${bits} is not 1..8 bits`);
  const codesPerGroup = 8 / gcd(8, bits);
  return { codesPerGroup, bytesPerGroup: (codesPerGroup * bits) / 8 };
}

export function packedBytes(n: number, bits: number): number {
  const { codesPerGroup, bytesPerGroup } = packLayout(bits);
  return Math.ceil(n / codesPerGroup) * bytesPerGroup;
}

export function packCodes(codes: Uint8Array, bits: number): Uint8Array {
  const { codesPerGroup, bytesPerGroup } = packLayout(bits);
  const groups = Math.ceil(codes.length / codesPerGroup);
  const out = new Uint8Array(groups * bytesPerGroup);
  const mask = (1 << bits) - 1;
  for (let g = 0; g < groups; g++) {
    let v = 0; // at most 8 codes x 3 bits = 24 bits: exact in a double
    for (let j = 0; j < codesPerGroup; j++) {
      const i = g * codesPerGroup + j;
      const c = i < codes.length ? codes[i] : 0;
      if (c > mask) throw new Error(`code ${c} does not fit in ${bits} bits`);
      v += c * 2 ** (j * bits);
    }
    for (let b = 0; b < bytesPerGroup; b++) out[g * bytesPerGroup + b] = Math.floor(v / 256 ** b) % 256;
  }
  return out;
}

export function unpackCodes(packed: Uint8Array, bits: number, n: number): Uint8Array {
  const { codesPerGroup, bytesPerGroup } = packLayout(bits);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const g = Math.floor(i / codesPerGroup);
    let v = 0;
    for (let b = 0; b < bytesPerGroup; b++) v += packed[g * bytesPerGroup + b] * 256 ** b;
    out[i] = Math.floor(v / 2 ** ((i % codesPerGroup) * bits)) % 2 ** bits;
  }
  return out;
}
