import test from 'ava';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SncError } from '../../src/errors.js';
import { PLAIN_GLOBALS, toPlain, unpickle, type PickleGlobal } from '../../src/onnx/pickle.js';
import { P, pickle } from '../helpers/pickle.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const fixtures = join(root, 'test/fixtures/pth');
const read = (bytes: Uint8Array, globals: ReadonlyMap<string, PickleGlobal> = PLAIN_GLOBALS) => unpickle(bytes, { globals, source: 'x.pkl' });

/** The refusal: one SncError line. */
function refused(t: import('ava').ExecutionContext, f: () => unknown, re: RegExp): void {
  const e = t.throws(f);
  t.true(e instanceof SncError, `${e?.name}: ${e?.message}`);
  t.regex(e!.message, re);
  t.false(e!.message.includes('\n'));
}

test('protocol 2 and 4 pickles of plain data read as Python wrote them (train/make_pth_fixtures.py)', (t) => {
  const want = {
    ints: [0, 1, -1, 255, 256, 65535, 65536, -(2 ** 31), 2 ** 31, (2n ** 62n).toString(), (-(2n ** 70n)).toString()],
    floats: [0.5, -1e300, Infinity],
    str: 'héllo ✓',
    bytes: Buffer.from([0, 255]).toString('base64'),
    tuple: [1, [2, 3], []],
    set: [1, 2],
    frozen: ['a'],
    none: null,
    bools: [true, false],
    od: { x: 1 },
    shared: [[1, 2], [1, 2]],
  };
  for (const p of [2, 4]) {
    const v = toPlain(read(readFileSync(join(fixtures, `plain-p${p}.pkl`))), 'x') as Record<string, unknown>;
    t.deepEqual(v, want, `protocol ${p}`);
  }
});

test('a GLOBAL naming os.system is refused by name, listing the allowed globals', (t) => {
  const evil = pickle(P.proto(2), P.global('os', 'system'), P.str('touch /tmp/pwned'), P.tuple1, P.reduce, P.stop);
  refused(t, () => read(evil), /^x\.pkl: pickle global 'os\.system' is not allowed; allowed: collections\.OrderedDict, argparse\.Namespace, .* \(pickle opcode GLOBAL at byte 2\)$/);
});

test('a STACK_GLOBAL naming builtins.eval is refused by name', (t) => {
  const evil = pickle(P.proto(4), P.str('builtins'), P.str('eval'), P.stackGlobal, P.str('1+1'), P.tuple1, P.reduce, P.stop);
  refused(t, () => read(evil), /^x\.pkl: pickle global 'builtins\.eval' is not allowed; allowed: .*STACK_GLOBAL/);
});

test('REDUCE may call only allowed globals that are callable', (t) => {
  const onlyNamed = new Map<string, PickleGlobal>([['torch.FloatStorage', {}]]);
  refused(t, () => read(pickle(P.proto(), P.global('torch', 'FloatStorage'), P.emptyTuple, P.reduce, P.stop), onlyNamed), /REDUCE calls 'torch\.FloatStorage', which may not be called/);
  refused(t, () => read(pickle(P.proto(), P.str('os.system'), P.emptyTuple, P.reduce, P.stop)), /REDUCE calls a str; only allowed globals may be called/);
  refused(t, () => read(pickle(P.proto(), P.global('collections', 'OrderedDict'), P.str('not a tuple'), P.reduce, P.stop)), /REDUCE needs an argument tuple, got a str/);
  refused(t, () => read(pickle(P.proto(), P.global('builtins', 'set'), P.emptyTuple, P.newobj, P.stop)), /NEWOBJ instantiates 'builtins\.set', which may not be instantiated/);
});

test('BUILD cannot set state on anything but a Namespace or an OrderedDict, nor dunder attributes', (t) => {
  const ns = [P.global('argparse', 'Namespace'), P.emptyTuple, P.newobj];
  refused(t, () => read(pickle(P.proto(), P.emptyDict, P.emptyDict, P.build, P.stop)), /BUILD on a dict; only/);
  refused(t, () => read(pickle(P.proto(), P.int(3), P.emptyDict, P.build, P.stop)), /BUILD on a int; only/);
  refused(t, () => read(pickle(P.proto(), ...ns, P.emptyDict, P.str('__class__'), P.global('collections', 'OrderedDict'), P.setitem, P.build, P.stop)), /BUILD on argparse\.Namespace sets attribute '__class__'; dunder attributes are not allowed/);
  refused(t, () => read(pickle(P.proto(), ...ns, P.emptyList, P.build, P.stop)), /BUILD on argparse\.Namespace with a list state/);
  refused(t, () => read(pickle(P.proto(), P.global('collections', 'OrderedDict'), P.emptyTuple, P.reduce, P.emptyDict, P.str('__proto__'), P.emptyDict, P.setitem, P.build, P.stop)), /BUILD on collections\.OrderedDict sets attribute "__proto__"/);
  // the good case: a Namespace with attributes
  const ok = toPlain(read(pickle(P.proto(), ...ns, P.emptyDict, P.str('lr'), P.int(3), P.setitem, P.build, P.stop)), 'x');
  t.deepEqual(ok, { lr: 3 });
});

