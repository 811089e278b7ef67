/**
 * What `snc eval` costs around inference: its whole pipeline (read, decode, resize, normalise,
 * infer, post-process, match, summarise) against bare onnxruntime-node inference of the same
 * session on tensors prepared beforehand, rounds interleaved so that both see the same machine.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/eval-overhead.js [--images 200] [--rounds 6]
 *     [--threads 1] [--data DIR] [--supernet shapes-tiny] [--config "..."] [--json]
 *
 * Each round runs both on the same `--images` images, in alternating order; short rounds keep a
 * shared machine's load swings from favouring either side. Without --data it makes a synthetic set
 * (seed 7, 320 px) in a temporary folder. The decoding thread is started once per process and
 * reused by every round (as when a search evaluates many subnets; `snc eval` starts it while it
 * creates the session).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import sharp from 'sharp';
import { readCocoDataset } from '../src/data/coco.js';
import { Preprocessor } from '../src/data/preprocess.js';
import { Problems } from '../src/data/problems.js';
import { streamImages } from '../src/data/stream.js';
import { synthesize } from '../src/data/synth.js';
import { createSession, evaluateSession } from '../src/eval/evaluate.js';
import { configKey, parseConfig, validateConfig } from '../src/detr/spec.js';
import { loadSupernet } from '../src/detr/supernet.js';

const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '6' },
    threads: { type: 'string', default: '1' },
    prefetch: { type: 'string', default: '4' },
    data: { type: 'string' },
    supernet: { type: 'string', default: 'shapes-tiny' },
    config: { type: 'string' },
    json: { type: 'boolean' },
  },
});
const log = (s: string) => {
  if (!values.json) process.stdout.write(s + '\n');
};

sharp.cache(false);
const N = Number(values.images);
const rounds = Number(values.rounds);
const threads = Number(values.threads);
const prefetch = Number(values.prefetch);
let dir = values.data;
let tmp: string | undefined;
if (!dir) {
  tmp = mkdtempSync(join(tmpdir(), 'snc-bench-eval-'));
  dir = tmp;
  const s = await synthesize({ out: dir, images: N, seed: 7, size: 320 });
  log(`synthetic set: ${N} images in ${s.seconds.toFixed(1)} s (${s.imagesPerSecond.toFixed(1)} images/s)`);
}
try {
  const net = loadSupernet(values.supernet!);
  const config = validateConfig(net.spec.knobs, values.config ? parseConfig(values.config, net.spec.default) : net.spec.default);
  const R = config.resolution;
  const model = { resolution: R, preprocess: net.spec.preprocess, classes: net.spec.classes };
  const ds = readCocoDataset(dir, {}, new Problems());
  const images = Math.min(N, ds.images.length);
  const session = await createSession(net, config, threads);

  // bare: the same session on tensors prepared beforehand
  const prepared: Float32Array[] = [];
  for await (const item of streamImages(ds, new Preprocessor(net.spec.preprocess, R), new Problems(), { limit: images })) {
    prepared.push(item.tensor.slice());
    item.release();
  }
  const bare = async () => {
    const t0 = performance.now();
    for (const x of prepared) await session.run({ image: new ort.Tensor('float32', x, [1, 3, R, R]) });
    return (performance.now() - t0) / 1000;
  };
  const pipeline = async () => {
    const t0 = performance.now();
    const r = await evaluateSession(session, ds, new Problems(), { model, prefetch, limit: images });
    if (r.images !== images) throw new Error(`pipeline evaluated ${r.images} images, expected ${images}`);
    return (performance.now() - t0) / 1000;
  };
  // warm-up
  for (const x of prepared.slice(0, 10)) await session.run({ image: new ort.Tensor('float32', x, [1, 3, R, R]) });

  log(`${net.spec.name} ${configKey(config)}, ${images} images, ${threads} ORT thread(s), prefetch ${prefetch}, ${rounds} interleaved rounds`);
  const rows: { bare: number; pipeline: number }[] = [];
  for (let i = 0; i < rounds; i++) {
    // alternate which goes first, so that neither always follows the other
    const [b, p] = i % 2 === 0 ? [await bare(), await pipeline()] : (([p2, b2]) => [b2, p2])([await pipeline(), await bare()]);
    rows.push({ bare: images / b, pipeline: images / p });
    log(`  round ${i + 1}: bare ${(images / b).toFixed(1)} images/s, snc eval pipeline ${(images / p).toFixed(1)} images/s, ratio ${(b / p).toFixed(3)}`);
  }
  const hmean = (xs: number[]) => xs.length / xs.reduce((s, x) => s + 1 / x, 0);
  const bareIps = hmean(rows.map((r) => r.bare));
  const pipeIps = hmean(rows.map((r) => r.pipeline));
  const ratios = rows.map((r) => r.pipeline / r.bare).sort((a, b) => a - b);
  const median = ratios.length % 2 ? ratios[(ratios.length - 1) / 2] : (ratios[ratios.length / 2 - 1] + ratios[ratios.length / 2]) / 2;
  const result = {
    supernet: net.spec.name,
    config: configKey(config),
    images,
    rounds,
    threads,
    prefetch,
    bareImagesPerSecond: bareIps,
    pipelineImagesPerSecond: pipeIps,
    ratio: pipeIps / bareIps,
    medianRoundRatio: median,
    perRound: rows,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  if (values.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  else log(`overall: bare ${bareIps.toFixed(1)} images/s, snc eval pipeline ${pipeIps.toFixed(1)} images/s, ratio ${result.ratio.toFixed(3)}, median round ratio ${median.toFixed(3)} (target >= 0.85)`);
  await session.release();
} finally {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}
