/**
 * In-process prediction speed: predictions per second over a supernet's whole grid.
 *
 *   npm run build && node dist/bench/predict-speed.js --lut lut/ort-cpu-1t/nano.json --supernet nano
 *
 * Without --lut a synthetic LUT (every key 1 ms) is used: speed does not depend on values.
 */
import { parseArgs } from 'node:util';
import { enumerateConfigs } from '../src/detr/spec.js';
import { loadSupernet } from '../src/detr/supernet.js';
import { readLut, type Lut } from '../src/latency/lut.js';
import { LatencyPredictor } from '../src/latency/predictor.js';
import { distinctBlocks } from '../src/latency/profiler.js';

const { values } = parseArgs({ options: { lut: { type: 'string' }, supernet: { type: 'string', default: 'nano' }, seconds: { type: 'string', default: '2' } } });
const net = loadSupernet(values.supernet!);
let lut: Lut;
if (values.lut) lut = readLut(values.lut);
else {
  const entries: Lut['entries'] = {};
  for (const it of distinctBlocks(net)) entries[it.key] = { kind: it.kind, median_ms: 1, q1_ms: 1, q3_ms: 1, spread: 0, runs: 1, retries: 0 };
  lut = { entries } as Lut;
}
const p = new LatencyPredictor(lut, net.spec.architecture);
const grid = enumerateConfigs(net.spec.knobs);
let sink = 0;
for (const c of grid) sink += p.predict(c); // warm-up
let n = 0;
const t0 = performance.now();
const limit = Number(values.seconds) * 1000;
while (performance.now() - t0 < limit) {
  for (const c of grid) sink += p.predict(c);
  n += grid.length;
}
const s = (performance.now() - t0) / 1000;
console.log(`${net.spec.name}: ${grid.length} configs in the grid; ${n} predictions in ${s.toFixed(2)} s = ${Math.round(n / s).toLocaleString('en-US')} predictions/s (checksum ${sink.toExponential(3)})`);
