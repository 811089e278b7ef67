import { existsSync, readdirSync, statSync } from 'node:fs';
import sharp from 'sharp';
import { readCocoDataset } from '../data/coco.js';
import { Problems } from '../data/problems.js';
import { configKey, parseConfig, validateConfig } from '../detr/spec.js';
import { buildSubnet } from '../detr/model.js';
import { loadSupernet } from '../detr/supernet.js';
import { SncError } from '../errors.js';
import { loadDevice } from '../latency/device.js';
import { DEFAULT_MEASURE, measureInterleaved } from '../latency/measure.js';
import { subnetInputs } from '../latency/model-inputs.js';
import { checkAvailable, openSession } from '../latency/runtime.js';
import { encodeModel } from '../onnx/writer.js';
import { calibrationSet, DEFAULT_CALIBRATION_IMAGES } from '../quant/calibrate.js';
import { evaluateModelBytes } from '../quant/evaluate-model.js';
import { checkFormat, formatFor } from '../quant/qdq.js';
import { checkWeightMode, quantizeModel } from '../quant/quantize.js';
import { checkRangeMethod } from '../quant/range/index.js';
import { markdownReport, type QuantReport } from '../quant/report.js';
import { selectTargets } from '../quant/select.js';
import { writeFileAtomic } from '../util/fs.js';
import { intOption, numberOption, parseCommand, progress, progressDone, requireString } from './args.js';

const USAGE = `usage: snc quantize --supernet DIR|PRESET [--config C] --calib DIR --out FILE [options]
  Post-training quantization of a subnet before export: calibrated activation ranges and int8
  QDQ (onnxruntime fuses it into integer kernels), or NUPES power-exponent weights (8/4/3 bits,
  decoded when the session loads)
  --calib DIR           calibration images: a COCO folder (as snc data synth writes)
  --images N            calibration images used (default ${DEFAULT_CALIBRATION_IMAGES})
  --ranges M            activation ranges: minmax, percentile, entropy or mse (default mse;
                        mse also clips the weights at their MSE-optimal clip)
  --percentile P        the percentile method's share (default 99.99)
  --weights W           int8 (QDQ, activations int8 too), nupes8, nupes4 or nupes3 (weight-only
                        power-exponent codes, float compute) (default int8)
  --per-channel         one weight scale per output channel (default: one per tensor)
  --per-channel-exponent  with nupes* and --per-channel: an exponent per output channel
  --float-heads         with nupes*: keep the heads, reference-point head and offset
                        projections float too (int8 always keeps them float)
  --exclude X           keep float: an op type (Conv, MatMul, Gemm), a node name or a layer
                        name (* matches any characters); repeatable
  --device D            the device the model is for: picks the QDQ format (default ort-cpu-1t)
  --format F            s8s8 or u8s8 (overrides the device's choice)
  --data DIR            a held-out COCO folder: AP before and after in the report
  --report FILE         write the report as JSON to FILE and as markdown beside it (.md)
  --measure D           also time the float and the quantized model end to end on device D,
                        interleaved (median of at least --runs runs over 3 s; a quiet machine)
  --runs N              timed runs per model with --measure (default 30)
  --sqnr-images N       calibration images the per-layer SQNR is measured on (default 8)
  --threads N           onnxruntime threads for calibration and evaluation (default 1)
  --force               overwrite --out / --report
  --json                print only the report as JSON on stdout
`;

function hasImages(dir: string): boolean {
  return existsSync(dir) && statSync(dir).isDirectory() && readdirSync(dir).some((f) => /\.(jpe?g|png|webp)$/i.test(f));
}

