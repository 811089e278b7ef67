import test from 'ava';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configJsonSchema, DEFAULT_CONFIG, defaultConfig, loadConfig, parseConfig, resolveConfig } from '../../src/export/config.js';
import { SncError } from '../../src/errors.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'snc-config-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));

const good = { supernet: 'shapes-tiny', data: { validation: 'val' }, devices: [{ device: 'ort-cpu-1t', budgetMs: 15 }] };
const msg = (doc: unknown) => {
  const e = (() => {
    try {
      parseConfig(typeof doc === 'string' ? doc : JSON.stringify(doc), 'snc.config.json');
    } catch (e) {
      return e;
    }
  })();
  if (!(e instanceof SncError)) throw new Error(`expected an SncError for ${JSON.stringify(doc)}, got ${e}`);
  return e.message;
};

test('a good config parses with its defaults filled in', (t) => {
  const c = parseConfig(JSON.stringify(good), 'x');
  t.like(c, { out: 'build', search: { metric: 'ap', exhaustive: false }, check: { repeats: 6, confidence: 0.95 } });
  t.like(c.devices[0], { device: 'ort-cpu-1t', budgetMs: 15, precision: 'fp32', options: { measureSeconds: 3 } });
});

test('the committed snc.config.json is the embedded default, and snc.config.schema.json is the schema zod emits', (t) => {
  t.deepEqual(JSON.parse(readFileSync(join(root, 'snc.config.json'), 'utf8')), DEFAULT_CONFIG);
  t.deepEqual(JSON.parse(readFileSync(join(root, 'snc.config.schema.json'), 'utf8')), JSON.parse(JSON.stringify(configJsonSchema())), 'regenerate it: node bin/snc.js build --schema > snc.config.schema.json');
  t.is(defaultConfig().devices.length, 2);
});

test('the JSON Schema says the same as the validator: required keys, no unknown keys, the precision enum', (t) => {
  const s = configJsonSchema() as { required: string[]; additionalProperties: boolean; properties: Record<string, { items?: { required: string[]; properties: Record<string, { enum?: string[] }> } }> };
  t.deepEqual(s.required.sort(), ['data', 'devices', 'supernet']);
  t.false(s.additionalProperties);
  t.deepEqual(s.properties.devices.items!.required.sort(), ['budgetMs', 'device']);
  t.deepEqual(s.properties.devices.items!.properties.precision.enum, ['fp32', 'int8', 'nupes8', 'nupes4']);
});

