import { existsSync, readFileSync } from 'node:fs';
import sharp from 'sharp';
import { checkWritable } from '../util/fs.js';
import { evaluateModelBytes } from '../quant/evaluate-model.js';
import { Problems, problemLine } from '../data/problems.js';
import { ResultsWriter, readCocoResults } from '../data/results.js';
import { METRIC_LINES, METRIC_NAMES } from '../eval/coco-eval.js';
import { createSession, defaultThreads, evaluateDetections, evaluateSession, openImages, type EvalReport } from '../eval/evaluate.js';
import { DEFAULT_TOP_K, mapClasses } from '../detr/postprocess.js';
import { configKey, parseConfig, validateConfig } from '../detr/spec.js';
import { loadSupernet } from '../detr/supernet.js';
import { SncError } from '../errors.js';
import { DATA_SET_OPTIONS, readDataSet, requireDataSet, requireImagesDir } from './data-args.js';
import { intOption, parseCommand, progress, progressDone } from './args.js';
import { withoutResamples } from '../eval/bootstrap.js';

const USAGE = `usage: snc eval --supernet DIR|PRESET --data DIR [--config "res=..,patch=..,windows=..,layers=..,queries=.."] [--json]
       snc eval --model FILE.onnx --data DIR [--json]
       snc eval --detections results.json --data DIR [--json]
  COCO bbox metrics (the twelve numbers of pycocotools' COCOeval) of a subnet run with
  onnxruntime-node over a COCO-format folder, of any model snc exported or quantized (--model:
  resolution, pre-processing and class names from the model's metadata), or of a detections
  file in the COCO results format; next to them the class-agnostic numbers (all as one
  category) and, by object size, recall at IoU 0.5 and the class accuracy of matched boxes
  --data DIR            a folder with annotations.json and images/
  --annotations FILE    another annotations file (with or instead of --data)
  --images DIR          another images folder
  --threads N           onnxruntime intra-op threads (default: cores - 1, at least 1)
  --top-k N             detections kept per image (default ${DEFAULT_TOP_K})
  --prefetch N          images decoded ahead of inference (default 4)
  --limit N             only the first N images
  --save-detections F   also write the subnet's detections to F (COCO results format)
  --bootstrap N         also the evaluation's sampling error of AP and AP50: N bootstrap
                        resamples of the images (seeded; std and 90% interval)
  --strict              a missing or undecodable image or a dangling annotation is an error
                        (default: skipped, counted and listed)
`;

const MAX_LISTED = 20;

