import test from 'ava';
import sharp from 'sharp';
import { imageSize } from '../../src/data/image-size.js';

test('JPEG and PNG sizes from the header agree with the decoder', async (t) => {
  for (const [w, h] of [[1, 1], [320, 240], [17, 513], [4000, 3]]) {
    const base = sharp({ create: { width: w, height: h, channels: 3, background: '#808080' } });
    for (const bytes of [await base.clone().jpeg().toBuffer(), await base.clone().jpeg({ progressive: true }).withMetadata().toBuffer(), await base.clone().png().toBuffer()])
      t.deepEqual(imageSize(bytes), { width: w, height: h });
  }
});

test('anything else is undefined, never a wrong size', async (t) => {
  t.is(imageSize(Buffer.from('hello')), undefined);
  t.is(imageSize(new Uint8Array([0xff, 0xd8, 0xff, 0xd9])), undefined);
  const jpeg = await sharp({ create: { width: 30, height: 20, channels: 3, background: '#000' } }).jpeg().toBuffer();
  t.is(imageSize(jpeg.subarray(0, 30)), undefined);
  const webp = await sharp({ create: { width: 30, height: 20, channels: 3, background: '#000' } }).webp().toBuffer();
  t.is(imageSize(webp), undefined);
});
