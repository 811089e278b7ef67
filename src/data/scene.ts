/**
 * The random layout of one synthetic image: background, clutter and the labelled shapes, all
 * drawn from a generator keyed by (seed, index). No pixels here: render.ts draws a Scene.
 *
 * Objects: 1 to 30 of the six shape classes, coloured apart from the background under them,
 * stretched (aspect 0.6 to 1.67), rotated, sized so that their area falls in COCO's small
 * (< 32²), medium or large (> 96²) range; drawn in order, each may hide part of those before it
 * but never more than 45% of any one's box. Everything stays inside the image.
 */
import type { Box } from './detection.js';
import { SHAPE_CLASSES } from './shapes.js';
import { StreamRng } from '../util/rng.js';
import { extent, placeShape, unitArea } from './shapes.js';

export type RGB = [number, number, number];

export interface SceneObject {
  /** 0-based index into SHAPE_CLASSES (category id = class + 1). */
  cls: number;
  bbox: Box;
  area: number;
  /** Complete SVG markup of the object (with its gradient definition, if any). */
  svg: string;
}

export interface Background {
  c1: RGB;
  c2: RGB;
  /** Direction of the c1 -> c2 gradient, radians. */
  angle: number;
  /** Sinusoidal stripes: amplitude, frequencies (rad/px), phase, colour direction. */
  stripes?: { amp: number; fx: number; fy: number; phase: number; tint: RGB };
  /** Checkerboard: amplitude, frequencies, phases, colour direction. */
  checker?: { amp: number; fx: number; fy: number; px: number; py: number; tint: RGB };
  /** Smooth coloured blotches: a g x g grid of values in [-1, 1], bilinear, amplitude and colour. */
  blotches?: { amp: number; grid: number; values: number[]; tint: RGB };
  /** Per-pixel grey noise amplitude (triangular, in 0..255 units). */
  noise: number;
}

export interface Scene {
  size: number;
  /** Key of the pixel-noise stream. */
  noiseKey: string;
  background: Background;
  /** Clutter drawn under the objects (SVG markup). */
  under: string;
  objects: SceneObject[];
  /** Thin clutter drawn over the objects. */
  over: string;
  /** Amplitude of the grain laid over the whole picture (0..255 units). */
  grain: number;
}

