/**
 * Does a LUT's calibration read differently when it runs right after the block profiling, in
 * the same process? (Issue #15: nano's ort-wasm-1t calibration read whole subnets at 1.19-1.22x
 * their block sums, its validation, in a fresh process minutes later, at about 0.99x.)
 *
 * In one process: (1) the LUT's calibration subnets measured as the calibration measures them
 * (fresh process), (2) every distinct block timed as the profile times them (one pass), (3) the
 * same calibration subnets again. Prints each subnet's measured / block sum in (1) and (3), and
 * the process's memory after each phase (WebAssembly memory only grows).
 *
 *   npm run build && node dist/bench/calibration-order.js --lut lut/ort-wasm-1t/nano.json --supernet nano \
 *     [--device ort-wasm-1t] [--calibration 4] [--span 0.75] [--runs 12] [--block-runs 3]
 *
 * Run it on a quiet machine: it is a timing.
 */
import { parseArgs } from 'node:util';
import { configKey } from '../src/detr/spec.js';
import { loadSupernet } from '../src/detr/supernet.js';
import { loadDevice } from '../src/latency/device.js';
import { readLut } from '../src/latency/lut.js';
import { DEFAULT_MEASURE } from '../src/latency/measure.js';
import { LatencyPredictor } from '../src/latency/predictor.js';
import { calibrationConfigs, distinctBlocks, measureConfigSamples, timeBlockSamples } from '../src/latency/profiler.js';
import { summarize } from '../src/latency/stats.js';

const { values } = parseArgs({
  options: {
    lut: { type: 'string' },
    supernet: { type: 'string', default: 'nano' },
    device: { type: 'string' },
    calibration: { type: 'string', default: '4' },
    span: { type: 'string', default: '0.75' },
    runs: { type: 'string', default: '12' },
    'block-runs': { type: 'string', default: '3' },
    seed: { type: 'string', default: '1' },
  },
});
if (!values.lut) throw new Error('--lut FILE is required');
const lut = readLut(values.lut);
const net = loadSupernet(values.supernet!);
const device = loadDevice(values.device ?? lut.device.name);
const seed = Number(values.seed);
const raw = new LatencyPredictor({ ...lut, calibration: undefined }, net.spec.architecture);
const configs = calibrationConfigs(net, raw, Number(values.calibration), seed, Number(values.span));
const measure = { ...DEFAULT_MEASURE, runs: Number(values.runs) };
const mib = () => {
  const m = process.memoryUsage();
  return `rss ${(m.rss / 2 ** 20).toFixed(0)} MiB, array buffers ${(m.arrayBuffers / 2 ** 20).toFixed(0)} MiB`;
};
const t0 = performance.now();
const at = () => `${((performance.now() - t0) / 1000).toFixed(0)} s`;

async function subnets(label: string): Promise<number[]> {
  const samples = await measureConfigSamples(net, device, configs, measure, seed, 3);
  const ratios = samples.map((s, i) => summarize(s).median / raw.blockSum(configs[i]));
  samples.forEach((s, i) => {
    const m = summarize(s);
    console.log(`${label}  ${configKey(configs[i]).padEnd(50)} block sum ${raw.blockSum(configs[i]).toFixed(1).padStart(7)} ms  measured ${m.median.toFixed(1).padStart(7)} ms  x${ratios[i].toFixed(3)}  spread ${(100 * m.spread).toFixed(1)}%`);
  });
  console.log(`${label}  median x${summarize(ratios).median.toFixed(3)}; ${mib()}; at ${at()}`);
  return ratios;
}

console.log(`${device.name}, ${net.spec.name}: ${configs.length} calibration subnets, ${measure.runs} runs each over 3 passes; LUT ${values.lut} (its calibration a=${lut.calibration?.a.toFixed(3) ?? '-'})`);
const before = await subnets('fresh process      ');
const items = distinctBlocks(net, device);
for (let g = 0; g < items.length; g += 8) await timeBlockSamples(device, items.slice(g, g + 8), { ...DEFAULT_MEASURE, warmup: 2, runs: Number(values['block-runs']), retries: 0, seed: seed + g });
console.log(`timed ${items.length} blocks (${values['block-runs']} runs each, groups of 8); ${mib()}; at ${at()}`);
const after = await subnets('after the blocks   ');
console.log(`after / fresh, per subnet: ${after.map((a, i) => (a / before[i]).toFixed(3)).join(' ')}; median ${summarize(after.map((a, i) => a / before[i])).median.toFixed(3)}`);
