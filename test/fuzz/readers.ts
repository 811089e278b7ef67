/**
 * Property-based fuzzing of every reader of user files (fast-check): each target starts from a
 * valid input and reads mutated and truncated copies of it, byte-level (truncate, flip, set,
 * insert, delete, duplicate) and, for JSON, structural (a value replaced by another type, an
 * extreme number or an empty container, a key deleted). Every case must end normally or with
 * one SncError line, leave no file behind in its folder but what it was asked to write, and what
 * a reader accepts must be usable (finite predictions, a LUT that writes back and reads again).
 * `npm test` runs a bounded number of cases with a fixed seed (test/fuzz/readers.test.ts);
 * bench/fuzz.ts runs many more.
 */
import fc from 'fast-check';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCocoDataset } from '../../src/data/coco.js';
import { Problems } from '../../src/data/problems.js';
import { readCocoResults } from '../../src/data/results.js';
import { PRESETS } from '../../src/detr/presets.js';
import { configKey, enumerateConfigs, parseConfig, validateConfig } from '../../src/detr/spec.js';
import { readSpec } from '../../src/detr/supernet.js';
import { SncError } from '../../src/errors.js';
import { EvalCache, EVAL_CACHE_VERSION, parseCachedEval, type EvalKey } from '../../src/eval/cache.js';
import { METRIC_NAMES } from '../../src/eval/coco-eval.js';
import { readLut, writeLut } from '../../src/latency/lut.js';
import { modelInputs } from '../../src/latency/model-inputs.js';
import { OpPredictor, parseKernelKey, readOpLut, writeOpLut } from '../../src/latency/op-lut.js';
import { LatencyPredictor } from '../../src/latency/predictor.js';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { decodeModel } from '../../src/onnx/reader.js';
import { readPth } from '../../src/onnx/pth.js';
import { readSafetensors, serializeSafetensors } from '../../src/onnx/safetensors.js';
import { tensor } from '../../src/onnx/tensor.js';
import { encodeModel } from '../../src/onnx/writer.js';
import { opLutDoc } from '../helpers/op-lut-doc.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const spec = PRESETS['shapes-tiny'].spec;

export interface FuzzTarget {
  name: string;
  /** The file name the input is written to. */
  file: string;
  /** A valid input. */
  seed: () => Uint8Array;
  /** JSON inputs also get structural mutations. */
  json: boolean;
  /** Reads the input at `path` (in a fresh folder); returns normally or throws SncError. `out` may be written. */
  read: (path: string, out: string) => unknown | Promise<unknown>;
  /** Cases per run in npm test. */
  runs: number;
}

/** What a reader that answers a bad input with "not there" (the eval cache: a miss) returns. */
export const MISS = Symbol('miss');

const text = (s: string) => new TextEncoder().encode(s);
const json = (v: unknown) => text(JSON.stringify(v, null, 1));
const finite = (v: number, what: string) => {
  if (!Number.isFinite(v)) throw new Error(`accepted input gives a non-finite ${what}: ${v}`);
};

function onnxSeed(): Uint8Array {
  const b = new GraphBuilder('fuzz');
  const x = b.input('images', 'float32', [1, 3, 8, 8]);
  const w = b.initializer('w', tensor('float32', [4, 3, 3, 3], Array.from({ length: 108 }, (_, i) => (i % 7) / 7)));
  const c = b.op('Conv', [x, w], [1, 4, 8, 8], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1] });
  const r = b.op('Relu', [c], [1, 4, 8, 8]);
  const s = b.op('Reshape', [r, b.ints([1, 4, 64])], [1, 4, 64]);
  b.output(b.op('Softmax', [s], [1, 4, 64], { axis: -1 }), 'scores');
  return encodeModel({ graph: b.build(), opset: 17, metadata: { 'snc.note': 'fuzz seed' } });
}

function safetensorsSeed(): Uint8Array {
  const t = new Map([
    ['a.weight', tensor('float32', [2, 3], [1, 2, 3, 4, 5, 6])],
    ['a.bias', tensor('float32', [2], [0.5, -0.5])],
    ['steps', tensor('int64', [1], [7])],
  ]);
  return serializeSafetensors(t, { format: 'snc-supernet' });
}

/** The committed shapes-tiny LUT with its per-run samples dropped (smaller, still valid). */
function lutSeed(): Uint8Array {
  const lut = JSON.parse(readFileSync(join(root, 'lut/ort-cpu-1t/shapes-tiny.json'), 'utf8'));
  for (const e of Object.values(lut.entries) as { samples_ms?: number[] }[]) delete e.samples_ms;
  lut.calibration.samples = lut.calibration.samples.slice(0, 2);
  return json(lut);
}

const cocoFixture = () => JSON.parse(readFileSync(join(root, 'test/fixtures/coco/mixed.json'), 'utf8'));

