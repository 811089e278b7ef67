/**
 * `snc.config.json`: what `snc build` builds and `snc check` gates. One zod schema is both the
 * validator and, through z.toJSONSchema, the published JSON Schema (snc.config.schema.json at the
 * package root, which editors pick up from the config's "$schema" key).
 *
 * Paths in the file are relative to the file's folder. A bad file gives one SncError line that
 * names the file, the key, its path in the file and what is valid; checks that need the
 * filesystem or the device list (an unknown device, a missing data folder) give the same kind
 * of line from resolveConfig.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { SncError, choices } from '../errors.js';
import { listDevices, loadDevice, type Device } from '../latency/device.js';

/**
 * Precisions a device can be built at: fp32 (the exported float model), int8 (QDQ int8 weights and
 * activations, for a device whose descriptor runs int8 models) and nupes8 / nupes4 (weight-only
 * power-exponent codes decoded at load; the compute stays float, so an fp32 device's LUT holds).
 */
export const PRECISIONS = ['fp32', 'int8', 'nupes8', 'nupes4'] as const;
export type BuildPrecision = (typeof PRECISIONS)[number];
/** The device precision (descriptor) each build precision runs on. */
const RUNS_ON: Record<BuildPrecision, 'fp32' | 'int8'> = { fp32: 'fp32', int8: 'int8', nupes8: 'fp32', nupes4: 'fp32' };
export const RANGE_METHODS = ['minmax', 'percentile', 'entropy', 'mse'] as const;

const folder = (what: string) => z.string().min(1).describe(what);

const SynthSet = z
  .strictObject({
    dir: folder('where the set is written (and found on the next build), relative to the config file'),
    images: z.number().int().min(1).describe('number of images, an integer >= 1'),
    seed: z.number().int().min(0).describe('seed of the set, an integer >= 0; sets of different seeds share no image'),
    size: z.number().int().min(64).default(320).describe('image side in pixels, an integer >= 64 (default 320)'),
  })
  .describe('a synthetic set that snc data synth generates into dir when it is not there yet');

const DataSet = z
  .union([folder('a COCO folder (annotations.json and images/), relative to the config file'), z.strictObject({ synth: SynthSet }).describe('{ "synth": { "dir", "images", "seed", "size" } }')])
  .describe('a COCO folder (annotations.json and images/), or { "synth": { "dir", "images", "seed" } } for a generated synthetic set');

const DeviceOptions = z
  .strictObject({
    lut: z.string().min(1).optional().describe('the LUT file to use (default: lut/<device>/<supernet>.json when it fits this host, else one profiled into the cache)'),
    measureSeconds: z.number().positive().default(3).describe('how long the built model is timed, with its references, in seconds > 0 (default 3)'),
    ranges: z.enum(RANGE_METHODS).default('mse').describe(`int8: how activation ranges are calibrated: ${RANGE_METHODS.join(', ')} (default mse)`),
    perChannel: z.boolean().default(true).describe('int8 and nupes: one weight scale per output channel (default true)'),
    calibrationImages: z.number().int().min(1).default(64).describe('quantized precisions: calibration images used, an integer >= 1 (default 64)'),
  })
  .describe('per-device options');

const DeviceEntry = z
  .strictObject({
    device: z.string().min(1).describe('a device name from devices/ or a descriptor .json file'),
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/)
      .optional()
      .describe('the folder under the build folder (letters, digits, . _ -); default the device name'),
    budgetMs: z.number().positive().describe('the latency budget in milliseconds, a number > 0'),
    precision: z.enum(PRECISIONS).default('fp32').describe(`the precision the model is built at: ${PRECISIONS.join(', ')}`),
    options: DeviceOptions.default({ measureSeconds: 3, ranges: 'mse', perChannel: true, calibrationImages: 64 }),
  })
  .describe('one target device');

const SearchSettings = z
  .strictObject({
    metric: z.enum(['ap', 'ap50']).default('ap').describe('accuracy axis: ap (AP@[.5:.95]) or ap50'),
    exhaustive: z.boolean().default(false).describe('evaluate every subnet on every image (no screening)'),
    workers: z.number().int().min(1).optional().describe('evaluations in parallel, an integer >= 1 (default: cores - 1)'),
    includeUntrained: z.boolean().default(false).describe("search subnets with knob values the weights were not trained at too (supernet.json's untrained)"),
  })
  .describe('how the subnets are searched');