function hsl(h: number, s: number, l: number): RGB {
  const k = (n: number) => (n + h / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => l - a * Math.max(-1, Math.min(k(n) - 3, Math.min(9 - k(n), 1)));
  return [Math.round(255 * f(0)), Math.round(255 * f(8)), Math.round(255 * f(4))];
}

const css = (c: RGB) => `rgb(${c[0]},${c[1]},${c[2]})`;
const dist = (a: RGB, b: RGB) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
const r2 = (v: number) => Math.round(v * 100) / 100;

function tint(rng: StreamRng): RGB {
  const t: RGB = [rng.uniform(0.4, 1), rng.uniform(0.4, 1), rng.uniform(0.4, 1)];
  return t;
}

function makeBackground(rng: StreamRng, size: number): Background {
  const c1 = hsl(rng.uniform(0, 360), rng.uniform(0, 0.6), rng.uniform(0.15, 0.85));
  const c2 = rng.chance(0.3) ? c1 : hsl(rng.uniform(0, 360), rng.uniform(0, 0.6), rng.uniform(0.15, 0.85));
  const bg: Background = { c1, c2, angle: rng.uniform(0, 2 * Math.PI), noise: rng.uniform(4, 28) };
  const freq = () => rng.logUniform(2 * Math.PI / size, 2 * Math.PI / 4) * (rng.chance(0.5) ? 1 : -1);
  const kinds = rng.int(1, 2);
  for (let i = 0; i < kinds; i++) {
    const k = rng.int(0, 2);
    if (k === 0) bg.stripes = { amp: rng.uniform(8, 50), fx: freq(), fy: freq() * rng.uniform(0, 1), phase: rng.uniform(0, 6.3), tint: tint(rng) };
    else if (k === 1) bg.checker = { amp: rng.uniform(8, 40), fx: Math.abs(freq()), fy: Math.abs(freq()), px: rng.uniform(0, 6.3), py: rng.uniform(0, 6.3), tint: tint(rng) };
    else {
      const grid = rng.int(3, 12);
      bg.blotches = { amp: rng.uniform(15, 70), grid, values: Array.from({ length: grid * grid }, () => rng.uniform(-1, 1)), tint: tint(rng) };
    }
  }
  return bg;
}

/** The background's gradient colour at (x, y), without texture or noise. */
export function gradientAt(bg: Background, size: number, x: number, y: number): RGB {
  const t = gradientT(bg, size, x, y);
  return [bg.c1[0] + (bg.c2[0] - bg.c1[0]) * t, bg.c1[1] + (bg.c2[1] - bg.c1[1]) * t, bg.c1[2] + (bg.c2[2] - bg.c1[2]) * t];
}

export function gradientT(bg: Background, size: number, x: number, y: number): number {
  const t = ((x - size / 2) * Math.cos(bg.angle) + (y - size / 2) * Math.sin(bg.angle)) / (1.4 * size) + 0.5;
  return t < 0 ? 0 : t > 1 ? 1 : t;
}

function clutter(rng: StreamRng, size: number, n: number, maxWidth: number): string {
  let s = '';
  for (let i = 0; i < n; i++) {
    const p = () => r2(rng.uniform(-0.1 * size, 1.1 * size));
    const col = css(hsl(rng.uniform(0, 360), rng.uniform(0, 1), rng.uniform(0.1, 0.9)));
    const w = r2(rng.uniform(0.7, maxWidth));
    const op = r2(rng.uniform(0.3, 0.9));
    if (rng.chance(0.6)) s += `<path d="M${p()} ${p()} Q${p()} ${p()} ${p()} ${p()}" stroke="${col}" stroke-width="${w}" fill="none" opacity="${op}"/>`;
    else {
      const pts = Array.from({ length: rng.int(3, 6) }, () => `${p()},${p()}`).join(' ');
      s += `<polyline points="${pts}" stroke="${col}" stroke-width="${w}" fill="none" stroke-linejoin="round" opacity="${op}"/>`;
    }
  }
  return s;
}

/** Area ranges (shape area, px²) an object may take in an image of this size. */
/** The default smallest object: its shape covers 40 px² (about 6.3 px across). */
export const DEFAULT_MIN_OBJECT_AREA = 40;

function areaRanges(size: number, minArea = DEFAULT_MIN_OBJECT_AREA): { lo: number; hi: number; weight: number }[] {
  const cap = 0.3 * size * size;
  return [
    { lo: Math.max(40, minArea), hi: 1024, weight: 0.4 },
    { lo: 1024, hi: 9216, weight: 0.35 },
    { lo: 9216, hi: 30000, weight: 0.25 },
  ]
    .map((r) => ({ ...r, lo: Math.max(r.lo, minArea), hi: Math.min(r.hi, cap) }))
    .filter((r) => r.hi > r.lo);
}

const MAX_OCCLUSION = 0.45;

/**
 * One scene. `minArea`: the smallest shape area drawn, px² (default 40: the set as it always
 * was); a larger one cuts the size ranges from below (a range left empty is dropped, the others
 * keep their weights), to leave out objects too small to tell apart.
 */
export function makeScene(seed: number, index: number, size: number, minArea = DEFAULT_MIN_OBJECT_AREA): Scene {
  const key = `snc-synth:v1:${seed}:${index}:${size}`;
  const rng = new StreamRng(key);
  const background = makeBackground(rng, size);
  const under = clutter(rng, size, rng.int(0, 8), 4);
  const ranges = areaRanges(size, minArea);
  const wanted = rng.int(1, 30);
  // sizes first, placed largest first (big objects fit while the image is empty; smaller ones
  // then land on and around them), each with a few tries
  const plan = Array.from({ length: wanted }, () => {
    const range = ranges[rng.weighted(ranges.map((r) => r.weight))];
    return { cls: rng.int(0, SHAPE_CLASSES.length - 1), area: rng.logUniform(range.lo, range.hi) };
  }).sort((a, b) => b.area - a.area);
  const objects: SceneObject[] = [];
  const boxArea: number[] = [];
  const hidden: number[] = [];
  /** One try at placing an object; undefined when it does not fit. */
  const tryPlace = (cls: number, area: number): SceneObject | undefined => {
    const kind = SHAPE_CLASSES[cls];
    const aspect = rng.logUniform(0.6, 1 / 0.6);
    const s = Math.sqrt(area / unitArea(kind));
    const sx = s * Math.sqrt(aspect);
    const sy = s / Math.sqrt(aspect);
    const angle = rng.uniform(0, 360);
    const [ex0, ey0, ex1, ey1] = extent({ kind, sx, sy, angle });
    if (ex1 - ex0 > size - 4 || ey1 - ey0 > size - 4) return undefined;
    const cx = rng.uniform(2 - ex0, size - 2 - ex1);
    const cy = rng.uniform(2 - ey0, size - 2 - ey1);
    const placed = placeShape({ kind, cx, cy, sx, sy, angle });
    const b = placed.bbox;
    // the new object may hide at most MAX_OCCLUSION of any earlier object's box
    const cover = objects.map((o) => {
      const w = Math.min(b[0] + b[2], o.bbox[0] + o.bbox[2]) - Math.max(b[0], o.bbox[0]);
      const h = Math.min(b[1] + b[3], o.bbox[1] + o.bbox[3]) - Math.max(b[1], o.bbox[1]);
      return w > 0 && h > 0 ? w * h : 0;
    });
    if (cover.some((c, j) => hidden[j] + c / boxArea[j] > MAX_OCCLUSION)) return undefined;
    cover.forEach((c, j) => (hidden[j] += c / boxArea[j]));
    // a colour that stands out from the background under the object
    const under = gradientAt(background, size, cx, cy);
    let color = hsl(rng.uniform(0, 360), rng.uniform(0.35, 1), rng.uniform(0.2, 0.8));
    for (let k = 0; k < 8 && dist(color, under) < 80; k++) color = hsl(rng.uniform(0, 360), rng.uniform(0.35, 1), rng.uniform(0.2, 0.8));
    if (dist(color, under) < 80) color = under.map((v) => (v < 128 ? 235 : 20)) as RGB;
    const id = `g${objects.length}`;
    let defs = '';
    let fill = css(color);
    if (rng.chance(0.4)) {
      const shade = color.map((v) => Math.max(0, Math.min(255, Math.round(v + rng.uniform(-70, 70))))) as RGB;
      const a = rng.uniform(0, 2 * Math.PI);
      const [x1, y1, x2, y2] = [0.5 - 0.5 * Math.cos(a), 0.5 - 0.5 * Math.sin(a), 0.5 + 0.5 * Math.cos(a), 0.5 + 0.5 * Math.sin(a)].map(r2);
      defs = `<defs><linearGradient id="${id}" x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}"><stop offset="0" stop-color="${css(color)}"/><stop offset="1" stop-color="${css(shade)}"/></linearGradient></defs>`;
      fill = `url(#${id})`;
    }
    const opacity = rng.chance(0.15) ? ` opacity="${r2(rng.uniform(0.75, 0.95))}"` : '';
    return { cls, bbox: b, area: placed.area, svg: `${defs}${placed.element} fill="${fill}"${opacity}/>` };
  };
  for (const { cls, area } of plan)
    for (let attempt = 0; attempt < 30; attempt++) {
      const o = tryPlace(cls, area);
      if (!o) continue;
      objects.push(o);
      boxArea.push(Math.max(o.bbox[2] * o.bbox[3], 1e-6));
      hidden.push(0);
      break;
    }
  // at least one object, whatever happened above
  for (let attempt = 0; objects.length === 0 && attempt < 1000; attempt++) {
    const o = tryPlace(rng.int(0, SHAPE_CLASSES.length - 1), 100);
    if (o) objects.push(o);
  }
  const over = clutter(rng, size, rng.int(0, 3), 1.5);
  return { size, noiseKey: `${key}:noise`, background, under, objects, over, grain: rng.uniform(0, 24) };
}
