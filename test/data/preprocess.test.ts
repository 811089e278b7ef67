import test from 'ava';
import sharp from 'sharp';
import { Preprocessor } from '../../src/data/preprocess.js';
import type { Preprocess } from '../../src/data/preprocess.js';

const IMAGENET: Preprocess = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], resize: 'square' };
const f32 = (x: number) => Math.fround(x);

async function png(width: number, height: number, channels: 1 | 3 | 4, pixel: (x: number, y: number, c: number) => number): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < channels; c++) raw[(y * width + x) * channels + c] = pixel(x, y, c);
  return sharp(raw, { raw: { width, height, channels } }).png().toBuffer();
}

test('(v / 255 - mean) / std per channel, planes in RGB order, original size returned', async (t) => {
  const pre = new Preprocessor(IMAGENET, 16);
  const rgb = [10, 128, 250];
  const out = new Float32Array(pre.tensorSize);
  const size = await pre.prepare(await png(50, 30, 3, (_x, _y, c) => rgb[c]), out);
  t.deepEqual(size, { width: 50, height: 30 });
  for (let c = 0; c < 3; c++) {
    const want = f32((rgb[c] / 255 - IMAGENET.mean[c]) / IMAGENET.std[c]);
    t.true(out.subarray(c * 256, (c + 1) * 256).every((v) => v === want), `channel ${c}`);
  }
});

test('square resize without letterbox: a wide image fills the whole square', async (t) => {
  const pre = new Preprocessor({ mean: [0, 0, 0], std: [1, 1, 1], resize: 'square' }, 32);
  const out = new Float32Array(pre.tensorSize);
  // left half red, right half blue, 100 x 20
  await pre.prepare(await png(100, 20, 3, (x, _y, c) => (x < 50 ? [255, 0, 0][c] : [0, 0, 255][c])), out);
  const at = (c: number, y: number, x: number) => out[c * 1024 + y * 32 + x];
  for (const y of [0, 16, 31]) {
    t.is(at(0, y, 1), 1);
    t.is(at(2, y, 1), 0);
    t.is(at(0, y, 30), 0);
    t.is(at(2, y, 30), 1);
  }
});

test('grey and RGBA images become three channels', async (t) => {
  const pre = new Preprocessor({ mean: [0, 0, 0], std: [1, 1, 1], resize: 'square' }, 8);
  const out = new Float32Array(pre.tensorSize);
  await pre.prepare(await png(8, 8, 1, () => 51), out);
  t.true(out.every((v) => v === f32(51 / 255)));
  await pre.prepare(await png(8, 8, 4, (_x, _y, c) => [0, 102, 204, 17][c]), out);
  t.is(out[0], 0);
  t.is(out[64], f32(102 / 255));
  t.is(out[128], f32(204 / 255));
});

test('an undecodable image is an error', async (t) => {
  const pre = new Preprocessor(IMAGENET, 8);
  await t.throwsAsync(pre.prepare(Buffer.from('not an image at all'), new Float32Array(pre.tensorSize)));
});