export async function run(argv: string[]): Promise<number> {
  const cmd = parseCommand('quantize', argv, {
    supernet: { type: 'string' },
    config: { type: 'string' },
    calib: { type: 'string' },
    out: { type: 'string', short: 'o' },
    images: { type: 'string' },
    ranges: { type: 'string' },
    percentile: { type: 'string' },
    weights: { type: 'string' },
    'per-channel': { type: 'boolean' },
    'float-heads': { type: 'boolean' },
    'per-channel-exponent': { type: 'boolean' },
    exclude: { type: 'string', multiple: true },
    device: { type: 'string' },
    format: { type: 'string' },
    data: { type: 'string' },
    report: { type: 'string' },
    measure: { type: 'string' },
    runs: { type: 'string' },
    'sqnr-images': { type: 'string' },
    threads: { type: 'string' },
    force: { type: 'boolean' },
    json: { type: 'boolean' },
  }, USAGE);
  if (!cmd) return 0;
  const { values } = cmd;
  const { str } = cmd;
  // every check before any work, so that bad input writes nothing
  const out = requireString('quantize', values.out, 'out', 'the ONNX file to write');
  const calib = requireString('quantize', values.calib, 'calib', 'a COCO folder of calibration images');
  const ranges = checkRangeMethod(str('ranges') ?? 'mse');
  const weights = checkWeightMode(str('weights') ?? 'int8');
  const images = intOption('quantize', values.images, 'images', 1) ?? DEFAULT_CALIBRATION_IMAGES;
  const percentile = numberOption('quantize', values.percentile, 'percentile', (p) => p > 50 && p <= 100, 'a percentile in (50, 100]');
  const sqnrImages = intOption('quantize', values['sqnr-images'], 'sqnr-images', 0) ?? 8;
  const threads = intOption('quantize', values.threads, 'threads', 1) ?? 1;
  const device = loadDevice(str('device') ?? 'ort-cpu-1t');
  const chosen = str('format') !== undefined ? { format: checkFormat(str('format')!), why: '--format' } : formatFor(device.runtime);
  if (values['per-channel-exponent'] && (weights === 'int8' || !values['per-channel']))
    throw new SncError('quantize: --per-channel-exponent applies to --weights nupes8, nupes4 or nupes3 with --per-channel');
  const reportPath = str('report');
  const measureDevice = str('measure') !== undefined ? loadDevice(str('measure')!) : undefined;
  const runs = intOption('quantize', values.runs, 'runs', 1) ?? 30;
  for (const f of [out, ...(reportPath ? [reportPath, mdPath(reportPath)] : [])])
    if (existsSync(f) && !values.force) throw new SncError(`quantize: ${f} exists; give --force to overwrite it`);
  const dataDir = str('data');
  const problems = new Problems(false);
  const held = dataDir ? readCocoDataset(dataDir, {}, problems) : undefined;
  const net = loadSupernet(requireString('quantize', values.supernet, 'supernet', 'a supernet folder or a preset name'));
  const config = validateConfig(net.spec.knobs, str('config') !== undefined ? parseConfig(str('config')!, net.spec.default) : net.spec.default);
  const set = calibrationSet(calib, { resolution: config.resolution, preprocess: net.spec.preprocess }, images);
  if (!hasImages(set.ds.imagesDir)) throw new SncError(`quantize: --calib ${calib} has no image files in ${set.ds.imagesDir}`);
  const exclude = (values.exclude as string[] | undefined) ?? [];
  const model = buildSubnet(net, config);
  selectTargets(model.graph, { exclude }); // an exclusion naming nothing fails here, before calibration
  sharp.cache(false);

  const phase = (p: string) => (n: number, total: number) => progress(`quantize: ${p} ${n}/${total} images`);
  let current = 'calibration';
  const res = await quantizeModel(
    model,
    set,
    { ranges, weights, perChannel: values['per-channel'] === true, exclude, format: chosen.format, formatWhy: chosen.why, percentile, sqnrImages, ...(values['float-heads'] ? { keepFloatDefaults: true } : {}), perChannelExponent: values['per-channel-exponent'] === true },
    { threads, onPhase: (p) => (current = p), onProgress: (n, total) => phase(current)(n, total) },
  );
  progressDone();
  const floatBytes = encodeModel(model);
  const bytes = encodeModel(res.model);
  const report: QuantReport = {
    model: { supernet: net.spec.name, config: configKey(config), out },
    settings: { weights, ...(weights === 'int8' ? { ranges, format: chosen.format, formatWhy: chosen.why, device: device.name } : {}), perChannel: values['per-channel'] === true, exclude },
    calibrationImages: res.calibrationImages,
    fileBytes: { float: floatBytes.length, quantized: bytes.length, ratio: bytes.length / floatBytes.length },
    outputsSqnrDb: res.outputs,
    layers: res.layers,
    float: res.float,
    seconds: res.seconds,
  };
  if (held && dataDir) {
    const onProgress = (n: number, total: number) => progress(`quantize: AP ${n}/${total} images`);
    const a = await evaluateModelBytes(floatBytes, 'float model', held, new Problems(false), { threads, onProgress });
    const b = await evaluateModelBytes(bytes, out, held, new Problems(false), { threads, onProgress });
    progressDone();
    report.ap = { data: dataDir, images: a.images, float: a.metrics.AP, quantized: b.metrics.AP, deltaPoints: 100 * (b.metrics.AP - a.metrics.AP), ap50Float: a.metrics.AP50, ap50Quantized: b.metrics.AP50 };
  }
  if (measureDevice) {
    await checkAvailable(measureDevice);
    const sessions = [await openSession(measureDevice, floatBytes, subnetInputs(config)), await openSession(measureDevice, bytes, subnetInputs(config))];
    try {
      const [a, b] = await measureInterleaved(sessions, { ...DEFAULT_MEASURE, runs, minSeconds: 3, onRound: (d, t) => progress(`quantize: timing ${d}/${t} runs on ${measureDevice.name}`) });
      report.latency = { device: measureDevice.name, floatMs: a.median, quantizedMs: b.median, speedup: a.median / b.median, floatSpread: a.spread, quantizedSpread: b.spread };
    } finally {
      progressDone();
      await Promise.all(sessions.map((s) => s.release()));
    }
  }
  writeFileAtomic(out, bytes);
  if (reportPath) {
    writeFileAtomic(reportPath, JSON.stringify(report, null, 2) + '\n');
    writeFileAtomic(mdPath(reportPath), markdownReport(report));
  }
  if (values.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else {
    const finite = res.layers.map((l) => l.outputSqnrDb).filter((v): v is number => v !== undefined && Number.isFinite(v));
    process.stdout.write(
      [
        `wrote ${out}: ${weights}${weights === 'int8' ? ` ${chosen.format} (${chosen.why}), ranges ${ranges}` : ''}, ${values['per-channel'] ? 'per-channel' : 'per-tensor'} weights, ${res.layers.length} layers quantized, ${res.float.length} kept float`,
        `file ${(floatBytes.length / 1e6).toFixed(2)} MB -> ${(bytes.length / 1e6).toFixed(2)} MB (${(100 * report.fileBytes.ratio).toFixed(1)} %); calibration on ${res.calibrationImages} images`,
        finite.length ? `layer output SQNR ${Math.min(...finite).toFixed(1)}..${Math.max(...finite).toFixed(1)} dB; outputs end to end ${Object.entries(res.outputs).map(([k, v]) => `${k} ${v.toFixed(1)} dB`).join(', ')}` : '',
        report.latency ? `latency on ${report.latency.device}: ${report.latency.floatMs.toFixed(2)} ms float -> ${report.latency.quantizedMs.toFixed(2)} ms (${report.latency.speedup.toFixed(2)}x)` : '',
        report.ap ? `AP ${(100 * report.ap.float).toFixed(2)} -> ${(100 * report.ap.quantized).toFixed(2)} (${report.ap.deltaPoints.toFixed(2)} points) on ${report.ap.images} images of ${dataDir}` : '',
        reportPath ? `report: ${reportPath}, ${mdPath(reportPath)}` : '',
      ]
        .filter(Boolean)
        .join('\n') + '\n',
    );
  }
  return 0;
}

function mdPath(p: string): string {
  return p.replace(/\.json$/i, '') + '.md';
}
