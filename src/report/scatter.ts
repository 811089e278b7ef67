/**
 * Small dependency-free SVG charts (scatter with optional lines, bands, rings, vertical
 * markers and vertical error bars), rasterised to PNG with sharp. Used by LUT validation and the Pareto plots.
 */
import sharp from 'sharp';
import { writeFileAtomic } from '../util/fs.js';

export interface Series {
  name: string;
  /** yLo/yHi: a vertical error bar from yLo to yHi (e.g. a 90% interval). */
  points: { x: number; y: number; label?: string; yLo?: number; yHi?: number }[];
  color: string;
  /** Draw as a connected line (sorted by x) instead of dots. */
  line?: boolean;
  radius?: number;
  /** Draw rings instead of filled dots (e.g. to mark a point drawn by another series too). */
  hollow?: boolean;
  /** Write every point's label beside it (default: only for series with radius > 4). */
  labels?: boolean;
}

/** A dashed vertical line across the plot, e.g. a latency budget. */
export interface VLine {
  x: number;
  label: string;
  color: string;
}

export interface Chart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Draw y = x, and a ±band around it (relative), for predicted-vs-measured plots. */
  identity?: { band?: number };
  vLines?: VLine[];
  width?: number;
  height?: number;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceTicks(lo: number, hi: number, n = 5): number[] {
  const span = hi - lo || 1;
  const step0 = span / n;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= n) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

export function renderSvg(c: Chart): string {
  const W = c.width ?? 720;
  const H = c.height ?? 520;
  const m = { l: 70, r: 20, t: 40, b: 55 };
  const pts = c.series.flatMap((s) => s.points);
  const xs = [...pts.map((p) => p.x), ...(c.vLines ?? []).map((v) => v.x)];
  let x0 = Math.min(...xs);
  let x1 = Math.max(...xs);
  let y0 = Math.min(...pts.map((p) => Math.min(p.y, p.yLo ?? p.y)));
  let y1 = Math.max(...pts.map((p) => Math.max(p.y, p.yHi ?? p.y)));
  if (c.identity) {
    x0 = y0 = Math.min(x0, y0);
    x1 = y1 = Math.max(x1, y1);
  }
  const padX = (x1 - x0) * 0.05 || 1;
  const padY = (y1 - y0) * 0.05 || 1;
  x0 -= padX;
  x1 += padX;
  y0 -= padY;
  y1 += padY;
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0)) * (W - m.l - m.r);
  const sy = (y: number) => H - m.b - ((y - y0) / (y1 - y0)) * (H - m.t - m.b);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<defs><clipPath id="plot"><rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}"/></clipPath></defs>`);
  out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(c.title)}</text>`);
  for (const t of niceTicks(x0, x1)) {
    out.push(`<line x1="${sx(t)}" y1="${m.t}" x2="${sx(t)}" y2="${H - m.b}" stroke="#eee"/>`);
    out.push(`<text x="${sx(t)}" y="${H - m.b + 16}" text-anchor="middle">${t}</text>`);
  }
  for (const t of niceTicks(y0, y1)) {
    out.push(`<line x1="${m.l}" y1="${sy(t)}" x2="${W - m.r}" y2="${sy(t)}" stroke="#eee"/>`);
    out.push(`<text x="${m.l - 6}" y="${sy(t) + 4}" text-anchor="end">${t}</text>`);
  }
  out.push(`<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="none" stroke="#888"/>`);
  out.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 12}" text-anchor="middle">${esc(c.xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(c.yLabel)}</text>`);
  if (c.identity) {
    const band = c.identity.band;
    if (band) {
      const poly = [
        [x0, x0 * (1 + band)],
        [x1, x1 * (1 + band)],
        [x1, x1 * (1 - band)],
        [x0, x0 * (1 - band)],
      ];
      out.push(`<polygon points="${poly.map(([x, y]) => `${sx(x)},${sy(y)}`).join(' ')}" fill="#4a90d9" fill-opacity="0.12" clip-path="url(#plot)"/>`);
    }
    out.push(`<line x1="${sx(x0)}" y1="${sy(x0)}" x2="${sx(x1)}" y2="${sy(x1)}" stroke="#4a90d9" stroke-dasharray="4 3"/>`);
  }
  (c.vLines ?? []).forEach((v, j) => {
    out.push(`<line x1="${sx(v.x)}" y1="${m.t}" x2="${sx(v.x)}" y2="${H - m.b}" stroke="${v.color}" stroke-dasharray="6 4"/>`);
    // labels stacked upwards, on the side of the line with more room
    const right = sx(v.x) < (m.l + W - m.r) / 2;
    out.push(`<text x="${sx(v.x) + (right ? 4 : -4)}" y="${H - m.b - 6 - 16 * j}" text-anchor="${right ? 'start' : 'end'}" fill="${v.color}">${esc(v.label)}</text>`);
  });
  c.series.forEach((s, si) => {
    if (s.line) {
      const sorted = [...s.points].sort((a, b) => a.x - b.x);
      out.push(`<polyline points="${sorted.map((p) => `${sx(p.x)},${sy(p.y)}`).join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    }
    const paint = s.hollow ? `fill="none" stroke="${s.color}" stroke-width="1.5"` : `fill="${s.color}" fill-opacity="0.8"`;
    const r = s.radius ?? 3.5;
    for (const p of s.points) {
      if (p.yLo !== undefined && p.yHi !== undefined) {
        const x = sx(p.x).toFixed(1);
        const [a, b] = [sy(p.yLo).toFixed(1), sy(p.yHi).toFixed(1)];
        out.push(`<path d="M${x} ${a}V${b}M${+x - 3} ${a}h6M${+x - 3} ${b}h6" stroke="${s.color}" stroke-width="1.2" fill="none"/>`);
      }
      out.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="${r}" ${paint}><title>${esc(p.label ?? `${p.x}, ${p.y}`)}</title></circle>`);
      if (p.label && (s.labels ?? r > 4)) {
        // right of the point, or left of it in the right half of the plot, so that it stays inside
        const left = sx(p.x) > (m.l + W - m.r) / 2;
        out.push(`<text x="${sx(p.x) + (left ? -1 : 1) * (r + 4)}" y="${sy(p.y) - r - 2}"${left ? ' text-anchor="end"' : ''}>${esc(p.label)}</text>`);
      }
    }
    const ly = m.t + 16 + si * 16;
    out.push(`<circle cx="${m.l + 14}" cy="${ly - 4}" r="4" ${paint}/><text x="${m.l + 24}" y="${ly}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

/** Writes chart.svg and chart.png (rasterised by sharp) atomically. */
export async function writeChart(basePath: string, c: Chart): Promise<{ svg: string; png: string }> {
  const svg = renderSvg(c);
  const png = await sharp(Buffer.from(svg)).png().toBuffer();
  writeFileAtomic(`${basePath}.svg`, svg);
  writeFileAtomic(`${basePath}.png`, png);
  return { svg: `${basePath}.svg`, png: `${basePath}.png` };
}
