/**
 * Decoding and pre-processing as a supernet's `preprocess` says, with sharp: decode (no EXIF
 * rotation, as PIL and pycocotools read images), drop alpha, sRGB, square resize to R x R
 * without letterbox (bilinear, antialiased when shrinking), then (v / 255 - mean) / std per
 * channel into Float32 NCHW planes [1, 3, R, R].
 */
import sharp from 'sharp';
import { imageSize } from './image-size.js';

/** How a supernet wants its images: ImageNet-style normalisation after a square resize. */
export interface Preprocess {
  mean: [number, number, number];
  std: [number, number, number];
  /** Square resize without letterbox, as RF-DETR does. */
  resize: 'square';
}

export interface Decoded {
  /** Size of the decoded image, before resizing. */
  width: number;
  height: number;
}

export class Preprocessor {
  /** lut[c * 256 + v] = (v / 255 - mean[c]) / std[c] as float32. */
  private readonly lut = new Float32Array(3 * 256);

  constructor(readonly pre: Preprocess, readonly resolution: number) {
    for (let c = 0; c < 3; c++) for (let v = 0; v < 256; v++) this.lut[c * 256 + v] = (v / 255 - pre.mean[c]) / pre.std[c];
  }

  /** Floats in one [1, 3, R, R] tensor. */
  get tensorSize(): number {
    return 3 * this.resolution * this.resolution;
  }

  /** Decodes encoded image bytes and writes the normalised planes into `out` (tensorSize floats). */
  async prepare(input: Buffer, out: Float32Array): Promise<Decoded> {
    const R = this.resolution;
    const img = sharp(input);
    // the original size, for boxes in its pixels: from the header when it is a JPEG or PNG
    const size = imageSize(input) ?? (await img.metadata());
    const { data, info } = await img
      .removeAlpha()
      .toColourspace('srgb')
      .resize(R, R, { fit: 'fill', kernel: 'linear' })
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    this.normalise(data, info.channels, out);
    return { width: size.width ?? info.width, height: size.height ?? info.height };
  }

  /** Interleaved 8-bit pixels (1 or 3+ channels, R x R) to normalised planes. */
  normalise(pixels: Uint8Array, channels: number, out: Float32Array): void {
    const n = this.resolution * this.resolution;
    const lut = this.lut;
    if (channels === 1) {
      for (let i = 0; i < n; i++) {
        const v = pixels[i];
        out[i] = lut[v];
        out[n + i] = lut[256 + v];
        out[2 * n + i] = lut[512 + v];
      }
      return;
    }
    for (let i = 0, j = 0; i < n; i++, j += channels) {
      out[i] = lut[pixels[j]];
      out[n + i] = lut[256 + pixels[j + 1]];
      out[2 * n + i] = lut[512 + pixels[j + 2]];
    }
  }
}
