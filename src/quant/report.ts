/**
 * The quantization report of one model: what was quantized and how, each layer's weight and
 * output SQNR, the layers left float and why, file sizes, and (when measured) AP before and
 * after and latency before and after; as JSON and as a markdown table.
 */
import type { LayerReport, QuantizeResult } from './quantize.js';

export interface QuantReport {
  model: { supernet?: string; config?: string; out: string };
  settings: Record<string, unknown>;
  calibrationImages: number;
  fileBytes: { float: number; quantized: number; ratio: number };
  outputsSqnrDb: Record<string, number>;
  ap?: { data: string; images: number; float: number; quantized: number; deltaPoints: number; ap50Float: number; ap50Quantized: number };
  latency?: { device: string; floatMs: number; quantizedMs: number; speedup: number; floatSpread: number; quantizedSpread: number };
  layers: LayerReport[];
  float: QuantizeResult['float'];
  seconds: QuantizeResult['seconds'];
}

const db = (v: number | undefined) => (v === undefined ? '' : Number.isFinite(v) ? v.toFixed(1) : 'exact');

export function markdownReport(r: QuantReport): string {
  const lines: string[] = [];
  lines.push(`# Quantization report: ${r.model.out}`, '');
  lines.push(`- model: ${r.model.supernet ?? '?'} \`${r.model.config ?? '?'}\``);
  lines.push(`- settings: ${Object.entries(r.settings).map(([k, v]) => `${k} ${typeof v === 'string' ? v : JSON.stringify(v)}`).join('; ')}`);
  lines.push(`- calibration images: ${r.calibrationImages}`);
  lines.push(`- file: ${(r.fileBytes.float / 1e6).toFixed(2)} MB float -> ${(r.fileBytes.quantized / 1e6).toFixed(2)} MB (${(100 * r.fileBytes.ratio).toFixed(1)} %)`);
  lines.push(`- outputs against the float model (SQNR, end to end): ${Object.entries(r.outputsSqnrDb).map(([k, v]) => `${k} ${db(v)} dB`).join(', ')}`);
  if (r.ap) lines.push(`- AP@[.5:.95] on ${r.ap.data} (${r.ap.images} images): ${(100 * r.ap.float).toFixed(2)} float -> ${(100 * r.ap.quantized).toFixed(2)} quantized (${r.ap.deltaPoints >= 0 ? '+' : ''}${r.ap.deltaPoints.toFixed(2)} points); AP50 ${(100 * r.ap.ap50Float).toFixed(2)} -> ${(100 * r.ap.ap50Quantized).toFixed(2)}`);
  if (r.latency) lines.push(`- latency on ${r.latency.device}: ${r.latency.floatMs.toFixed(2)} ms float -> ${r.latency.quantizedMs.toFixed(2)} ms (${r.latency.speedup.toFixed(2)}x; IQR/median ${(100 * r.latency.floatSpread).toFixed(0)} % and ${(100 * r.latency.quantizedSpread).toFixed(0)} %, interleaved)`);
  lines.push('', '| layer | op | bits | exponent | weight SQNR dB | output SQNR dB |', '|---|---|---|---|---|---|');
  for (const l of r.layers) lines.push(`| ${l.layer} | ${l.op} | ${l.bits ?? 'act only'} | ${l.exponent?.toFixed(3) ?? ''} | ${db(l.weightSqnrDb)} | ${db(l.outputSqnrDb)} |`);
  lines.push('', 'Output SQNR: the layer quantized alone, on the float model\'s activations, against its float output.', '');
  if (r.float.length) {
    lines.push('Kept float:', '', '| layer | op | why |', '|---|---|---|');
    for (const f of r.float) lines.push(`| ${f.layer} | ${f.op} | ${f.why} |`);
    lines.push('');
  }
  return lines.join('\n');
}