test('deep nesting is refused, whether built with MARKs or without', (t) => {
  refused(t, () => read(pickle(P.proto(), Buffer.alloc(100_000, 0x28), P.stop)), /MARKs nest deeper than 200 levels/);
  refused(t, () => read(pickle(P.proto(), P.emptyTuple, Buffer.alloc(100_000, 0x85), P.stop)), /containers nest deeper than 200 levels/);
  // nesting through the memo (a list appended into the list last appended) is caught when converted
  const chain = Buffer.concat(Array.from({ length: 500 }, (_, i) => Buffer.concat([P.get(i % 2), P.emptyList, P.put((i + 1) % 2), P.append, P.pop])));
  const v = read(pickle(P.proto(), P.emptyList, P.put(0), chain, P.stop));
  refused(t, () => toPlain(v, 'x.pkl'), /^x\.pkl: value nests deeper than 64 levels$/);
});

test('a list that contains itself is refused when converted; a dict key __proto__ stays data', (t) => {
  const cyc = read(pickle(P.proto(), P.emptyList, P.put(0), P.get(0), P.append, P.stop));
  refused(t, () => toPlain(cyc, 'x.pkl'), /value contains itself/);
  const v = toPlain(read(pickle(P.proto(), P.emptyDict, P.str('__proto__'), P.emptyDict, P.str('polluted'), P.int(1), P.setitem, P.setitem, P.stop)), 'x') as Record<string, unknown>;
  t.true(Object.prototype.hasOwnProperty.call(v, '__proto__'));
  t.is(({} as Record<string, unknown>).polluted, undefined);
  t.is(Object.getPrototypeOf(v), Object.prototype);
});

test('opcodes that create instances or reach the extension registry are refused', (t) => {
  refused(t, () => read(pickle(P.proto(), P.mark, Buffer.from('ios\nsystem\n'), P.stop)), /protocol-0 instance creation is not allowed \(pickle opcode INST/);
  refused(t, () => read(pickle(P.proto(), P.mark, P.global('collections', 'OrderedDict'), P.raw(0x6f), P.stop)), /protocol-0 instance creation is not allowed \(pickle opcode OBJ/);
  refused(t, () => read(pickle(P.proto(), P.raw(0x82, 1), P.stop)), /extension registry is not allowed \(pickle opcode EXT1/);
  refused(t, () => read(pickle(P.proto(), P.raw(0xff), P.stop)), /unknown pickle opcode 0xff/);
  refused(t, () => read(pickle(P.proto(9), P.stop)), /pickle protocol 9 is not supported/);
  refused(t, () => read(pickle(P.proto(), P.get(7), P.stop)), /memo key 7 was never stored/);
  refused(t, () => read(pickle(P.proto(), P.tuple2, P.stop)), /stack underflow/);
  refused(t, () => read(pickle(P.proto(), P.raw(0x58, 0xff, 0xff, 0xff, 0x7f), P.stop)), /pickle is truncated/);
});

test('every truncation of a pickle is one SncError', (t) => {
  const bytes = readFileSync(join(fixtures, 'plain-p2.pkl'));
  for (let n = 0; n < bytes.length; n++) refused(t, () => read(bytes.subarray(0, n)), /^x\.pkl: /);
});

test('mutated pickles read or fail with one SncError, never anything else (fast-check, fixed seed)', (t) => {
  const base = readFileSync(join(fixtures, 'plain-p2.pkl'));
  const mutation = fc.record({ at: fc.nat({ max: base.length - 1 }), byte: fc.integer({ min: 0, max: 255 }), kind: fc.constantFrom('set', 'insert', 'delete') });
  fc.assert(
    fc.property(fc.array(mutation, { minLength: 1, maxLength: 6 }), (muts) => {
      let b = Buffer.from(base);
      for (const m of muts) {
        const at = m.at % Math.max(1, b.length);
        if (m.kind === 'set') b[at] = m.byte;
        else if (m.kind === 'insert') b = Buffer.concat([b.subarray(0, at), Buffer.from([m.byte]), b.subarray(at)]);
        else b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
      }
      try {
        toPlain(read(b), 'x');
      } catch (e) {
        if (!(e instanceof SncError) || e.message.includes('\n')) throw e;
      }
    }),
    { seed: 20261201, numRuns: 2000 },
  );
  t.pass();
});
