import test from 'ava';
import { SncError } from '../../src/errors.js';
import { PRESETS } from '../../src/detr/presets.js';
import { checkSpec, configKey, enumerateConfigs, parseConfig, untrainedKnobs, validateConfig } from '../../src/detr/spec.js';

const grid = PRESETS.nano.spec.knobs;

test('config strings parse, with defaults for omitted knobs and long or short names', (t) => {
  const d = PRESETS.nano.spec.default;
  t.deepEqual(parseConfig('res=480, layers=4', d), { ...d, resolution: 480, layers: 4 });
  t.deepEqual(parseConfig('resolution=288,patch=12,windows=4,layers=1,queries=100'), { resolution: 288, patch: 12, windows: 4, layers: 1, queries: 100 });
  t.is(configKey(d), 'res=384,patch=16,windows=2,layers=2,queries=300');
});

test('bad config strings name the problem and the valid choices', (t) => {
  t.regex(t.throws(() => parseConfig('res=384,foo=2'), { instanceOf: SncError })!.message, /unknown knob 'foo'; valid knobs are res, resolution, patch, windows, layers or queries/);
  t.regex(t.throws(() => parseConfig('res=abc'), { instanceOf: SncError })!.message, /cannot read 'res=abc'/);
  t.regex(t.throws(() => parseConfig('res=384'), { instanceOf: SncError })!.message, /missing patch, windows, layers or queries/);
});

test('validation: a value outside the grid lists the grid', (t) => {
  const c = { resolution: 320, patch: 16, windows: 2, layers: 2, queries: 300 };
  t.regex(t.throws(() => validateConfig(grid, c))!.message, /res=320 is not in the knob grid; valid values are 288, 384 or 480/);
  t.regex(t.throws(() => validateConfig(grid, { ...c, resolution: 384, queries: 150 }))!.message, /queries=150 .* 100, 200 or 300/);
});

test('validation: resolution must divide by patch x windows, and the error lists the ones that do', (t) => {
  const e = t.throws(() => validateConfig(grid, { resolution: 288, patch: 16, windows: 4, layers: 2, queries: 300 }), { instanceOf: SncError });
  t.regex(e!.message, /res=288 is not divisible by patch x windows = 16 x 4 = 64; valid resolutions .* are 384/);
});

test('enumeration yields exactly the valid configs', (t) => {
  const all = enumerateConfigs(grid);
  const total = Object.values(grid).reduce((p, v) => p * v.length, 1);
  t.true(all.length < total, 'some nano combinations are invalid');
  for (const c of all) t.notThrows(() => validateConfig(grid, c));
  t.is(new Set(all.map(configKey)).size, all.length);
  t.is(enumerateConfigs(PRESETS['shapes-tiny'].spec.knobs).length, 108);
});

test('presets meet the grid minimums and pass the spec check', (t) => {
  for (const { spec } of Object.values(PRESETS)) {
    t.notThrows(() => checkSpec(spec, spec.name));
    t.true(spec.knobs.resolution.length >= 3 && spec.knobs.patch.length >= 2 && spec.knobs.windows.length >= 2);
    t.true(spec.knobs.layers.length >= 3 && spec.knobs.queries.length >= 3);
  }
});

test('spec check names the bad field', (t) => {
  const spec = structuredClone(PRESETS['shapes-tiny'].spec);
  spec.architecture.backbone.tapBlocks = [9];
  t.regex(t.throws(() => checkSpec(spec, 'x/supernet.json'))!.message, /^x\/supernet\.json: block index 9 is outside 0\.\.5/);
});

test('untrained knob values must be in the grid, and the default uses none', (t) => {
  const spec = structuredClone(PRESETS['shapes-tiny'].spec);
  spec.untrained = { patch: [8] };
  t.notThrows(() => checkSpec(spec, 's.json'));
  t.deepEqual(untrainedKnobs(spec, { ...spec.default, patch: 8 }), ['patch=8']);
  t.deepEqual(untrainedKnobs(spec, spec.default), []);
  spec.untrained = { patch: [12] };
  t.regex(t.throws(() => checkSpec(spec, 's.json'))!.message, /^s\.json: untrained\.patch lists 12, which knobs\.patch does not have/);
  spec.untrained = { patch: [16] };
  t.regex(t.throws(() => checkSpec(spec, 's.json'))!.message, /^s\.json: the default config uses untrained patch=16/);
});
