/**
 * snc's ONNX against torch.onnx.export of the same subnet, on onnxruntime-node CPU.
 *
 * Usage (Python is only needed once, to make the torch ONNX; the bench itself is Node only):
 *
 *   npm run build
 *   SUPERNET=$(node bin/snc.js info --supernet nano --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).dir))')
 *   /usr/bin/python3 train/export_torch_onnx.py --supernet "$SUPERNET" --out out/nano-torch.onnx
 *   node dist/bench/torch-vs-snc.js --torch out/nano-torch.onnx [--snc out/nano.onnx]
 *        [--supernet nano] [--config "res=384,..."] [--runs 30] [--warmup 5] [--threads 1,2]
 *
 * Without --snc the snc model is built in-process from --supernet/--config (the same bytes as
 * `node bin/snc.js export --supernet nano --out X.onnx`). The two models must be the same
 * subnet of the same weights: the bench first runs both on one seeded image and prints the
 * max abs difference of boxes and logits. The preset weights are random, so the two-stage
 * scores of some images have near-ties (gaps of 1e-7..1e-6) that float rounding may order
 * differently, which swaps content queries and changes every output; the bench therefore
 * picks the first seeded image whose top-Q proposal scores (from snc's logits_0) are at least
 * 1e-5 apart, and says which. Then, for each thread count (intraOpNumThreads), it
 * times session.run interleaved (snc, torch, torch, snc, ... alternating which goes first, all
 * thread counts in the same loop) so drift on the machine hits both alike, and prints the
 * median, IQR and IQR/median of each, and ours/torch as the ratio of medians and as the median
 * (with IQR) of the per-iteration paired ratios.
 */
import ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { configKey, parseConfig, validateConfig } from '../src/detr/spec.js';
import { loadSupernet } from '../src/detr/supernet.js';
import { Rng } from '../src/detr/weights.js';
import { exportSubnet } from '../src/detr/export-subnet.js';

const { values } = parseArgs({
  options: {
    torch: { type: 'string' },
    snc: { type: 'string' },
    supernet: { type: 'string', default: 'nano' },
    config: { type: 'string' },
    runs: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '5' },
    threads: { type: 'string', default: '1,2' },
  },
});
if (!values.torch) {
  process.stderr.write('usage: node dist/bench/torch-vs-snc.js --torch TORCH.onnx [--snc SNC.onnx] [--supernet nano] [--config ...] [--runs 30] [--warmup 5] [--threads 1,2]\n');
  process.exit(2);
}
const runs = Number(values.runs);
const warmup = Number(values.warmup);
const threads = values.threads!.split(',').map(Number);

const net = loadSupernet(values.supernet!);
const config = validateConfig(net.spec.knobs, values.config ? parseConfig(values.config, net.spec.default) : net.spec.default);
const sncBytes = values.snc ? new Uint8Array(readFileSync(values.snc)) : exportSubnet(net, config);
const torchBytes = new Uint8Array(readFileSync(values.torch));
const R = config.resolution;
const C = net.spec.architecture.backbone.inChannels;

const MIN_GAP = 1e-5;
const K = net.spec.architecture.numClasses;
const Q = config.queries;
function seededImage(seed: number): Float32Array {
  const rng = new Rng(seed);
  const image = new Float32Array(C * R * R);
  for (let i = 0; i < image.length; i++) image[i] = rng.normal();
  return image;
}

console.log(`supernet ${net.spec.name}, ${configKey(config)}`);
console.log(`snc   ONNX ${(sncBytes.length / 1e6).toFixed(1)} MB${values.snc ? ` (${values.snc})` : ' (built in-process)'}`);
console.log(`torch ONNX ${(torchBytes.length / 1e6).toFixed(1)} MB (${values.torch})`);
console.log(`onnxruntime-node ${ort.env.versions?.common ?? ''}, ${runs} timed runs per model and thread count after ${warmup} warm-up runs, interleaved`);

let feeds: { image: InstanceType<typeof ort.Tensor> } | undefined;
type Session = Awaited<ReturnType<typeof ort.InferenceSession.create>>;
const open = (bytes: Uint8Array, t: number): Promise<Session> =>
  ort.InferenceSession.create(bytes, {
    intraOpNumThreads: t,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // as snc's own measurements: with sessions interleaved, spinning pools fight over the cores
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = d;
  }
  return m;
}