function cacheKey(): EvalKey {
  return { weights: 'ab'.repeat(32), data: 'cd'.repeat(16), config: configKey(spec.default), topK: 100, images: 'all', evaluator: 'onnxruntime-node 1.30.0' };
}

function cacheSeed(): Uint8Array {
  // a real entry, written by the cache itself
  const dir = mkdtempSync(join(tmpdir(), 'snc-fuzz-cache-'));
  try {
    const cache = new EvalCache(dir);
    cache.put(cacheKey(), { metrics: Object.fromEntries(METRIC_NAMES.map((n, i) => [n, i === 5 ? -1 : 0.1 + i / 20])) as never, images: 200, seconds: 3.5 });
    return new Uint8Array(readFileSync(cache.fileOf(cacheKey())));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const TARGETS: FuzzTarget[] = [
  {
    name: 'onnx',
    file: 'model.onnx',
    seed: onnxSeed,
    json: false,
    runs: 150,
    read: (path) => {
      const m = decodeModel(new Uint8Array(readFileSync(path)), path);
      return modelInputs(m.graph, path);
    },
  },
  {
    name: 'safetensors',
    file: 'weights.safetensors',
    seed: safetensorsSeed,
    json: false,
    runs: 150,
    read: (path) => {
      const st = readSafetensors(path);
      for (const t of st.tensors.values()) if (t.data.length !== t.dims.reduce((p, d) => p * d, 1)) throw new Error(`tensor of ${t.data.length} values for [${t.dims}]`);
    },
  },
  {
    name: 'pth',
    file: 'checkpoint.pth',
    seed: () => new Uint8Array(readFileSync(join(root, 'test/fixtures/pth/views.pth'))),
    json: false,
    runs: 150,
    read: (path) => {
      const ck = readPth(path);
      for (const t of ck.model.values()) if (t.data.length !== t.dims.reduce((p, d) => p * d, 1)) throw new Error(`tensor of ${t.data.length} values for [${t.dims}]`);
      return ck;
    },
  },
  {
    name: 'lut',
    file: 'lut.json',
    seed: lutSeed,
    json: true,
    runs: 60,
    read: (path, out) => {
      const lut = readLut(path);
      const p = new LatencyPredictor(lut, spec.architecture);
      for (const c of enumerateConfigs(spec.knobs).slice(0, 12)) {
        let ms: number;
        try {
          ms = p.predict(c);
        } catch (e) {
          if (e instanceof SncError) continue; // a block it lacks: named, not guessed
          throw e;
        }
        finite(ms, `prediction for ${configKey(c)}`);
      }
      writeLut(out, lut);
      readLut(out);
    },
  },
  {
    name: 'op-lut',
    file: 'ops.json',
    seed: () => json(opLutDoc()),
    json: true,
    runs: 120,
    read: (path, out) => {
      const lut = readOpLut(path);
      const kernels = Object.keys(lut.entries).map((k) => parseKernelKey(k));
      kernels.push({ op: 'Conv', inputs: [{ dtype: 'float', dims: [1, 3, 16, 16] }, { dtype: 'float', dims: [8, 3, 3, 3] }], outputs: [{ dtype: 'float', dims: [1, 8, 16, 16] }] });
      const r = new OpPredictor(lut).predictKernels(kernels);
      finite(r.predictedMs, 'op-LUT prediction');
      writeOpLut(out, lut);
      readOpLut(out);
    },
  },
  {
    name: 'coco-annotations',
    file: 'annotations.json',
    seed: () => json(cocoFixture().gt),
    json: true,
    runs: 120,
    read: (path) => readCocoDataset(undefined, { annotations: path, images: join(path, '..', 'images') }, new Problems()),
  },
  {
    name: 'coco-results',
    file: 'results.json',
    seed: () => json(cocoFixture().results),
    json: true,
    runs: 120,
    read: (path) => {
      const gt = join(path, '..', 'gt.json');
      writeFileSync(gt, JSON.stringify(cocoFixture().gt));
      const ds = readCocoDataset(undefined, { annotations: gt, images: join(path, '..', 'images') }, new Problems());
      rmSync(gt);
      return readCocoResults(path, ds, new Problems());
    },
  },
  {
    name: 'supernet.json',
    file: 'supernet.json',
    seed: () => json(spec),
    json: true,
    runs: 150,
    read: (path) => {
      const s = readSpec(path);
      const configs = enumerateConfigs(s.knobs);
      if (!configs.some((c) => configKey(c) === configKey(s.default))) throw new Error('an accepted supernet.json whose default is not among its subnets');
    },
  },
  {
    name: 'config',
    file: 'config.txt',
    seed: () => text(`${configKey(spec.default)}`),
    json: false,
    runs: 200,
    read: (path) => validateConfig(spec.knobs, parseConfig(readFileSync(path, 'utf8'), spec.default)),
  },
  {
    name: 'eval-cache',
    file: 'entry.json',
    seed: cacheSeed,
    json: true,
    runs: 150,
    read: (path, out) => {
      // a cache entry is never trusted: unreadable or inconsistent is a miss, never an error
      const entry = parseCachedEval(readFileSync(path, 'utf8'), cacheKey());
      if (!entry) return MISS;
      if (entry.version !== EVAL_CACHE_VERSION) throw new Error('accepted an entry of another version');
      for (const n of METRIC_NAMES) if (!(entry.metrics[n] === -1 || (entry.metrics[n] >= 0 && entry.metrics[n] <= 1))) throw new Error(`accepted ${n} = ${entry.metrics[n]}`);
      const cache = new EvalCache(out);
      cache.put(cacheKey(), entry);
      if (!cache.get(cacheKey())) throw new Error('an accepted entry does not survive a put and get');
      rmSync(out, { recursive: true, force: true });
      return entry;
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Mutations

type ByteEdit =
  | { op: 'truncate'; at: number }
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; byte: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; len: number }
  | { op: 'duplicate'; at: number; len: number };

/** A position in [0, 1), uniform (fast-check's doubles crowd near 0, which would keep hitting the first field). */
const at = fc.integer({ min: 0, max: 2 ** 30 - 1 }).map((i) => i / 2 ** 30);
const byteEdit: fc.Arbitrary<ByteEdit> = fc.oneof(
  fc.record({ op: fc.constant('truncate' as const), at }),
  fc.record({ op: fc.constant('flip' as const), at, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('set' as const), at, byte: fc.oneof(fc.constantFrom(0, 0xff, 0x7f, 0x80, 0x22, 0x2c, 0x7b, 0x5b, 0x2d, 0x2e), fc.integer({ min: 0, max: 255 })) }),
  fc.record({ op: fc.constant('insert' as const), at, bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }) }),
  fc.record({ op: fc.constant('delete' as const), at, len: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ op: fc.constant('duplicate' as const), at, len: fc.integer({ min: 1, max: 64 }) }),
);

function applyBytes(input: Uint8Array, edits: readonly ByteEdit[]): Uint8Array {
  let b = input;
  for (const e of edits) {
    const i = Math.floor(e.at * (b.length + 1));
    switch (e.op) {
      case 'truncate':
        b = b.slice(0, i);
        break;
      case 'flip':
      case 'set':
        if (i < b.length) {
          b = b.slice();
          b[i] = e.op === 'flip' ? b[i] ^ (1 << e.bit) : e.byte;
        }
        break;
      case 'insert':
        b = concat(b.subarray(0, i), e.bytes, b.subarray(i));
        break;
      case 'delete':
        b = concat(b.subarray(0, i), b.subarray(i + e.len));
        break;
      case 'duplicate':
        b = concat(b.subarray(0, i + e.len), b.subarray(i));
        break;
    }
  }
  return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

type JsonEdit = { at: number; op: 'number'; scale: number } | { at: number; op: 'replace'; value: unknown } | { at: number; op: 'delete' } | { at: number; op: 'wrap' } | { at: number; op: 'stringify' };

/** Values a careless or hostile file puts where a number, a string or a list belongs. */
const odd = fc.oneof(
  fc.constantFrom(null, true, false, 0, -0, -1, -3, 0.5, 1e308, -1e308, 5e-324, 2 ** 53 + 1, 1e21, '', 'x', 'fast', 'NaN', 'Infinity', '-1', '1e999', '..', '../../../etc/passwd', '/etc/passwd', [], {}, [0], { '': 0 }, 'a'.repeat(300)),
  fc.jsonValue({ maxDepth: 2 }),
);
const jsonEdit: fc.Arbitrary<JsonEdit> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ at, op: fc.constant('replace' as const), value: odd }) },
  { weight: 2, arbitrary: fc.record({ at, op: fc.constant('delete' as const) }) },
  // a number of the file scaled: plausible values that pass the checks and reach what uses them
  { weight: 3, arbitrary: fc.record({ at, op: fc.constant('number' as const), scale: fc.constantFrom(0, 1e-9, 0.5, 1.5, 10, 1e6, 1e300) }) },
  { weight: 1, arbitrary: fc.record({ at, op: fc.constant('wrap' as const) }) },
  { weight: 1, arbitrary: fc.record({ at, op: fc.constant('stringify' as const) }) },
);

