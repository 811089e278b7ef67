/**
 * The accuracy table of a trained supernet: `snc eval` (onnxruntime-node, the TypeScript
 * pipeline users run) of configs spread over the knob grid on a held-out set, with each
 * config's parameters and FLOPs; optionally next to PyTorch's numbers for the same configs
 * (train/eval_configs.py) with their difference.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/ap-table.js --data DIR [--supernet shapes-tiny]
 *     [--configs FILE] [--torch torch.json] [--threads 2] [--out FILE.json]
 *
 * --list-configs prints the default list (the input of train/eval_configs.py). --rows FILE.json
 * takes the rows of an earlier --out (same weights, same data) instead of evaluating again, e.g.
 * to add the PyTorch columns once train/eval_configs.py has run.
 * Without --configs it takes TABLE_CONFIGS below (24 configs: every resolution x patch x depth at
 * windows 1 and 100 queries, and the window and query knobs around the default). Prints a
 * markdown table (with the COCO size APs, the class-agnostic AP and AP50, and by object size the
 * recall at IoU 0.5 and the class accuracy of matched boxes); --out writes every number as JSON
 * (atomically).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readCocoDataset } from '../src/data/coco.js';
import { Problems } from '../src/data/problems.js';
import { subnetCost } from '../src/detr/cost.js';
import { createSession, evaluateSession, openImages } from '../src/eval/evaluate.js';
import { configKey, parseConfig, validateConfig, type SubnetConfig } from '../src/detr/spec.js';
import { loadSupernet } from '../src/detr/supernet.js';
import { writeFileAtomic } from '../src/util/fs.js';
import type { SizeBinResult } from '../src/eval/breakdown.js';

export const TABLE_CONFIGS: string[] = [
  ...[160, 224, 288].flatMap((r) => [16, 8].flatMap((p) => [1, 2, 3].map((l) => `res=${r},patch=${p},windows=1,layers=${l},queries=100`))),
  'res=160,patch=16,windows=2,layers=1,queries=30',
  'res=224,patch=16,windows=2,layers=3,queries=60',
  'res=224,patch=16,windows=2,layers=3,queries=100',
  'res=224,patch=16,windows=1,layers=3,queries=30',
  'res=288,patch=8,windows=2,layers=3,queries=100',
  'res=224,patch=8,windows=2,layers=3,queries=60',
];

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    supernet: { type: 'string', default: 'shapes-tiny' },
    configs: { type: 'string' },
    torch: { type: 'string' },
    threads: { type: 'string', default: '2' },
    out: { type: 'string' },
    rows: { type: 'string' },
    'list-configs': { type: 'boolean' },
  },
});
if (values['list-configs']) {
  process.stdout.write(TABLE_CONFIGS.join('\n') + '\n');
  process.exit(0);
}
if (!values.data) {
  process.stderr.write('usage: node dist/bench/ap-table.js --data DIR [--supernet shapes-tiny] [--configs FILE] [--torch torch.json] [--threads 2] [--out FILE.json]\n');
  process.exit(2);
}

const net = loadSupernet(values.supernet!);
const ds = readCocoDataset(values.data, {}, new Problems());
const texts = values.configs ? readFileSync(values.configs, 'utf8').split('\n').map((l) => l.trim()).filter(Boolean) : TABLE_CONFIGS;
const configs: SubnetConfig[] = texts.map((t) => validateConfig(net.spec.knobs, parseConfig(t, net.spec.default)));
const torch: Record<string, { AP: number; AP50: number }> = values.torch ? JSON.parse(readFileSync(values.torch, 'utf8')).configs : {};

interface Row {
  config: string;
  params: number;
  gflops: number;
  AP: number;
  AP50: number;
  metrics: Record<string, number>;
  /** Class-agnostic twelve numbers and the size bins (absent in rows of an older --rows file). */
  agnostic?: Record<string, number>;
  bySize?: SizeBinResult[];
  seconds: number;
  torchAP?: number;
  torchAP50?: number;
}
const rows: Row[] = [];
const earlier = values.rows ? (JSON.parse(readFileSync(values.rows, 'utf8')) as { weightsSha256: string; images: number; rows: Row[] }) : undefined;
if (earlier && (earlier.weightsSha256 !== net.weights.hash || earlier.images !== ds.images.length)) {
  process.stderr.write(`--rows ${values.rows}: made from other weights or data (weights ${earlier.weightsSha256.slice(0, 12)}, ${earlier.images} images; here ${net.weights.hash.slice(0, 12)}, ${ds.images.length})\n`);
  process.exit(2);
}
/** A config's measured row: from the earlier --rows file when it has it, else evaluated now. */
async function measure(c: SubnetConfig): Promise<Row> {
  const key = configKey(c);
  const old = earlier?.rows.find((r) => r.config === key);
  if (old) {
    const { torchAP: _a, torchAP50: _b, ...row } = old;
    return row;
  }
  const problems = new Problems();
  const model = { resolution: c.resolution, preprocess: net.spec.preprocess, classes: net.spec.classes };
  const images = openImages(ds, problems, { model });
  const session = await createSession(net, c, Number(values.threads));
  const r = await evaluateSession(session, ds, problems, { model, images });
  await session.release();
  const cost = subnetCost(net.spec.architecture, c);
  process.stderr.write(`${key}: AP ${r.metrics.AP.toFixed(4)} AP50 ${r.metrics.AP50.toFixed(4)} (${r.seconds.toFixed(1)} s)\n`);
  return {
    config: key,
    params: cost.params,
    gflops: cost.flops / 1e9,
    AP: r.metrics.AP,
    AP50: r.metrics.AP50,
    metrics: r.metrics as unknown as Record<string, number>,
    agnostic: r.breakdown.agnostic as unknown as Record<string, number>,
    bySize: r.breakdown.bySize,
    seconds: r.seconds,
  };
}
for (const c of configs) {
  const row = await measure(c);
  if (torch[row.config]) Object.assign(row, { torchAP: torch[row.config].AP, torchAP50: torch[row.config].AP50 });
  rows.push(row);
}

