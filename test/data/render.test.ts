import test from 'ava';
import sharp from 'sharp';
import { backgroundPixels, renderScene, sceneSvg } from '../../src/data/render.js';
import { makeScene } from '../../src/data/scene.js';

test('a scene renders to the same JPEG bytes every time', async (t) => {
  const s = makeScene(9, 0, 128);
  const [a, b] = await Promise.all([renderScene(s), renderScene(makeScene(9, 0, 128))]);
  t.deepEqual(a, b);
  const meta = await sharp(a).metadata();
  t.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 128, 128]);
});

test('the background is noisy: neighbouring pixels differ', (t) => {
  const px = backgroundPixels(makeScene(9, 1, 128));
  t.is(px.length, 128 * 128 * 3);
  let diff = 0;
  for (let i = 3; i < px.length; i += 3) if (px[i] !== px[i - 3]) diff++;
  t.true(diff > 0.5 * 128 * 128, `${diff} of ${128 * 128} pixels differ from their left neighbour`);
});

test('every object is drawn where its box says', async (t) => {
  const s = makeScene(9, 2, 128);
  const svg = sceneSvg(s);
  t.is(svg.match(/<(polygon|ellipse) /g)!.length, s.objects.length + (s.under.match(/<polygon /g)?.length ?? 0));
  // an object's own svg, drawn alone on transparent ground, covers pixels only inside its box
  for (const o of s.objects) {
    const one = `<svg xmlns="http://www.w3.org/2000/svg" width="128" height="128">${o.svg}</svg>`;
    const { data } = await sharp(Buffer.from(one)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    let x0 = 128, y0 = 128, x1 = -1, y1 = -1;
    for (let y = 0; y < 128; y++)
      for (let x = 0; x < 128; x++)
        if (data[(y * 128 + x) * 4 + 3] > 127) {
          x0 = Math.min(x0, x);
          y0 = Math.min(y0, y);
          x1 = Math.max(x1, x);
          y1 = Math.max(y1, y);
        }
    if (x1 < 0) continue; // tiny and faint
    const [bx, by, bw, bh] = o.bbox;
    t.true(x0 >= Math.floor(bx) - 1 && y0 >= Math.floor(by) - 1 && x1 <= Math.ceil(bx + bw) && y1 <= Math.ceil(by + bh), `${JSON.stringify(o.bbox)} vs [${x0},${y0},${x1},${y1}]`);
  }
});