/** Every (container, key) of a JSON document, depth first. */
function slots(doc: unknown): [Record<string, unknown> | unknown[], string | number][] {
  const out: [Record<string, unknown> | unknown[], string | number][] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach((x, i) => (out.push([v, i]), walk(x)));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push([v as Record<string, unknown>, k]), walk(x);
  };
  walk(doc);
  return out;
}

function applyJson(doc: unknown, edits: readonly JsonEdit[]): unknown {
  let d = structuredClone(doc);
  for (const e of edits) {
    if (e.op === 'number') {
      const nums = slots(d).filter(([c, k]) => typeof (c as Record<string | number, unknown>)[k] === 'number');
      if (!nums.length) continue;
      const [c, k] = nums[Math.floor(e.at * nums.length)];
      const v = (c as Record<string | number, number>)[k] * e.scale;
      (c as Record<string | number, unknown>)[k] = Number.isInteger((c as Record<string | number, number>)[k]) ? Math.round(v) : v;
      continue;
    }
    const all = slots(d);
    if (!all.length) {
      if (e.op === 'replace') d = e.value;
      continue;
    }
    const [c, k] = all[Math.floor(e.at * all.length)];
    const get = () => (c as Record<string | number, unknown>)[k];
    const set = (v: unknown) => ((c as Record<string | number, unknown>)[k] = v);
    if (e.op === 'replace') set(structuredClone(e.value));
    else if (e.op === 'wrap') set([get()]);
    else if (e.op === 'stringify') set(JSON.stringify(get()) ?? 'undefined');
    else if (Array.isArray(c)) c.splice(k as number, 1);
    else delete (c as Record<string, unknown>)[k];
  }
  return d;
}

