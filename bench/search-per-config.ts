/**
 * The baseline of issue #6's count: evaluating every config of the grid on its own, one
 * onnxruntime-node run per config over every image (no multi-exit sharing, no pruning), with the
 * same worker pool as `snc search`. Prints the wall time, the fronts per device, and, given a
 * search's pareto.json (`--compare`), whether that search's fronts and metrics equal these.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/search-per-config.js --data DIR --lut FILE [--lut FILE ...]
 *     [--supernet shapes-tiny] [--workers 2] [--compare out/search-acceptance/pruned/pareto.json] [--out FILE.json]
 *
 * Run it on a quiet machine: it is a wall-time measurement.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readCocoDataset } from '../src/data/coco.js';
import { Problems } from '../src/data/problems.js';
import type { CocoMetrics } from '../src/eval/coco-eval.js';
import { subnetCost } from '../src/detr/cost.js';
import { EvalPool } from '../src/eval/pool.js';
import { paretoFront } from '../src/search/pareto.js';
import type { SearchResult } from '../src/search/search.js';
import { configKey, enumerateConfigs } from '../src/detr/spec.js';
import { loadSupernet } from '../src/detr/supernet.js';
import { readLut } from '../src/latency/lut.js';
import { LatencyPredictor } from '../src/latency/predictor.js';
import { writeFileAtomic } from '../src/util/fs.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    supernet: { type: 'string', default: 'shapes-tiny' },
    lut: { type: 'string', multiple: true, default: [] },
    workers: { type: 'string', default: '2' },
    compare: { type: 'string' },
    out: { type: 'string' },
  },
});
if (!values.data || !values.lut!.length) {
  process.stderr.write('usage: node dist/bench/search-per-config.js --data DIR --lut FILE [--lut FILE ...] [--supernet shapes-tiny] [--workers 2] [--compare pareto.json] [--out FILE.json]\n');
  process.exit(2);
}

const net = loadSupernet(values.supernet!);
const ds = readCocoDataset(values.data, {}, new Problems());
const workers = Number(values.workers);
const configs = enumerateConfigs(net.spec.knobs);
const flops = configs.map((c) => subnetCost(net.spec.architecture, c).flops);
const order = configs.map((_, i) => i).sort((a, b) => flops[b] - flops[a] || a - b);
const pool = new EvalPool(net, ds, { workers });
const metrics: (CocoMetrics | null)[] = configs.map(() => null);
const t0 = performance.now();
let done = 0;
const queue = [...order];
const lane = async () => {
  for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
    const c = configs[i];
    const r = await pool.evaluate({ config: c, depths: [c.layers], queries: [c.queries], images: null });
    metrics[i] = r.metrics[configKey(c)];
    done++;
    if (process.stderr.isTTY) process.stderr.write(`\rper-config: ${done}/${configs.length} configs, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
};
await Promise.all(Array.from({ length: workers }, lane));
await pool.close();
const seconds = (performance.now() - t0) / 1000;
if (process.stderr.isTTY) process.stderr.write('\n');

const devices = values.lut!.map((path) => {
  const lut = readLut(path);
  const p = new LatencyPredictor(lut, net.spec.architecture);
  const pts = configs.map((c, i) => ({ latency: p.predict(c), accuracy: metrics[i]!.AP }));
  return { device: lut.device.name, front: paretoFront(pts).map((i) => configKey(configs[i])) };
});
console.log(`per-config exhaustive: ${configs.length} full evaluations (one per config, ${ds.images.length} images each), ${workers} workers, wall ${seconds.toFixed(1)} s`);
for (const d of devices) console.log(`  ${d.device}: front of ${d.front.length}: ${d.front.join(' ; ')}`);

if (values.compare) {
  const s = JSON.parse(readFileSync(values.compare, 'utf8')) as SearchResult;
  let same = true;
  for (const d of devices) {
    const other = s.devices.find((x) => x.device === d.device)?.front.map((f) => f.key) ?? [];
    const eq = JSON.stringify(other) === JSON.stringify(d.front);
    same &&= eq;
    console.log(`  ${d.device}: ${values.compare}'s front ${eq ? 'identical' : `DIFFERENT: ${other.join(' ; ')}`}`);
  }
  const byKey = new Map(s.subnets.map((x) => [x.key, x.metrics]));
  const compared = configs.map((c, i) => ({ key: configKey(c), i })).filter(({ key }) => byKey.get(key));
  const equal = compared.filter(({ key, i }) => JSON.stringify(byKey.get(key)) === JSON.stringify(metrics[i]));
  console.log(`fronts ${same ? 'equal' : 'differ'}; metrics of ${equal.length} of the ${compared.length} subnets ${values.compare} evaluated fully are identical to their own runs; its ${s.counts.fullEvaluations} full evaluations against ${configs.length}: ${(configs.length / s.counts.fullEvaluations).toFixed(2)}x fewer; wall ${s.seconds.toFixed(1)} s against ${seconds.toFixed(1)} s`);
}
if (values.out) writeFileAtomic(values.out, JSON.stringify({ supernet: net.spec.name, weightsSha256: net.weights.hash, data: values.data, images: ds.images.length, workers, seconds, subnets: configs.map((c, i) => ({ key: configKey(c), metrics: metrics[i] })), devices }, null, 1) + '\n');