const CheckSettings = z
  .strictObject({
    references: z.number().int().min(2).default(6).describe('reference subnets timed with each model, an integer >= 2'),
    repeats: z.number().int().min(3).default(6).describe('timed repeats before a decision, an integer >= 3'),
    maxRepeats: z.number().int().min(3).default(12).describe('repeats at most while the result is inconclusive, an integer >= 3'),
    repeatSeconds: z.number().positive().default(1).describe('seconds each repeat times at least, > 0'),
    confidence: z.number().gt(0.5).lt(1).default(0.95).describe('confidence of the interval, between 0.5 and 1 (default 0.95)'),
    regressionTolerance: z.number().min(0).default(0.1).describe('how much slower than the baseline a model may be, as a fraction >= 0 (default 0.1)'),
  })
  .describe('how snc check decides');

export const ConfigSchema = z
  .strictObject({
    $schema: z.string().optional().describe('the JSON Schema of this file (snc.config.schema.json)'),
    supernet: z.string().min(1).describe('a supernet folder (supernet.json + weights.safetensors) or a preset name such as shapes-tiny'),
    data: z
      .strictObject({ validation: DataSet, calibration: DataSet.optional().describe('calibration images for devices built at int8 or nupes (a set other than validation)') })
      .describe('the data sets: validation (accuracy of the subnets) and, for quantized devices, calibration'),
    out: z.string().min(1).default('build').describe('the build folder, relative to the config file (default build)'),
    search: SearchSettings.default({ metric: 'ap', exhaustive: false, includeUntrained: false }),
    check: CheckSettings.default({ references: 6, repeats: 6, maxRepeats: 12, repeatSeconds: 1, confidence: 0.95, regressionTolerance: 0.1 }),
    devices: z.array(DeviceEntry).min(1).describe('the target devices, at least one'),
  })
  .describe('snc build / snc check configuration (snc.config.json)');

export type ConfigFile = z.output<typeof ConfigSchema>;

/** The JSON Schema published as snc.config.schema.json. */
export function configJsonSchema(): object {
  return { ...z.toJSONSchema(ConfigSchema, { io: 'input', target: 'draft-2020-12' }), $id: 'https://snc.dev/snc.config.schema.json', title: 'snc.config.json' };
}

