/**
 * The geometry of the synthetic shape classes: each is a unit outline (radius 1) that is
 * stretched (aspect ratio), rotated and placed; its box and area are exact for the outline that
 * is drawn (coordinates are rounded to 0.01 px first, and the same rounded numbers go to the SVG).
 */
import type { Box } from './detection.js';

/** The synthetic data set's classes, in category-id order (id = index + 1). */
export const SHAPE_CLASSES = ['circle', 'square', 'triangle', 'star', 'hexagon', 'cross'];

export type ShapeKind = (typeof SHAPE_CLASSES)[number];

function regular(n: number, r: number, start: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = start + (2 * Math.PI * i) / n;
    out.push(r * Math.cos(a), r * Math.sin(a));
  }
  return out;
}

function star(points: number, inner: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < 2 * points; i++) {
    const a = -Math.PI / 2 + (Math.PI * i) / points;
    const r = i % 2 ? inner : 1;
    out.push(r * Math.cos(a), r * Math.sin(a));
  }
  return out;
}

const W = 0.3; // half width of a cross's arms
/** Unit outlines as flat [x0, y0, x1, y1, ...]; the circle is an ellipse, not a polygon. */
const OUTLINES: Record<string, number[] | 'ellipse'> = {
  circle: 'ellipse',
  square: [-1, -1, 1, -1, 1, 1, -1, 1],
  triangle: regular(3, 1, -Math.PI / 2),
  star: star(5, 0.45),
  hexagon: regular(6, 1, 0),
  cross: [-W, -1, W, -1, W, -W, 1, -W, 1, W, W, W, W, 1, -W, 1, -W, W, -1, W, -1, -W, -W, -W],
};

function polygonArea(p: number[]): number {
  let s = 0;
  const n = p.length / 2;
  for (let i = 0; i < n; i++) {
    const j = (i + 1) % n;
    s += p[2 * i] * p[2 * j + 1] - p[2 * j] * p[2 * i + 1];
  }
  return Math.abs(s) / 2;
}

/** Area of the unit outline (before stretching). */
export function unitArea(kind: ShapeKind): number {
  const o = OUTLINES[kind];
  return o === 'ellipse' ? Math.PI : polygonArea(o);
}

const round2 = (v: number) => Math.round(v * 100) / 100;

export interface ShapeParams {
  kind: ShapeKind;
  cx: number;
  cy: number;
  /** Half extents along the shape's own axes: the unit outline is scaled by (sx, sy). */
  sx: number;
  sy: number;
  /** Rotation in degrees, clockwise in image coordinates (y down). */
  angle: number;
}

export interface PlacedShape {
  /** The SVG element without fill attributes: '<polygon points="..."' or '<ellipse ...'. */
  element: string;
  bbox: Box;
  area: number;
}

/** Box of the shape centred at the origin, for placement: [minX, minY, maxX, maxY]. */
export function extent(p: Omit<ShapeParams, 'cx' | 'cy'>): [number, number, number, number] {
  const a = (p.angle * Math.PI) / 180;
  const c = Math.cos(a);
  const s = Math.sin(a);
  const o = OUTLINES[p.kind];
  if (o === 'ellipse') {
    const hx = Math.sqrt((p.sx * c) ** 2 + (p.sy * s) ** 2);
    const hy = Math.sqrt((p.sx * s) ** 2 + (p.sy * c) ** 2);
    return [-hx, -hy, hx, hy];
  }
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (let i = 0; i < o.length; i += 2) {
    const u = o[i] * p.sx;
    const v = o[i + 1] * p.sy;
    const x = u * c - v * s;
    const y = u * s + v * c;
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x);
    y1 = Math.max(y1, y);
  }
  return [x0, y0, x1, y1];
}

/** The drawn outline with its exact box and area. */
export function placeShape(p: ShapeParams): PlacedShape {
  const o = OUTLINES[p.kind];
  if (o === 'ellipse') {
    const cx = round2(p.cx);
    const cy = round2(p.cy);
    const rx = round2(p.sx);
    const ry = round2(p.sy);
    const angle = Math.round(p.angle * 10) / 10;
    const [x0, y0, x1, y1] = extent({ kind: p.kind, sx: rx, sy: ry, angle });
    return {
      element: `<ellipse cx="${cx}" cy="${cy}" rx="${rx}" ry="${ry}" transform="rotate(${angle} ${cx} ${cy})"`,
      bbox: [round2(cx + x0), round2(cy + y0), round2(x1 - x0), round2(y1 - y0)],
      area: round2(Math.PI * rx * ry),
    };
  }
  const a = (p.angle * Math.PI) / 180;
  const c = Math.cos(a);
  const s = Math.sin(a);
  const pts: number[] = [];
  for (let i = 0; i < o.length; i += 2) {
    const u = o[i] * p.sx;
    const v = o[i + 1] * p.sy;
    pts.push(round2(p.cx + u * c - v * s), round2(p.cy + u * s + v * c));
  }
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (let i = 0; i < pts.length; i += 2) {
    x0 = Math.min(x0, pts[i]);
    x1 = Math.max(x1, pts[i]);
    y0 = Math.min(y0, pts[i + 1]);
    y1 = Math.max(y1, pts[i + 1]);
  }
  const list = [];
  for (let i = 0; i < pts.length; i += 2) list.push(`${pts[i]},${pts[i + 1]}`);
  return { element: `<polygon points="${list.join(' ')}"`, bbox: [x0, y0, round2(x1 - x0), round2(y1 - y0)], area: round2(polygonArea(pts)) };
}
