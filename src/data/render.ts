/**
 * Draws a Scene with sharp: the textured, noisy background is computed here as raw RGB, the
 * clutter and shapes are one SVG laid over it (librsvg), a grain layer is blended over all
 * (soft light), and the result is encoded as JPEG. The same Scene always gives the same bytes.
 */
import sharp from 'sharp';
import { StreamRng } from '../util/rng.js';
import type { Scene } from './scene.js';

/** Triangular noise in [-1, 1] from two bytes. */
function fillNoise(rng: StreamRng, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = rng.u32();
    out[i] = ((u & 0xff) + ((u >>> 8) & 0xff) - 255) / 255;
    if (i + 1 < n) out[i + 1] = (((u >>> 16) & 0xff) + (u >>> 24) - 255) / 255;
  }
  return out;
}

/** The background as raw RGB, size x size x 3. */
export function backgroundPixels(scene: Scene): Buffer {
  const S = scene.size;
  const bg = scene.background;
  const out = new Uint8ClampedArray(S * S * 3);
  const noise = fillNoise(new StreamRng(scene.noiseKey), S * S);
  const ca = Math.cos(bg.angle) / (1.4 * S);
  const sa = Math.sin(bg.angle) / (1.4 * S);
  const [d0, d1, d2] = [bg.c2[0] - bg.c1[0], bg.c2[1] - bg.c1[1], bg.c2[2] - bg.c1[2]];
  const col = (f: (x: number) => number) => Float64Array.from({ length: S }, (_, i) => f(i));
  // the textures are separable or bilinear: per-column and per-row tables
  const st = bg.stripes ?? { amp: 0, fx: 0, fy: 0, phase: 0, tint: [0, 0, 0] };
  const ssx = col((x) => st.amp * Math.sin(st.fx * x));
  const scx = col((x) => st.amp * Math.cos(st.fx * x));
  const ssy = col((y) => Math.sin(st.fy * y + st.phase));
  const scy = col((y) => Math.cos(st.fy * y + st.phase));
  const ch = bg.checker ?? { amp: 0, fx: 0, fy: 0, px: 0, py: 0, tint: [0, 0, 0] };
  const csx = col((x) => (Math.sin(ch.fx * x + ch.px) >= 0 ? ch.amp : -ch.amp));
  const csy = col((y) => (Math.sin(ch.fy * y + ch.py) >= 0 ? 1 : -1));
  const bl = bg.blotches ?? { amp: 0, grid: 2, values: [0, 0, 0, 0], tint: [0, 0, 0] };
  const g = bl.grid;
  const scale = (g - 1) / Math.max(1, S - 1);
  const cell = Int32Array.from({ length: S }, (_, i) => Math.min(g - 2, Math.floor(i * scale)));
  const frac = col((i) => i * scale - cell[i]);
  const vals = Float64Array.from(bl.values, (v) => v * bl.amp);
  const [sR, sG, sB] = st.tint;
  const [cR, cG, cB] = ch.tint;
  const [bR, bG, bB] = bl.tint;
  const half = S / 2;
  for (let y = 0, i = 0; y < S; y++) {
    const y0 = cell[y];
    const fy = frac[y];
    const row0 = y0 * g;
    const row1 = row0 + g;
    for (let x = 0; x < S; x++, i++) {
      let t = (x - half) * ca + (y - half) * sa + 0.5;
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      const sv = ssx[x] * scy[y] + scx[x] * ssy[y];
      const cv = csx[x] * csy[y];
      const x0 = cell[x];
      const fx = frac[x];
      const bv = (vals[row0 + x0] * (1 - fx) + vals[row0 + x0 + 1] * fx) * (1 - fy) + (vals[row1 + x0] * (1 - fx) + vals[row1 + x0 + 1] * fx) * fy;
      const n = noise[i] * bg.noise;
      // Uint8ClampedArray clamps to 0..255 and rounds half to even
      out[3 * i] = bg.c1[0] + d0 * t + sv * sR + cv * cR + bv * bR + n;
      out[3 * i + 1] = bg.c1[1] + d1 * t + sv * sG + cv * cG + bv * bG + n;
      out[3 * i + 2] = bg.c1[2] + d2 * t + sv * sB + cv * cB + bv * bB + n;
    }
  }
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

/** Grey grain around mid-grey, blended with soft light over the whole picture. */
function grainPixels(scene: Scene): Buffer {
  const S = scene.size;
  const noise = fillNoise(new StreamRng(`${scene.noiseKey}:grain`), S * S);
  const out = new Uint8ClampedArray(S * S * 3);
  for (let i = 0; i < S * S; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = 128 + noise[i] * scene.grain;
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

export function sceneSvg(scene: Scene): string {
  const S = scene.size;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${S}" height="${S}" viewBox="0 0 ${S} ${S}">${scene.under}${scene.objects.map((o) => o.svg).join('')}${scene.over}</svg>`;
}

/** The scene as JPEG bytes. */
export async function renderScene(scene: Scene, quality = 90): Promise<Buffer> {
  const S = scene.size;
  const raw = { width: S, height: S, channels: 3 as const };
  return sharp(backgroundPixels(scene), { raw })
    .composite([
      { input: Buffer.from(sceneSvg(scene)), top: 0, left: 0 },
      { input: grainPixels(scene), raw, blend: 'soft-light' },
    ])
    .jpeg({ quality })
    .toBuffer();
}