/** `devices[0].budgetMs` */
export function formatPath(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${String(p)}` : String(p);
  return s || '(top level)';
}

type AnySchema = z.ZodType;
interface SchemaDef {
  type: string;
  innerType?: AnySchema;
  element?: AnySchema;
  options?: AnySchema[];
  shape?: Record<string, AnySchema>;
}
const defOf = (s: AnySchema): SchemaDef => (s as unknown as { _zod: { def: SchemaDef } })._zod.def;

/** The schema at `path` (through defaults, optionals, arrays; unions: the object option holding the key). */
function schemaAt(schema: AnySchema, path: readonly PropertyKey[]): AnySchema | undefined {
  let s: AnySchema | undefined = schema;
  for (let i = 0; s && i <= path.length; ) {
    const def: SchemaDef = defOf(s);
    if (i === path.length && s.description) return s;
    if (def.type === 'default' || def.type === 'optional' || def.type === 'prefault' || def.type === 'nullable') s = def.innerType;
    else if (i === path.length) return s;
    else if (def.type === 'array' && typeof path[i] === 'number') {
      s = def.element;
      i++;
    } else if (def.type === 'object' && def.shape) {
      s = def.shape[String(path[i])];
      i++;
    } else if (def.type === 'union') s = def.options?.find((o: AnySchema) => defOf(o).shape?.[String(path[i])] !== undefined);
    else return undefined;
  }
  return s;
}

function keysOf(schema: AnySchema | undefined): string[] {
  const def = (schema as unknown as { _zod?: { def: { type: string; shape?: Record<string, unknown>; options?: AnySchema[] } } })?._zod?.def;
  if (def?.type === 'object' && def.shape) return Object.keys(def.shape);
  if (def?.type === 'union') return [...new Set(def.options!.flatMap((o) => keysOf(o)))];
  return [];
}

function valueAt(doc: unknown, path: readonly PropertyKey[]): unknown {
  let v = doc;
  for (const p of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[p] : undefined;
  return v;
}

/** One line for the first problem zod found: the key, its path, the bad value and what is valid. */
export function issueMessage(source: string, doc: unknown, issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    const valid = keysOf(schemaAt(ConfigSchema, issue.path)).filter((k) => k !== '$schema' || issue.path.length === 0);
    const where = issue.path.length ? ` in ${formatPath(issue.path)}` : '';
    return `${source}: unknown key ${issue.keys.map((k) => `'${k}'`).join(', ')}${where}; valid keys are ${choices(valid)}`;
  }
  const value = valueAt(doc, issue.path);
  const at = formatPath(issue.path);
  const what = schemaAt(ConfigSchema, issue.path)?.description;
  if (value === undefined) return `${source}: ${at} is missing${what ? `: ${what}` : ''}`;
  const shown = JSON.stringify(value);
  return `${source}: ${at} ${shown && shown.length > 60 ? shown.slice(0, 57) + '...' : shown} is not valid (${issue.message.replace(/^Invalid (input|option): /, '')})${what ? `; valid: ${what}` : ''}`;
}

/** Parses and validates a config's text; every problem is an SncError naming its key. */
export function parseConfig(text: string, source: string): ConfigFile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new SncError(`${source}: not valid JSON (${(e as Error).message})`);
  }
  const r = ConfigSchema.safeParse(doc);
  if (!r.success) throw new SncError(issueMessage(source, doc, r.error.issues[0]));
  const names = new Map<string, number>();
  r.data.devices.forEach((d, i) => {
    const name = d.name ?? deviceBaseName(d.device);
    const j = names.get(name);
    if (j !== undefined) throw new SncError(`${source}: devices[${i}] builds into '${name}' like devices[${j}]; give one of them another "name"`);
    names.set(name, i);
  });
  return r.data;
}

function deviceBaseName(ref: string): string {
  return ref.replace(/^.*[\\/]/, '').replace(/\.json$/, '');
}

export interface SynthSpec {
  dir: string;
  images: number;
  seed: number;
  size: number;
}

/** A data set: an existing folder, or a synthetic set to generate when absent. */
export type DataSource = { kind: 'folder'; dir: string } | { kind: 'synth'; dir: string; synth: SynthSpec };

export interface DeviceTarget {
  /** Folder name under the build folder. */
  name: string;
  device: Device;
  budgetMs: number;
  precision: BuildPrecision;
  /** The LUT the config names (absolute), if any. */
  lut?: string;
  measureSeconds: number;
  /** Quantization settings (used when precision is not fp32). */
  quant: { ranges: (typeof RANGE_METHODS)[number]; perChannel: boolean; calibrationImages: number };
  /** Index in the config's devices list (for messages). */
  index: number;
}

export interface BuildConfig {
  /** Absolute path of the config file ('(default)' for the embedded one). */
  source: string;
  /** Folder relative paths are resolved from. */
  root: string;
  supernet: string;
  validation: DataSource;
  /** Calibration images (present when a device is built at a quantized precision). */
  calibration?: DataSource;
  out: string;
  search: ConfigFile['search'];
  check: ConfigFile['check'];
  devices: DeviceTarget[];
}

/**
 * Resolves a parsed config against the filesystem: paths made absolute, devices loaded (an
 * unknown one names the valid devices), the validation folder present (unless it is a synthetic
 * set to generate). `only` keeps the named devices (snc build --device).
 */
export function resolveConfig(cfg: ConfigFile, source: string, root: string, only?: readonly string[], opts: { needData?: boolean } = {}): BuildConfig {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(root, p));
  const devices: DeviceTarget[] = cfg.devices.map((d, index) => {
    let device: Device;
    try {
      device = loadDevice(d.device.endsWith('.json') ? abs(d.device) : d.device);
    } catch (e) {
      if (!(e instanceof SncError)) throw e;
      const known = !d.device.endsWith('.json');
      throw new SncError(known ? `${source}: devices[${index}].device '${d.device}' is not a known device; valid devices are ${choices(listDevices())} (or a descriptor .json file)` : `${source}: devices[${index}].device: ${e.message}`);
    }
    if (device.precision !== RUNS_ON[d.precision]) {
      const fit = PRECISIONS.filter((p) => RUNS_ON[p] === device.precision);
      const base = device.name.replace(/-int8$/, '');
      const other = RUNS_ON[d.precision] === 'int8' ? `${base}-int8` : base;
      const hint = listDevices().includes(other) ? `; device ${other} runs ${RUNS_ON[d.precision]} models` : '';
      throw new SncError(`${source}: devices[${index}].precision '${d.precision}' does not fit device ${device.name}, which runs ${device.precision} models; valid precisions on it are ${choices(fit)}${hint}`);
    }
    if (d.precision !== 'fp32' && !cfg.data.calibration)
      throw new SncError(`${source}: devices[${index}].precision '${d.precision}' needs calibration images: data.calibration is missing; valid: a COCO folder, or { "synth": { "dir", "images", "seed" } } (a seed other than the validation set's)`);
    return {
      name: d.name ?? deviceBaseName(d.device),
      device,
      budgetMs: d.budgetMs,
      precision: d.precision,
      lut: d.options.lut ? abs(d.options.lut) : undefined,
      measureSeconds: d.options.measureSeconds,
      quant: { ranges: d.options.ranges, perChannel: d.options.perChannel, calibrationImages: d.options.calibrationImages },
      index,
    };
  });
  let picked = devices;
  if (only && only.length) {
    const names = devices.map((d) => d.name);
    for (const o of only) if (!names.includes(o)) throw new SncError(`--device '${o}' is not in ${source}; valid devices are ${choices(names)}`);
    picked = devices.filter((d) => only.includes(d.name));
  }
  const dataSource = (key: 'validation' | 'calibration', v: z.output<typeof DataSet>): DataSource => {
    if (typeof v !== 'string') return { kind: 'synth', dir: abs(v.synth.dir), synth: { ...v.synth, dir: abs(v.synth.dir) } };
    const dir = abs(v);
    if (opts.needData === false) return { kind: 'folder', dir };
    if (!existsSync(dir) || !statSync(dir).isDirectory())
      throw new SncError(`${source}: data.${key} folder ${v} does not exist (resolved to ${dir}); valid: a COCO folder with annotations.json and images/, or { "synth": { "dir", "images", "seed" } } to generate one`);
    if (!existsSync(join(dir, 'annotations.json'))) throw new SncError(`${source}: data.${key} folder ${v} has no annotations.json; valid: a COCO folder with annotations.json and images/`);
    return { kind: 'folder', dir };
  };
  const validation = dataSource('validation', cfg.data.validation);
  const quantized = picked.some((d) => d.precision !== 'fp32');
  const calibration = cfg.data.calibration && quantized ? dataSource('calibration', cfg.data.calibration) : undefined;
  if (calibration && calibration.dir === validation.dir)
    throw new SncError(`${source}: data.calibration is the validation set (${validation.dir}); valid: another set, so that the accuracy after quantization is measured on images calibration never saw`);
  return { source, root, supernet: cfg.supernet, validation, ...(calibration ? { calibration } : {}), out: abs(cfg.out), search: cfg.search, check: cfg.check, devices: picked };
}

