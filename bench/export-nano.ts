/**
 * Export time of `nano` at its default config, and byte-identity of a second export.
 *
 *   npm run build && node dist/bench/export-nano.js [--supernet nano] [--repeats 5]
 *
 * Times loading the supernet once, then exportSubnet (build + serialise) `repeats` times,
 * and prints the median with its range, and whether every export gave the same bytes.
 */
import { parseArgs } from 'node:util';
import { exportSubnet } from '../src/detr/export-subnet.js';
import { loadSupernet, sha256 } from '../src/detr/supernet.js';
import { summarize } from '../src/latency/stats.js';

const { values } = parseArgs({ options: { supernet: { type: 'string', default: 'nano' }, repeats: { type: 'string', default: '5' } } });
const t0 = performance.now();
const net = loadSupernet(values.supernet!);
const loadMs = performance.now() - t0;
const times: number[] = [];
const hashes = new Set<string>();
let size = 0;
for (let i = 0; i < Number(values.repeats); i++) {
  const t = performance.now();
  const bytes = exportSubnet(net, net.spec.default);
  times.push(performance.now() - t);
  hashes.add(sha256(bytes));
  size = bytes.length;
}
const s = summarize(times);
console.log(`supernet ${net.spec.name}, default config, ${(size / 1e6).toFixed(1)} MB ONNX`);
console.log(`load supernet (read + check + hash weights): ${(loadMs / 1000).toFixed(2)} s`);
console.log(`export (build + serialise): median ${(s.median / 1000).toFixed(3)} s, min ${(Math.min(...times) / 1000).toFixed(3)} s, max ${(Math.max(...times) / 1000).toFixed(3)} s over ${times.length}`);
console.log(`load + one export: ${((loadMs + times[0]) / 1000).toFixed(2)} s`);
console.log(`byte-identical: ${hashes.size === 1 ? 'yes' : 'NO'} (${[...hashes].map((h) => h.slice(0, 12)).join(', ')})`);