function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function stats(xs: number[]): { median: number; iqr: number; rel: number } {
  const s = [...xs].sort((a, b) => a - b);
  const median = quantile(s, 0.5);
  const iqr = quantile(s, 0.75) - quantile(s, 0.25);
  return { median, iqr, rel: iqr / median };
}

async function timeRun(s: Session): Promise<number> {
  const t0 = performance.now();
  await s.run(feeds!);
  return performance.now() - t0;
}

const sessions = new Map<number, { snc: Session; torch: Session }>();
for (const t of threads) sessions.set(t, { snc: await open(sncBytes, t), torch: await open(torchBytes, t) });

// 1. same outputs, on an image without near-tied proposal scores
{
  const probe = await open(exportSubnet(net, config, { exits: true }), threads[0]);
  let gap = 0;
  let seed = 1234;
  for (; seed < 1234 + 20; seed++) {
    const f = { image: new ort.Tensor('float32', seededImage(seed), [1, C, R, R]) };
    const l0 = (await probe.run(f)).logits_0.data as Float32Array;
    const scores = Array.from({ length: Q }, (_, q) => Math.max(...l0.subarray(q * K, q * K + K)));
    gap = Math.min(...scores.slice(1).map((s, q) => scores[q] - s));
    feeds = f;
    if (gap >= MIN_GAP) break;
  }
  await probe.release();
  console.log(`image: seeded normal (seed ${seed}), smallest gap between consecutive top-${Q} proposal scores ${gap.toExponential(1)}${gap < MIN_GAP ? ' (no seed tried was tie-free; outputs may differ by query order)' : ''}`);
  const { snc, torch } = sessions.get(threads[0])!;
  const a = await snc.run(feeds!);
  const b = await torch.run(feeds!);
  const parts: string[] = [];
  for (const name of ['boxes', 'logits']) {
    if (!a[name] || !b[name]) throw new Error(`output '${name}' is missing from the ${a[name] ? 'torch' : 'snc'} model`);
    const same = a[name].dims.join('x') === b[name].dims.join('x');
    parts.push(`${name} [${a[name].dims.join(', ')}] max abs diff ${same ? maxAbsDiff(a[name].data as Float32Array, b[name].data as Float32Array).toExponential(2) : `SHAPES DIFFER (torch [${b[name].dims.join(', ')}])`}`);
  }
  console.log(`outputs: ${parts.join('; ')}`);
}

// 2. warm-up, then interleaved timing
for (const { snc, torch } of sessions.values())
  for (let i = 0; i < warmup; i++) {
    await snc.run(feeds!);
    await torch.run(feeds!);
  }
const times = new Map<number, { snc: number[]; torch: number[] }>(threads.map((t) => [t, { snc: [], torch: [] }]));
for (let i = 0; i < runs; i++)
  for (const t of threads) {
    const s = sessions.get(t)!;
    const rec = times.get(t)!;
    if (i % 2 === 0) {
      rec.snc.push(await timeRun(s.snc));
      rec.torch.push(await timeRun(s.torch));
    } else {
      rec.torch.push(await timeRun(s.torch));
      rec.snc.push(await timeRun(s.snc));
    }
  }

const fmt = (x: { median: number; iqr: number; rel: number }) => `${x.median.toFixed(1)} ms (IQR ${x.iqr.toFixed(1)} ms, ${(100 * x.rel).toFixed(1)}%)`;
for (const t of threads) {
  const { snc, torch } = times.get(t)!;
  const a = stats(snc);
  const b = stats(torch);
  const paired = stats(snc.map((x, i) => x / torch[i]));
  console.log(`threads ${t}: snc ${fmt(a)} | torch ${fmt(b)} | ours/torch ${(a.median / b.median).toFixed(3)} (paired ${paired.median.toFixed(3)}, IQR ${paired.iqr.toFixed(3)})`);
}
for (const { snc, torch } of sessions.values()) {
  await snc.release();
  await torch.release();
}