/** The config snc build uses without --config and without snc.config.json: the embedded default. */
export function defaultConfig(): ConfigFile {
  return parseConfig(JSON.stringify(DEFAULT_CONFIG), '(the embedded default config)');
}

/**
 * The embedded default: shapes-tiny, a generated synthetic validation set of 100 images (its 12
 * multi-exit evaluations take about half a minute with 2 workers on this project's 2-core
 * machine; every group is on a front, so the search is exhaustive), and this machine's CPU
 * (2 threads) and WebAssembly devices with budgets that leave a choice on the committed LUTs
 * (fastest subnets 4.2 and 15.8 ms predicted there, slowest 63 and 459 ms).
 */
export const DEFAULT_CONFIG = {
  $schema: './snc.config.schema.json',
  supernet: 'shapes-tiny',
  data: { validation: { synth: { dir: 'out/data/shapes-val', images: 100, seed: 2026, size: 320 } } },
  out: 'build',
  search: { exhaustive: true, workers: 2 },
  devices: [
    { device: 'ort-cpu-2t', budgetMs: 15, precision: 'fp32' },
    { device: 'ort-wasm-1t', budgetMs: 50, precision: 'fp32' },
  ],
} as const;

/** Reads --config FILE, else ./snc.config.json, else the embedded default (resolved from the working folder). */
export function loadConfig(file: string | undefined, only?: readonly string[], opts: { needData?: boolean } = {}): BuildConfig {
  if (file === undefined && !existsSync('snc.config.json')) return resolveConfig(defaultConfig(), '(the embedded default config)', process.cwd(), only, opts);
  const path = resolve(file ?? 'snc.config.json');
  if (!existsSync(path)) throw new SncError(`config: ${file} does not exist (write one, see snc.config.schema.json; or leave --config out to use ./snc.config.json or the embedded default)`);
  return resolveConfig(parseConfig(readFileSync(path, 'utf8'), path), path, dirname(path), only, opts);
}