const withTorch = rows.some((r) => r.torchAP !== undefined);
const bins = rows.find((r) => r.bySize)?.bySize?.map((b) => b.label) ?? [];
const pct = (v: number | null | undefined) => (v === undefined || v === null || Number.isNaN(v) ? '' : (100 * v).toFixed(0));
const head = ['config', 'params (M)', 'GFLOPs', 'AP', 'AP50', 'APs', 'APm', 'APl', 'AP agn.', 'AP50 agn.', ...(bins.length ? [`recall % (${bins.join(' / ')})`, `class right % of matched (${bins.join(' / ')})`] : []), ...(withTorch ? ['PyTorch AP', 'PyTorch AP50', '|ΔAP|'] : [])];
const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
for (const r of rows) {
  const cells = [r.config, (r.params / 1e6).toFixed(2), r.gflops.toFixed(2), r.AP.toFixed(3), r.AP50.toFixed(3), ...(['APs', 'APm', 'APl'] as const).map((k) => r.metrics[k].toFixed(3))];
  cells.push(r.agnostic?.AP.toFixed(3) ?? '', r.agnostic?.AP50.toFixed(3) ?? '');
  if (bins.length) cells.push(r.bySize?.map((b) => pct(b.recall)).join(' / ') ?? '', r.bySize?.map((b) => pct(b.classAccuracy)).join(' / ') ?? '');
  if (withTorch) cells.push(r.torchAP?.toFixed(3) ?? '', r.torchAP50?.toFixed(3) ?? '', r.torchAP !== undefined ? Math.abs(r.AP - r.torchAP).toFixed(4) : '');
  lines.push(`| ${cells.join(' | ')} |`);
}
process.stdout.write(lines.join('\n') + '\n');
if (withTorch) {
  const d = rows.filter((r) => r.torchAP !== undefined).flatMap((r) => [Math.abs(r.AP - r.torchAP!), Math.abs(r.AP50 - r.torchAP50!)]);
  process.stdout.write(`\nlargest |snc - PyTorch| over AP and AP50: ${Math.max(...d).toFixed(4)} (${d.length / 2} configs)\n`);
}
// knob trends: means over the configs at windows 1 and 100 queries, by depth, resolution and patch
const base = configs.map((c, i) => ({ c, row: rows[i] })).filter(({ c }) => c.windows === 1 && c.queries === 100);
for (const [knob, label] of [['layers', 'depth'], ['resolution', 'resolution'], ['patch', 'patch']] as const) {
  const levels = [...new Set(base.map(({ c }) => c[knob]))].sort((a, b) => a - b);
  const mean = (v: number, m: 'AP' | 'AP50') => { const s = base.filter(({ c }) => c[knob] === v); return s.reduce((a, { row }) => a + row[m], 0) / s.length; };
  process.stdout.write(`mean by ${label} (${base.length} configs at windows 1, 100 queries): ${levels.map((v) => `${v}: AP ${mean(v, 'AP').toFixed(4)} AP50 ${mean(v, 'AP50').toFixed(4)}`).join(' | ')}\n`);
}
if (values.out) writeFileAtomic(values.out, JSON.stringify({ supernet: net.dir, weightsSha256: net.weights.hash, data: values.data, images: ds.images.length, rows }, null, 2) + '\n');