export interface Mutation {
  json: JsonEdit[];
  bytes: ByteEdit[];
}

export function mutation(target: FuzzTarget): fc.Arbitrary<Mutation> {
  return (target.json
    ? fc.oneof(
        { weight: 3, arbitrary: fc.record({ json: fc.array(jsonEdit, { minLength: 1, maxLength: 3 }), bytes: fc.constant([]) }) },
        { weight: 1, arbitrary: fc.record({ json: fc.constant([]), bytes: fc.array(byteEdit, { minLength: 1, maxLength: 3 }) }) },
        { weight: 1, arbitrary: fc.record({ json: fc.array(jsonEdit, { maxLength: 2 }), bytes: fc.array(byteEdit, { minLength: 1, maxLength: 2 }) }) },
      )
    : fc.record({ json: fc.constant([]), bytes: fc.array(byteEdit, { minLength: 1, maxLength: 4 }) })) as fc.Arbitrary<Mutation>;
}

export function mutate(seed: Uint8Array, m: Mutation): Uint8Array {
  const start = m.json.length ? json(applyJson(JSON.parse(new TextDecoder().decode(seed)), m.json)) : seed;
  return applyBytes(start, m.bytes);
}

// ---------------------------------------------------------------------------------------------
// Running

export interface FuzzOutcome {
  cases: number;
  accepted: number;
  refused: number;
  /** Slowest case (ms): a reader that nearly hangs shows here. */
  slowestMs: number;
}

/** Runs one case; throws (failing the property) unless it ends normally or with one SncError line and leaves its folder clean. */
export async function runCase(target: FuzzTarget, input: Uint8Array, outcome: FuzzOutcome): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `snc-fuzz-${target.name.replace(/\W/g, '')}-`));
  const path = join(dir, target.file);
  const out = join(dir, target.file.endsWith('.json') ? `out-${target.file}` : 'out');
  writeFileSync(path, input);
  const t0 = performance.now();
  try {
    if ((await target.read(path, out)) === MISS) outcome.refused++;
    else outcome.accepted++;
  } catch (e) {
    if (!(e instanceof SncError)) throw new Error(`${target.name}: not an SncError: ${(e as Error)?.stack ?? e}`);
    if (e.message.includes('\n')) throw new Error(`${target.name}: an SncError of more than one line: ${e.message}`);
    outcome.refused++;
  } finally {
    outcome.slowestMs = Math.max(outcome.slowestMs, performance.now() - t0);
    outcome.cases++;
    const left = readdirSync(dir).filter((f) => f !== target.file && f !== basename(out));
    rmSync(dir, { recursive: true, force: true });
    if (left.length) throw new Error(`${target.name}: left ${left.join(', ')} behind`);
  }
}

/** Fuzzes one target: `runs` cases from `seed`; resolves with the counts, rejects with fast-check's report of the smallest failing case. */
export async function fuzz(target: FuzzTarget, runs: number, seed: number): Promise<FuzzOutcome> {
  const base = target.seed();
  const outcome: FuzzOutcome = { cases: 0, accepted: 0, refused: 0, slowestMs: 0 };
  // the unmutated seed must be accepted (the fuzzer starts from valid input)
  await runCase(target, base, outcome);
  if (outcome.accepted !== 1) throw new Error(`${target.name}: its seed input is refused`);
  await fc.assert(
    fc.asyncProperty(mutation(target), (m) => runCase(target, mutate(base, m), outcome)),
    { numRuns: runs, seed, endOnFailure: true, includeErrorInReport: true },
  );
  return outcome;
}
