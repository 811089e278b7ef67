/**
 * AP of post-training quantization on a held-out set: fp32, then int8 QDQ for every range
 * method x {per-tensor, per-channel} weights, then NUPES power-exponent weights against
 * uniform weights (the same codes with the exponent fixed at 1) at 8, 4 and 3 bits; file sizes.
 * Accuracy, not timing: it may run on a busy machine.
 *
 *   npm run build
 *   node bin/snc.js data synth --out out/calib --images 128 --seed 101
 *   node bin/snc.js data synth --out out/val --images 500 --seed 202
 *   node dist/bench/quant-ap.js --calib out/calib --data out/val [--images 128] [--limit N]
 *        [--supernet shapes-tiny] [--config "res=288,patch=16,windows=1,layers=3,queries=100"]
 *        [--format u8s8|s8s8] [--threads 1] [--out out/quant-ap.json]
 */
import { parseArgs } from 'node:util';
import { readCocoDataset } from '../src/data/coco.js';
import { Problems } from '../src/data/problems.js';
import { buildSubnet } from '../src/detr/model.js';
import { configKey, parseConfig, validateConfig } from '../src/detr/spec.js';
import { loadSupernet } from '../src/detr/supernet.js';
import { encodeModel } from '../src/onnx/writer.js';
import { calibrationSet } from '../src/quant/calibrate.js';
import { evaluateModelBytes } from '../src/quant/evaluate-model.js';
import { checkFormat } from '../src/quant/qdq.js';
import { quantizeModel, type QuantizeOptions, type WeightMode } from '../src/quant/quantize.js';
import { RANGE_METHODS } from '../src/quant/range/index.js';
import { writeFileAtomic } from '../src/util/fs.js';

const { values } = parseArgs({
  options: {
    calib: { type: 'string' },
    data: { type: 'string' },
    images: { type: 'string', default: '128' },
    limit: { type: 'string' },
    supernet: { type: 'string', default: 'shapes-tiny' },
    config: { type: 'string', default: 'res=288,patch=16,windows=1,layers=3,queries=100' },
    format: { type: 'string', default: 'u8s8' },
    threads: { type: 'string', default: '1' },
    only: { type: 'string' },
    out: { type: 'string' },
  },
});
if (!values.calib || !values.data) {
  process.stderr.write('usage: node dist/bench/quant-ap.js --calib DIR --data DIR [--images 128] [--limit N] [--supernet S] [--config C] [--format u8s8|s8s8] [--threads 1] [--only int8|nupes] [--out F.json]\n');
  process.exit(2);
}
const net = loadSupernet(values.supernet!);
const config = validateConfig(net.spec.knobs, parseConfig(values.config!, net.spec.default));
const model = buildSubnet(net, config);
const floatBytes = encodeModel(model);
const set = calibrationSet(values.calib, { resolution: config.resolution, preprocess: net.spec.preprocess }, Number(values.images));
const ds = readCocoDataset(values.data, {}, new Problems(false));
const limit = values.limit ? Number(values.limit) : undefined;
const threads = Number(values.threads);
const format = checkFormat(values.format!);

interface Row {
  name: string;
  ap: number;
  ap50: number;
  deltaPoints: number;
  mb: number;
  percentOfFloat: number;
  seconds: number;
  minLayerSqnrDb?: number;
}
const rows: Row[] = [];
const evalAp = async (bytes: Uint8Array, name: string) => (await evaluateModelBytes(bytes, name, ds, new Problems(false), { threads, limit })).metrics;

process.stderr.write(`${net.spec.name} ${configKey(config)}: ${set.count} calibration images, ${limit ?? ds.images.length} evaluation images\n`);
const f = await evalAp(floatBytes, 'fp32');
const add = (name: string, m: { AP: number; AP50: number }, bytes: number, seconds: number, minSqnr?: number) => {
  const row = { name, ap: m.AP, ap50: m.AP50, deltaPoints: 100 * (m.AP - f.AP), mb: bytes / 1e6, percentOfFloat: (100 * bytes) / floatBytes.length, seconds, minLayerSqnrDb: minSqnr };
  rows.push(row);
  process.stderr.write(`${name}: AP ${(100 * m.AP).toFixed(2)} (${row.deltaPoints >= 0 ? '+' : ''}${row.deltaPoints.toFixed(2)}), ${row.mb.toFixed(2)} MB, ${seconds.toFixed(0)} s\n`);
};
add('fp32', f, floatBytes.length, 0);

async function variant(name: string, opts: QuantizeOptions) {
  const t0 = performance.now();
  const r = await quantizeModel(model, set, { ...opts, sqnrImages: 2 }, { threads });
  const bytes = encodeModel(r.model);
  const m = await evalAp(bytes, name);
  const sq = r.layers.map((l) => l.outputSqnrDb).filter((v): v is number => v !== undefined && Number.isFinite(v));
  add(name, m, bytes.length, (performance.now() - t0) / 1000, sq.length ? Math.min(...sq) : undefined);
}

if (values.only !== 'nupes')
  for (const ranges of RANGE_METHODS)
    for (const perChannel of [false, true]) await variant(`int8 ${format} ${ranges} ${perChannel ? 'per-channel' : 'per-tensor'}`, { ranges, weights: 'int8', perChannel, format });
if (values.only !== 'int8')
  for (const bits of [8, 4, 3]) {
    const weights = `nupes${bits}` as WeightMode;
    await variant(`${bits}-bit weights, uniform (a = 1), per-channel`, { ranges: 'minmax', weights, perChannel: true, format, uniformExponent: true });
    await variant(`${bits}-bit weights, NUPES (a searched), per-channel`, { ranges: 'minmax', weights, perChannel: true, format });
    if (bits < 8) await variant(`${bits}-bit weights, NUPES (a per channel), per-channel`, { ranges: 'minmax', weights, perChannel: true, format, perChannelExponent: true });
  }

const table = [
  `${net.spec.name} \`${configKey(config)}\`, ${set.count} calibration images (${values.calib}), AP on ${limit ?? ds.images.length} images of ${values.data}`,
  '',
  '| model | AP x100 | AP50 x100 | dAP (points) | MB | % of fp32 | min layer SQNR dB |',
  '|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.name} | ${(100 * r.ap).toFixed(2)} | ${(100 * r.ap50).toFixed(2)} | ${r.deltaPoints >= 0 ? '+' : ''}${r.deltaPoints.toFixed(2)} | ${r.mb.toFixed(2)} | ${r.percentOfFloat.toFixed(1)} | ${r.minLayerSqnrDb?.toFixed(1) ?? ''} |`),
].join('\n');
process.stdout.write(table + '\n');
if (values.out) writeFileAtomic(values.out, JSON.stringify({ supernet: net.spec.name, config: configKey(config), calibrationImages: set.count, rows }, null, 2) + '\n');
