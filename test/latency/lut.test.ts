import test from 'ava';
import { createHash } from 'node:crypto';
import { PRESETS } from '../../src/detr/presets.js';
import type { SupernetSpec } from '../../src/detr/spec.js';
import { familyHash, isFamily } from '../../src/latency/lut.js';

/** The same value with every object's keys in reverse order. */
function reversedKeys<T>(v: T): T {
  if (Array.isArray(v)) return v.map(reversedKeys) as T;
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reversedKeys(x)])) as T;
  return v;
}

const writtenOrderHash = (s: SupernetSpec) => createHash('sha256').update(JSON.stringify({ architecture: s.architecture, knobs: s.knobs })).digest('hex').slice(0, 16);

test('the family hash does not depend on the order a supernet.json or a preset writes its keys in', (t) => {
  for (const name of ['shapes-tiny', 'nano'] as const) {
    const spec = PRESETS[name].spec;
    const reordered = reversedKeys(spec);
    t.not(JSON.stringify(reordered), JSON.stringify(spec));
    t.is(familyHash(reordered), familyHash(spec));
    t.true(isFamily(familyHash(spec), reordered));
  }
  // weights-only fields (name, untrained, default) are not the family; architecture and grid are
  const spec = PRESETS['shapes-tiny'].spec;
  t.is(familyHash({ ...spec, name: 'other', untrained: undefined, default: { ...spec.default, layers: 1 } }), familyHash(spec));
  const moreBlocks = structuredClone(spec);
  moreBlocks.architecture.backbone.stem!.blocks = [0, 1, 2];
  t.not(familyHash(moreBlocks), familyHash(spec));
  t.false(isFamily(familyHash(moreBlocks), spec));
  t.false(isFamily(familyHash(spec), PRESETS.nano.spec));
});

test('LUTs profiled before keep their family: the hash of the keys in written order is still accepted, for that order only', (t) => {
  const spec = PRESETS.nano.spec;
  const legacy = writtenOrderHash(spec);
  t.not(legacy, familyHash(spec));
  t.true(isFamily(legacy, spec));
  t.false(isFamily(legacy, PRESETS['shapes-tiny'].spec));
  // in another order it was another hash then, and is not taken for this family now
  t.false(isFamily(writtenOrderHash(reversedKeys(spec)), spec));
});
