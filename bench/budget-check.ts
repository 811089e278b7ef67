/**
 * Does a subnet fit a latency budget on this machine, and how far is its measurement from the
 * LUT's prediction once the machine's drift is taken out?
 *
 * A shared machine's speed drifts (this project's 2-core VM runs whole minutes 10-30% slower than
 * when its LUTs were profiled), so one measured median mixes the prediction's error with the
 * machine's state. Here the subnet is timed interleaved with reference subnets of the same
 * supernet whose predictions are known; in each repeat the machine's speed factor k is the median
 * of the references' measured / predicted, and the subnet's drift-free error is
 * measured / (k · predicted) − 1.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/budget-check.js --lut lut/ort-cpu-2t/shapes-tiny.json
 *     --config "res=288,patch=16,windows=2,layers=3,queries=100" --budget-ms 15 [--supernet shapes-tiny]
 *     [--repeats 5] [--runs 30] [--pause-s 60]
 *
 * References: the lowest-index config at each of 8 evenly spaced predicted-latency quantiles of
 * the grid (the subnet itself excluded; speed-check.ts's pickReferences). Run on a quiet machine.
 */
import { parseArgs } from 'node:util';
import { exportSubnet } from '../src/detr/export-subnet.js';
import { decodeModel } from '../src/onnx/reader.js';
import { enumerateConfigs, configKey, parseConfig } from '../src/detr/spec.js';
import { loadSupernet } from '../src/detr/supernet.js';
import { loadDevice } from '../src/latency/device.js';
import { readLut } from '../src/latency/lut.js';
import { DEFAULT_MEASURE, measureInterleaved } from '../src/latency/measure.js';
import { modelInputs } from '../src/latency/model-inputs.js';
import { LatencyPredictor } from '../src/latency/predictor.js';
import { checkAvailable, openSession } from '../src/latency/runtime.js';
import { pickReferences, speedFactor } from '../src/latency/speed-check.js';
import { quantile } from '../src/latency/stats.js';

const { values } = parseArgs({
  options: {
    lut: { type: 'string' },
    config: { type: 'string' },
    'budget-ms': { type: 'string' },
    supernet: { type: 'string', default: 'shapes-tiny' },
    repeats: { type: 'string', default: '5' },
    runs: { type: 'string', default: '30' },
    'pause-s': { type: 'string', default: '60' },
  },
});
if (!values.lut || !values.config || !values['budget-ms']) {
  process.stderr.write('usage: node dist/bench/budget-check.js --lut FILE --config KEY --budget-ms N [--supernet shapes-tiny] [--repeats 5] [--runs 30] [--pause-s 60]\n');
  process.exit(2);
}
const net = loadSupernet(values.supernet!);
const lut = readLut(values.lut);
const device = loadDevice(lut.device.name);
await checkAvailable(device);
const predictor = new LatencyPredictor(lut, net.spec.architecture);
const budget = Number(values['budget-ms']);
const target = parseConfig(values.config, net.spec.default);
const grid = enumerateConfigs(net.spec.knobs);
const gridMs = grid.map((c) => predictor.predict(c));
const self = grid.findIndex((c) => configKey(c) === configKey(target));
const refs = pickReferences(gridMs, 8, { exclude: new Set([self]) }).map((i) => grid[i]);
const configs = [target, ...refs];
const predicted = configs.map((c) => predictor.predict(c));
const sessions = [];
for (const c of configs) {
  const bytes = exportSubnet(net, c);
  sessions.push(await openSession(device, bytes, modelInputs(decodeModel(bytes, configKey(c)).graph, configKey(c))));
}
const median = (xs: number[]) => quantile([...xs].sort((a, b) => a - b), 0.5);
console.log(`${configKey(target)} on ${device.name}: predicted ${predicted[0].toFixed(2)} ms, budget ${budget} ms; ${refs.length} references predicted ${predicted.slice(1).map((p) => p.toFixed(1)).join(', ')} ms`);
const repeats = Number(values.repeats);
const drifted: number[] = [];
for (let r = 0; r < repeats; r++) {
  if (r) await new Promise((res) => setTimeout(res, Number(values['pause-s']) * 1000));
  const ms = await measureInterleaved(sessions, { ...DEFAULT_MEASURE, runs: Number(values.runs), seed: r + 1 });
  const ratios = ms.slice(1).map((m, i) => m.median / predicted[i + 1]);
  const k = speedFactor(predicted.slice(1), ms.slice(1).map((m) => m.median));
  const own = ms[0].median;
  const err = own / (k * predicted[0]) - 1;
  drifted.push(err);
  console.log(
    `${new Date().toISOString().slice(11, 19)}  measured ${own.toFixed(2)} ms (IQR ${ms[0].q1.toFixed(2)}-${ms[0].q3.toFixed(2)}) ${own <= budget ? 'within' : 'OVER'} the budget; machine factor k ${k.toFixed(3)} (references' measured/predicted ${ratios.map((x) => x.toFixed(2)).join(' ')}); at the LUT's speed ${(own / k).toFixed(2)} ms, ${(100 * err).toFixed(1)}% from the prediction`,
  );
}
await Promise.all(sessions.map((s) => s.release()));
console.log(`drift-free error of the prediction over ${repeats} repeats: median ${(100 * median(drifted)).toFixed(1)}%, range ${(100 * Math.min(...drifted)).toFixed(1)}% to ${(100 * Math.max(...drifted)).toFixed(1)}%`);
