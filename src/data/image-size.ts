/**
 * Width and height from the header of a JPEG or PNG file, without decoding (as stored: EXIF
 * orientation is not applied, as PIL and sharp report them too). Undefined for anything else or
 * for a header it cannot follow; the caller then asks the decoder.
 */
export function imageSize(b: Uint8Array): { width: number; height: number } | undefined {
  const u16 = (o: number) => (b[o] << 8) | b[o + 1];
  const u32 = (o: number) => ((b[o] << 24) >>> 0) + ((b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]);
  // PNG: signature, then the IHDR chunk
  if (b.length >= 24 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 && b[12] === 0x49 && b[13] === 0x48 && b[14] === 0x44 && b[15] === 0x52)
    return { width: u32(16), height: u32(20) };
  // JPEG: walk the marker segments to the first start-of-frame
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return undefined;
  let o = 2;
  while (o + 3 < b.length) {
    if (b[o] !== 0xff) return undefined;
    const m = b[o + 1];
    if (m === 0xff) {
      o++; // fill byte
      continue;
    }
    if (m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) {
      o += 2; // markers without a length
      continue;
    }
    if (m === 0xd9 || m === 0xda) return undefined; // end of image or start of scan before any frame
    const len = u16(o + 2);
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      if (o + 9 > b.length) return undefined;
      const height = u16(o + 5);
      const width = u16(o + 7);
      return width > 0 && height > 0 ? { width, height } : undefined;
    }
    o += 2 + len;
  }
  return undefined;
}