test('malformed JSON: one line naming the file', (t) => {
  t.regex(msg('{ "supernet": '), /^snc\.config\.json: not valid JSON \(/);
});

test('an unknown key names its path and the valid keys', (t) => {
  t.is(msg({ ...good, devices: [{ device: 'ort-cpu-1t', budget: 15, budgetMs: 15 }] }), "snc.config.json: unknown key 'budget' in devices[0]; valid keys are device, name, budgetMs, precision or options");
  t.is(msg({ ...good, extra: 1 }), "snc.config.json: unknown key 'extra'; valid keys are $schema, supernet, data, out, search, check or devices");
});

test('a bad value names the key, its path, the value and what is valid', (t) => {
  t.is(msg({ ...good, devices: [{ device: 'ort-cpu-1t', budgetMs: -3 }] }), 'snc.config.json: devices[0].budgetMs -3 is not valid (Too small: expected number to be >0); valid: the latency budget in milliseconds, a number > 0');
  t.regex(msg({ ...good, devices: [{ device: 'ort-cpu-1t', budgetMs: 15, precision: 'int4' }] }), /^snc\.config\.json: devices\[0\]\.precision "int4" is not valid \(expected one of "fp32"\|"int8"\|"nupes8"\|"nupes4"\); valid: the precision the model is built at: fp32, int8, nupes8, nupes4$/);
  t.regex(msg({ ...good, devices: [{ device: 'ort-cpu-1t' }] }), /^snc\.config\.json: devices\[0\]\.budgetMs is missing: the latency budget in milliseconds/);
  t.regex(msg({ ...good, devices: [] }), /^snc\.config\.json: devices \[\] is not valid .*; valid: the target devices, at least one$/);
  t.regex(msg({ ...good, check: { confidence: 2 } }), /^snc\.config\.json: check\.confidence 2 is not valid/);
});

test('two devices building into one folder are refused', (t) => {
  t.regex(msg({ ...good, devices: [{ device: 'ort-cpu-1t', budgetMs: 15 }, { device: 'ort-cpu-1t', budgetMs: 20 }] }), /devices\[1\] builds into 'ort-cpu-1t' like devices\[0\]; give one of them another "name"/);
});

test('resolveConfig: an unknown device names the valid ones; a missing data folder is named; paths are relative to the config', (t) => {
  const dir = join(tmp, 'proj');
  mkdirSync(join(dir, 'val', 'images'), { recursive: true });
  writeFileSync(join(dir, 'val', 'annotations.json'), '{}');
  const ok = resolveConfig(parseConfig(JSON.stringify(good), 'c'), 'c', dir);
  t.is(ok.validation.dir, join(dir, 'val'));
  t.is(ok.out, join(dir, 'build'));
  t.is(ok.devices[0].device.name, 'ort-cpu-1t');
  const e1 = t.throws(() => resolveConfig(parseConfig(JSON.stringify({ ...good, devices: [{ device: 'ort-tpu', budgetMs: 5 }] }), 'c'), 'c', dir), { instanceOf: SncError });
  t.regex(e1.message, /^c: devices\[0\]\.device 'ort-tpu' is not a known device; valid devices are .*ort-cpu-1t.*ort-wasm-1t/);
  const e2 = t.throws(() => resolveConfig(parseConfig(JSON.stringify({ ...good, data: { validation: 'nowhere' } }), 'c'), 'c', dir), { instanceOf: SncError });
  t.regex(e2.message, /^c: data\.validation folder nowhere does not exist/);
  const e3 = t.throws(() => resolveConfig(parseConfig(JSON.stringify(good), 'c'), 'c', dir, ['ort-wasm-1t']), { instanceOf: SncError });
  t.is(e3.message, "--device 'ort-wasm-1t' is not in c; valid devices are ort-cpu-1t");
});

test('resolveConfig: a precision the device does not run, and a quantized device without calibration images, are named', (t) => {
  const dir = join(tmp, 'projq');
  mkdirSync(join(dir, 'val', 'images'), { recursive: true });
  writeFileSync(join(dir, 'val', 'annotations.json'), '{}');
  const res = (doc: unknown) => t.throws(() => resolveConfig(parseConfig(JSON.stringify(doc), 'c'), 'c', dir), { instanceOf: SncError }).message;
  t.is(res({ ...good, devices: [{ device: 'ort-cpu-2t', budgetMs: 5, precision: 'int8' }] }), "c: devices[0].precision 'int8' does not fit device ort-cpu-2t, which runs fp32 models; valid precisions on it are fp32, nupes8 or nupes4; device ort-cpu-2t-int8 runs int8 models");
  t.is(res({ ...good, devices: [{ device: 'ort-wasm-1t-int8', budgetMs: 5 }] }), "c: devices[0].precision 'fp32' does not fit device ort-wasm-1t-int8, which runs int8 models; valid precisions on it are int8; device ort-wasm-1t runs fp32 models");
  t.regex(res({ ...good, devices: [{ device: 'ort-cpu-2t-int8', budgetMs: 5, precision: 'int8' }] }), /^c: devices\[0\]\.precision 'int8' needs calibration images: data\.calibration is missing; valid: a COCO folder/);
  t.regex(res({ ...good, data: { validation: 'val', calibration: 'val' }, devices: [{ device: 'ort-cpu-1t', budgetMs: 5, precision: 'nupes4' }] }), /^c: data\.calibration is the validation set/);
  const ok = resolveConfig(parseConfig(JSON.stringify({ ...good, data: { validation: 'val', calibration: { synth: { dir: 'cal', images: 8, seed: 5 } } }, devices: [{ device: 'ort-cpu-2t-int8', budgetMs: 5, precision: 'int8', options: { ranges: 'entropy' } }] }), 'c'), 'c', dir);
  t.deepEqual(ok.devices[0].quant, { ranges: 'entropy', perChannel: true, calibrationImages: 64 });
  t.is(ok.calibration!.dir, join(dir, 'cal'));
});

test('loadConfig: a --config that does not exist is one line', (t) => {
  t.throws(() => loadConfig(join(tmp, 'none.json')), { instanceOf: SncError, message: /none\.json does not exist/ });
});
