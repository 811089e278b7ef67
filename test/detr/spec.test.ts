import test from 'ava';
import { SncError } from '../../src/errors.js';
import { PRESETS } from '../../src/detr/presets.js';
import { subnetCost } from '../../src/detr/cost.js';
import { weightShapes } from '../../src/detr/weights.js';
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

test('spec check: missing pre-processing, a zero patch or std, wrong types are one line naming the field', (t) => {
  const base = PRESETS['shapes-tiny'].spec;
  const cases: [(s: Record<string, any>) => void, RegExp][] = [
    [(s) => delete s.preprocess, /: preprocess is missing; expected an object with mean, std and resize$/],
    [(s) => (s.knobs.patch = [0, 16]), /: knobs\.patch\.0 is 0; expected an integer > 0$/],
    [(s) => (s.preprocess.std = [0.229, 0, 0.225]), /: preprocess\.std\.1 is 0; expected a finite number > 0$/],
    [(s) => (s.preprocess.mean = [0.4, 'x', 0.4]), /: preprocess\.mean\.1 is "x"; expected a finite number$/],
    [(s) => (s.preprocess.std = [1, 1]), /: preprocess\.std is \[1,1\]; expected /],
    [(s) => (s.architecture.backbone.width = '64'), /: architecture\.backbone\.width is "64"; expected an integer > 0$/],
    [(s) => (s.knobs.queries = []), /: knobs\.queries is \[\]; expected a non-empty list$/],
    [(s) => (s.default = null), /: default is null; expected an object$/],
    [(s) => (s.classes = 'cat'), /: classes is "cat"; expected a list/],
    [(s) => (s.version = 2), /: version 2 is not supported; this snc reads version 1$/],
  ];
  for (const [mutate, re] of cases) {
    const s = structuredClone(base) as unknown as Record<string, any>;
    mutate(s);
    const e = t.throws(() => checkSpec(s as never, 'x/supernet.json'), { instanceOf: SncError });
    t.regex(e!.message, re);
    t.regex(e!.message, /^x\/supernet\.json: /);
  }
  t.throws(() => checkSpec(null as never, 'x'), { instanceOf: SncError, message: /not a supernet description/ });
  t.throws(() => checkSpec([] as never, 'x'), { instanceOf: SncError, message: /not a supernet description/ });
});

test('configs: empty, empty items and a knob given twice are refused; examples come from the supernet at hand', (t) => {
  const d = PRESETS['shapes-tiny'].spec.default;
  const example = 'res=224,patch=16,windows=2,layers=3,queries=60';
  t.is(configKey(d), example);
  t.throws(() => parseConfig('', d), { instanceOf: SncError, message: `config: '' names no knob; write knob=value pairs such as ${example}` });
  t.throws(() => parseConfig(' , ', d), { instanceOf: SncError, message: /names no knob/ });
  t.throws(() => parseConfig('res=224,,layers=1', d), { instanceOf: SncError, message: /has an empty item between commas/ });
  t.throws(() => parseConfig('res=224,', d), { instanceOf: SncError, message: /has an empty item between commas/ });
  t.throws(() => parseConfig('res=224,res=160', d), { instanceOf: SncError, message: "config: res is given twice in 'res=224,res=160'; give each knob once" });
  t.throws(() => parseConfig('res=224,resolution=160', d), { instanceOf: SncError, message: /res is given twice/ });
  t.throws(() => parseConfig('res=2x', d), { instanceOf: SncError, message: `config: cannot read 'res=2x'; write knob=value pairs such as ${example}` });
  const nano = PRESETS.nano.spec.default;
  t.regex(t.throws(() => parseConfig('res=2x', nano))!.message, /such as res=384,patch=16,windows=2,layers=2,queries=300$/);
});

test('conv stem: patch values and storedPatch must be multiples of its stride; the cost counts it', (t) => {
  const spec = structuredClone(PRESETS['shapes-tiny'].spec);
  spec.architecture.backbone.stem = { type: 'conv', channels: [16, 32, 64], eps: 1e-6 }; // stride 8: patch 8 and 16 fit
  t.notThrows(() => checkSpec(spec, 's.json'));
  spec.architecture.backbone.stem = { type: 'conv', channels: [16, 32, 64, 96], eps: 1e-6 }; // stride 16: patch 8 does not
  t.regex(t.throws(() => checkSpec(spec, 's.json'))!.message, /patch size 8 not a multiple of the conv stem's stride 16/);
  spec.architecture.backbone.stem = { type: 'conv', channels: [], eps: 1e-6 };
  t.regex(t.throws(() => checkSpec(spec, 's.json'))!.message, /backbone\.stem\.channels \[\] is not a non-empty list/);
  spec.architecture.backbone.stem = { type: 'pool' as 'conv', channels: [8], eps: 1e-6 };
  t.regex(t.throws(() => checkSpec(spec, 's.json'))!.message, /backbone\.stem\.type is "pool"; valid values are "conv"/);
  spec.architecture.backbone.stem = { type: 'conv', channels: [16, 32, 64], blocks: [0, 1, 1], eps: 1e-6 };
  t.notThrows(() => checkSpec(spec, 's.json'));
  spec.architecture.backbone.stem.blocks = [1, 1];
  t.is(t.throws(() => checkSpec(spec, 's.json'))!.message, 's.json: backbone.stem.blocks [1,1] is not a list of 3 block counts (one per stem layer, each >= 0)');
  spec.architecture.backbone.stem.blocks = [0, -1, 1];
  t.regex(t.throws(() => checkSpec(spec, 's.json'))!.message, /backbone\.stem\.blocks \[0,-1,1\] is not a list of 3 block counts/);
});

test('conv stem: every stored tensor counted by subnetCost at the stored patch', (t) => {
  for (const blocks of [undefined, [1, 2]]) {
    const spec = structuredClone(PRESETS['shapes-tiny'].spec);
    delete spec.architecture.backbone.stem;
    const plain = subnetCost(spec.architecture, { ...spec.default, patch: 16 }).params;
    spec.architecture.backbone.stem = { type: 'conv', channels: [16, 32], eps: 1e-6, ...(blocks ? { blocks } : {}) };
    const a = spec.architecture;
    const withStem = subnetCost(a, { ...spec.default, patch: 16 }).params;
    const stemTensors = [...weightShapes(a)].filter(([n]) => n.startsWith('backbone.stem.') || n === 'backbone.patch_embed.weight').reduce((s, [, d]) => s + d.reduce((x, y) => x * y, 1), 0);
    const plainKernel = a.backbone.width * 3 * 16 * 16;
    t.is(withStem - plain, stemTensors - plainKernel, `blocks ${blocks}`);
    t.deepEqual(weightShapes(a).get('backbone.patch_embed.weight'), [128, 32, 4, 4]);
    t.is([...weightShapes(a).keys()].filter((n) => n.startsWith('backbone.stem.blocks.')).length, blocks ? 3 * 6 : 0); // conv, LN weight and bias, twice per block
  }
});