function peakRssMiB(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

function printReport(r: EvalReport, extra: string[]): void {
  const lines = METRIC_NAMES.map((n) => ` ${METRIC_LINES[n]} = ${r.metrics[n].toFixed(3)}`);
  const skipped = r.skipped.images + r.skipped.annotations + r.skipped.detections;
  lines.push(
    `images ${r.images}, skipped ${skipped ? `${r.skipped.images} images, ${r.skipped.annotations} annotations, ${r.skipped.detections} detections` : 'nothing'}`,
    ...breakdownLines(r),
    ...extra,
  );
  process.stdout.write(lines.join('\n') + '\n');
  for (const p of r.problems.slice(0, MAX_LISTED)) process.stderr.write(`skipped: ${problemLine(p)}\n`);
  if (r.problems.length > MAX_LISTED) process.stderr.write(`skipped: ... and ${r.problems.length - MAX_LISTED} more (--json lists them all)\n`);
}

const pct = (v: number) => (Number.isNaN(v) ? '   -' : `${(100 * v).toFixed(0).padStart(3)}%`);

/** Class-agnostic AP next to AP, and recall / class accuracy of matched boxes by object size. */
function breakdownLines(r: EvalReport): string[] {
  const a = r.breakdown.agnostic;
  return [
    `class-agnostic (one category): AP ${a.AP.toFixed(3)} AP50 ${a.AP50.toFixed(3)} AP75 ${a.AP75.toFixed(3)} APs ${a.APs.toFixed(3)} APm ${a.APm.toFixed(3)} APl ${a.APl.toFixed(3)} AR100 ${a.AR100.toFixed(3)}`,
    'by object size (sqrt(w*h) px): share, recall at IoU 0.5 (any class), class right of matched',
    ...r.breakdown.bySize.map((b) => `  ${b.label.padEnd(6)} ${String(b.objects).padStart(6)} objects ${pct(b.share)}  recall ${pct(b.recall)}  class right ${pct(b.classAccuracy)}`),
    ...(r.spread ? [`sampling error over the images (${r.spread.samples} bootstrap resamples): AP ± ${r.spread.AP.std.toFixed(4)} (90%: ${r.spread.AP.lo90.toFixed(3)}-${r.spread.AP.hi90.toFixed(3)}), AP50 ± ${r.spread.AP50.std.toFixed(4)}`] : []),
  ];
}

export async function run(argv: string[]): Promise<number> {
  const cmd = parseCommand('eval', argv, {
    supernet: { type: 'string' },
    model: { type: 'string' },
    config: { type: 'string' },
    detections: { type: 'string' },
    ...DATA_SET_OPTIONS,
    threads: { type: 'string' },
    'top-k': { type: 'string' },
    prefetch: { type: 'string' },
    limit: { type: 'string' },
    'save-detections': { type: 'string' },
    bootstrap: { type: 'string' },
    strict: { type: 'boolean' },
    json: { type: 'boolean' },
  }, USAGE);
  if (!cmd) return 0;
  const { values } = cmd;
  const { str } = cmd;
  const supernetRef = str('supernet');
  const detectionsFile = str('detections');
  const modelFile = str('model');
  if ([supernetRef, detectionsFile, modelFile].filter((v) => v !== undefined).length !== 1)
    throw new SncError('eval: give one of --supernet (run a subnet), --model (run an ONNX model snc exported) or --detections (score a results file)');
  if (modelFile && values.config !== undefined) throw new SncError('eval: --config applies to --supernet runs; a --model file has its config built in');
  requireDataSet('eval', values, 'a COCO folder with annotations.json and images/');
  for (const flag of detectionsFile ? ['config', 'threads', 'top-k', 'prefetch', 'limit', 'save-detections'] : [])
    if (values[flag] !== undefined) throw new SncError(`eval: --${flag} applies to --supernet runs, not to --detections`);

  const saveTarget = str('save-detections');
  if (saveTarget) checkWritable(saveTarget); // before the images are run
  const problems = new Problems(values.strict === true);
  const ds = readDataSet(values, problems);

  if (detectionsFile) {
    const byImage = readCocoResults(detectionsFile, ds, problems);
    const b = intOption('eval', values.bootstrap, 'bootstrap', 1);
    const r = evaluateDetections(ds, byImage, problems, b ? { bootstrap: { samples: b } } : {});
    const out = { detections: detectionsFile, annotations: ds.annotationsFile, ...reportJson(r) };
    if (values.json) process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    else printReport(r, [`scored in ${r.seconds.toFixed(2)} s`]);
    return 0;
  }

  if (modelFile) return runModel(modelFile, ds, problems, values);

  const net = loadSupernet(supernetRef!);
  const config = validateConfig(net.spec.knobs, str('config') !== undefined ? parseConfig(str('config')!, net.spec.default) : net.spec.default, net.spec.architecture);
  const threads = intOption('eval', values.threads, 'threads', 1) ?? defaultThreads();
  const topK = intOption('eval', values['top-k'], 'top-k', 1) ?? DEFAULT_TOP_K;
  const prefetch = intOption('eval', values.prefetch, 'prefetch', 1) ?? 4;
  const limit = intOption('eval', values.limit, 'limit', 1);
  const bootstrapSamples = intOption('eval', values.bootstrap, 'bootstrap', 1);
  requireImagesDir('eval', ds);
  sharp.cache(false);
  const model = { resolution: config.resolution, preprocess: net.spec.preprocess, classes: net.spec.classes };
  mapClasses(model.classes, ds.categories); // fails early when no class is a category
  const t0 = performance.now();
  // decoding starts now, while the subnet is exported and its session created
  const images = openImages(ds, problems, { model, prefetch, limit });
  const session = await createSession(net, config, threads).catch(async (e) => {
    await images.close();
    throw e;
  });
  const setupSeconds = (performance.now() - t0) / 1000;
  const saveTo = str('save-detections');
  const writer = saveTo ? new ResultsWriter(saveTo) : undefined;
  let r: EvalReport;
  try {
    r = await evaluateSession(session, ds, problems, {
      model,
      images,
      topK,
      prefetch,
      limit,
      detectionsOut: writer,
      ...(bootstrapSamples ? { bootstrap: { samples: bootstrapSamples } } : {}),
      onProgress: (done, total) => {
        if (done % 20 === 0 || done === total) progress(`eval ${done}/${total} images`);
      },
    });
    writer?.commit();
  } catch (e) {
    writer?.abort();
    throw e;
  } finally {
    progressDone();
    await session.release();
  }
  const out = {
    supernet: net.spec.name,
    config: configKey(config),
    annotations: ds.annotationsFile,
    threads,
    setupSeconds,
    ...reportJson(r),
    inferenceSeconds: r.inferenceSeconds,
    unmatchedClasses: r.unmatchedClasses,
    savedDetections: saveTo,
  };
  if (values.json) process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  else
    printReport(r, [
      `${r.imagesPerSecond.toFixed(1)} images/s (${r.seconds.toFixed(1)} s; inference ${((1000 * r.inferenceSeconds!) / Math.max(1, r.images)).toFixed(1)} ms/image on ${threads} thread${threads > 1 ? 's' : ''}), peak RSS ${peakRssMiB()} MiB`,
      ...(r.unmatchedClasses?.length ? [`classes without a category in the data set (not scored): ${r.unmatchedClasses.join(', ')}`] : []),
    ]);
  return 0;
}

/** --model: any ONNX model snc exported or quantized; what it needs is in its metadata. */
async function runModel(file: string, ds: ReturnType<typeof readDataSet>, problems: Problems, values: Record<string, unknown>): Promise<number> {
  if (!existsSync(file)) throw new SncError(`eval: --model ${file} does not exist`);
  const threads = intOption('eval', values.threads, 'threads', 1) ?? defaultThreads();
  const topK = intOption('eval', values['top-k'], 'top-k', 1) ?? DEFAULT_TOP_K;
  const prefetch = intOption('eval', values.prefetch, 'prefetch', 1) ?? 4;
  const limit = intOption('eval', values.limit, 'limit', 1);
  requireImagesDir('eval', ds);
  sharp.cache(false);
  const saveTo = typeof values['save-detections'] === 'string' ? values['save-detections'] : undefined;
  const writer = saveTo ? new ResultsWriter(saveTo) : undefined;
  let r: Awaited<ReturnType<typeof evaluateModelBytes>>;
  try {
    r = await evaluateModelBytes(new Uint8Array(readFileSync(file)), file, ds, problems, {
      threads,
      topK,
      prefetch,
      limit,
      detectionsOut: writer,
      onProgress: (done, total) => {
        if (done % 20 === 0 || done === total) progress(`eval ${done}/${total} images`);
      },
    });
    writer?.commit();
  } catch (e) {
    writer?.abort();
    throw e;
  } finally {
    progressDone();
  }
  const out = {
    model: file,
    supernet: r.info.supernet,
    config: r.info.config,
    quant: r.info.quant,
    annotations: ds.annotationsFile,
    threads,
    setupSeconds: r.setupSeconds,
    ...reportJson(r),
    inferenceSeconds: r.inferenceSeconds,
    unmatchedClasses: r.unmatchedClasses,
    savedDetections: saveTo,
  };
  if (values.json) process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  else
    printReport(r, [
      `${file}: ${r.info.supernet ?? '?'} ${r.info.config ?? ''}${r.info.quant ? ` quantized (${String(r.info.quant.weights)})` : ''}`,
      `${r.imagesPerSecond.toFixed(1)} images/s (${r.seconds.toFixed(1)} s; inference ${((1000 * r.inferenceSeconds!) / Math.max(1, r.images)).toFixed(1)} ms/image on ${threads} thread${threads > 1 ? 's' : ''}), peak RSS ${peakRssMiB()} MiB`,
    ]);
  return 0;
}

function reportJson(r: EvalReport) {
  return {
    images: r.images,
    skipped: r.skipped,
    metrics: r.metrics,
    stats: r.stats,
    perCategory: r.perCategory,
    agnostic: r.breakdown.agnostic,
    bySize: r.breakdown.bySize,
    ...(r.spread ? { spread: withoutResamples(r.spread) } : {}),
    seconds: r.seconds,
    imagesPerSecond: r.imagesPerSecond,
    peakRssMiB: peakRssMiB(),
    problems: r.problems,
  };
}
