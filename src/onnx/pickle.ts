/**
 * A restricted unpickler: reads Python pickles (protocols 0-5, the opcodes of pickletools'
 * table) as plain data and never executes anything. A pickle can name a Python callable
 * (GLOBAL / STACK_GLOBAL) and call it (REDUCE, NEWOBJ) or set attributes on what it returned
 * (BUILD); here only the globals the caller lists are accepted, each with its own JavaScript
 * implementation, and any other name is refused by name when the pickle mentions it.
 *
 * Python values become: None -> null, bool -> boolean, int -> number (bigint beyond 2^53),
 * float -> number, str -> string, bytes -> Uint8Array, list -> array, tuple -> frozen array,
 * dict -> Map, set/frozenset -> Set, and whatever an allowed global's implementation returns.
 *
 * Semantics follow CPython's Lib/pickle.py (_Unpickler) and the opcode docs in pickletools.py.
 */
import { SncError } from '../errors.js';

/** What an allowed global does when a pickle calls it. Absent functions are refused. */
export interface PickleGlobal {
  /** REDUCE: `global(*args)`. */
  call?(args: readonly unknown[], fail: (why: string) => never): unknown;
  /** NEWOBJ / NEWOBJ_EX: `cls.__new__(cls, *args)`. */
  construct?(args: readonly unknown[], fail: (why: string) => never): unknown;
}

/** An object BUILD may set state on (Python's `__setstate__` / `__dict__.update`). */
export interface PickleBuildable {
  pickleBuild(state: unknown, fail: (why: string) => never): void;
}

/** A reference to an allowed global, as a pickle pushes it before calling it. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
    readonly impl: PickleGlobal,
  ) {}
  get qualname(): string {
    return `${this.module}.${this.name}`;
  }
}

/** An instance of a plain Python class (e.g. argparse.Namespace): its attributes. */
export class PyObject implements PickleBuildable {
  readonly attrs = new Map<string, unknown>();
  constructor(readonly className: string) {}
  pickleBuild(state: unknown, fail: (why: string) => never): void {
    // state is the instance __dict__, or (dict, slotstate) for classes with __slots__
    if (isTuple(state) && state.length === 2) {
      if (state[0] !== null) this.pickleBuild(state[0], fail);
      if (state[1] !== null) this.pickleBuild(state[1], fail);
      return;
    }
    if (!(state instanceof Map)) return fail(`BUILD on ${this.className} with a ${typeName(state)} state; only a dict of attributes is allowed`);
    for (const [k, v] of state) {
      if (typeof k !== 'string') return fail(`BUILD on ${this.className} sets a ${typeName(k)} attribute name`);
      if (k.startsWith('__')) return fail(`BUILD on ${this.className} sets attribute '${k}'; dunder attributes are not allowed`);
      this.attrs.set(k, v);
    }
  }
}

/** collections.OrderedDict: a Map that may carry attributes (torch stores `_metadata` on state dicts). */
export class PyOrderedDict extends Map<unknown, unknown> implements PickleBuildable {
  readonly attrs = new Map<string, unknown>();
  pickleBuild(state: unknown, fail: (why: string) => never): void {
    if (state === null) return;
    if (!(state instanceof Map)) return fail(`BUILD on collections.OrderedDict with a ${typeName(state)} state; only a dict of attributes is allowed`);
    for (const [k, v] of state) {
      if (typeof k !== 'string' || k.startsWith('__')) return fail(`BUILD on collections.OrderedDict sets attribute ${JSON.stringify(String(k))}; only plain attribute names are allowed`);
      this.attrs.set(k, v);
    }
  }
}

export function isTuple(v: unknown): v is readonly unknown[] {
  return Array.isArray(v) && Object.isFrozen(v);
}

/** Python-ish type names for error messages. */
export function typeName(v: unknown): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'string') return 'str';
  if (v instanceof Uint8Array) return 'bytes';
  if (isTuple(v)) return 'tuple';
  if (Array.isArray(v)) return 'list';
  if (v instanceof PyOrderedDict) return 'OrderedDict';
  if (v instanceof Map) return 'dict';
  if (v instanceof Set) return 'set';
  if (v instanceof PyGlobal) return `global ${v.qualname}`;
  if (v instanceof PyObject) return v.className;
  const ctor = (v as object)?.constructor?.name;
  return ctor ? ctor : typeof v;
}

export interface UnpickleOptions {
  /** Allowed globals by "module.name". */
  globals: ReadonlyMap<string, PickleGlobal>;
  /** How the allowed globals are listed in the refusal message (defaults to their names). */
  allowedText?: string;
  /** BINPERSID / PERSID: turns a persistent id into a value; without it they are refused. */
  persistentLoad?: (pid: unknown, fail: (why: string) => never) => unknown;
  /** Names the pickle in errors. */
  source: string;
  /** Deepest nesting of containers and marks accepted (default 200). */
  maxDepth?: number;
}

const MAX_LINE = 1 << 16;
const MAX_LONG_BYTES = 1024;
const MAX_INT_DIGITS = 2500;

/** Opcode names of pickletools' table, for messages. */
const OPNAMES: Record<number, string> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT', 0x4a: 'BININT',
  0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID', 0x51: 'BINPERSID', 0x52: 'REDUCE',
  0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING', 0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND',
  0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT', 0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET',
  0x69: 'INST', 0x6a: 'LONG_BINGET', 0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT',
  0x72: 'LONG_BINPUT', 0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT',
  0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1', 0x86: 'TUPLE2',
  0x87: 'TUPLE3', 0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4', 0x42: 'BINBYTES',
  0x43: 'SHORT_BINBYTES', 0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET',
  0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX', 0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME',
  0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
};

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Unpickles `bytes` with only `opts.globals` allowed. Throws one SncError line on any problem. */
export function unpickle(bytes: Uint8Array, opts: UnpickleOptions): unknown {
  const maxDepth = opts.maxDepth ?? 200;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.length;
  let pos = 0;
  let opPos = 0;
  let op = 0;
  const fail = (why: string): never => {
    throw new SncError(`${opts.source}: ${why} (pickle opcode ${OPNAMES[op] ?? `0x${op.toString(16)}`} at byte ${opPos})`);
  };
  let stack: unknown[] = [];
  const metastack: unknown[][] = [];
  const memo = new Map<number, unknown>();
  const depth = new WeakMap<object, number>();
  const depthOf = (v: unknown): number => (typeof v === 'object' && v !== null ? depth.get(v) ?? 0 : 0);
  const setDepth = <T extends object>(container: T, d: number): T => {
    if (d > maxDepth) fail(`containers nest deeper than ${maxDepth} levels`);
    if (d > (depth.get(container) ?? 0)) depth.set(container, d);
    return container;
  };
  const nested = <T extends object>(container: T, items: readonly unknown[]): T => {
    let d = depth.get(container) ?? 1;
    for (const it of items) d = Math.max(d, depthOf(it) + 1);
    return setDepth(container, d);
  };

  const need = (k: number): void => {
    if (k < 0 || pos + k > n) fail(`pickle is truncated: ${k} more bytes needed, ${n - pos} left`);
  };
  const u8 = (): number => {
    need(1);
    return bytes[pos++];
  };
  const u16 = (): number => {
    need(2);
    const v = view.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const i32 = (): number => {
    need(4);
    const v = view.getInt32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(n)) fail(`length ${v} exceeds the ${n}-byte pickle`);
    return Number(v);
  };
  const take = (k: number): Uint8Array => {
    need(k);
    const b = bytes.subarray(pos, pos + k);
    pos += k;
    return b;
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0 || end - pos > MAX_LINE) fail('pickle is truncated or has an overlong text line');
    const s = latin1.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const text = (b: Uint8Array): string => {
    try {
      return utf8.decode(b);
    } catch {
      return fail('string is not valid UTF-8');
    }
  };
  const pop = (): unknown => {
    if (stack.length === 0) fail('malformed pickle: stack underflow');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) fail('malformed pickle: stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const prev = metastack.pop();
    if (!prev) return fail('malformed pickle: no MARK to pop to');
    stack = prev;
    return items;
  };
  const push = (v: unknown): void => {
    stack.push(v);
  };
  const tuple = (items: unknown[]): readonly unknown[] => nested(Object.freeze(items), items);
  const intText = (s: string): number | bigint => {
    const t = s.endsWith('L') ? s.slice(0, -1) : s;
    if (t.length > MAX_INT_DIGITS) fail(`integer literal of ${t.length} digits is too long`);
    if (!/^[-+]?\d+$/.test(t)) fail(`bad integer literal ${JSON.stringify(s.slice(0, 40))}`);
    const b = BigInt(t);
    return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
  };
  const longBytes = (b: Uint8Array): number | bigint => {
    if (b.length > MAX_LONG_BYTES) fail(`integer of ${b.length} bytes is too long`);
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b.length > 0 && b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const memoKey = (k: number): number => {
    if (!memo.has(k)) fail(`memo key ${k} was never stored`);
    return k;
  };
  const findGlobal = (module: string, name: string): PyGlobal => {
    const key = `${module}.${name}`;
    const impl = opts.globals.get(key);
    if (!impl) {
      const allowed = opts.allowedText ?? ([...opts.globals.keys()].join(', ') || 'none');
      fail(`pickle global '${key.length > 120 ? key.slice(0, 120) + '…' : key}' is not allowed; allowed: ${allowed}`);
    }
    return new PyGlobal(module, name, impl!);
  };
  const asArgs = (v: unknown, what: string): readonly unknown[] => {
    if (!isTuple(v)) fail(`${what} needs an argument tuple, got a ${typeName(v)}`);
    return v as readonly unknown[];
  };
  const setItems = (d: unknown, items: unknown[]): void => {
    if (!(d instanceof Map)) fail(`SETITEM(S) on a ${typeName(d)}; only dicts are allowed`);
    if (items.length % 2) fail('SETITEMS with an odd number of items');
    const m = d as Map<unknown, unknown>;
    for (let i = 0; i < items.length; i += 2) {
      const k = items[i];
      if (typeof k === 'object' && k !== null && !isTuple(k)) fail(`dict key of unhashable type ${typeName(k)}`);
      m.set(k, items[i + 1]);
    }
    nested(m, items);
  };
  const appendItems = (l: unknown, items: unknown[]): void => {
    if (!Array.isArray(l) || isTuple(l)) fail(`APPEND(S) on a ${typeName(l)}; only lists are allowed`);
    for (const it of items) (l as unknown[]).push(it);
    nested(l as unknown[], items);
  };
  const addItems = (s: unknown, items: unknown[]): void => {
    if (!(s instanceof Set) || Object.isFrozen(s)) fail(`ADDITEMS on a ${typeName(s)}; only sets are allowed`);
    for (const it of items) (s as Set<unknown>).add(it);
    nested(s as Set<unknown>, items);
  };

  while (true) {
    if (pos >= n) fail('pickle ends without STOP (truncated?)');
    opPos = pos;
    op = bytes[pos++];
    switch (op) {
      case 0x80: {
        // PROTO
        const v = u8();
        if (v > 5) fail(`pickle protocol ${v} is not supported; supported: 0 to 5`);
        break;
      }
      case 0x95: // FRAME: a length prefix only, the frame's bytes follow in line
        u64();
        break;
      case 0x2e: // STOP
        return pop();
      case 0x28: // MARK
        if (metastack.length >= maxDepth) fail(`MARKs nest deeper than ${maxDepth} levels`);
        metastack.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        if (stack.length === 0) popMark();
        else stack.pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        push(top());
        break;
      case 0x4e: // NONE
        push(null);
        break;
      case 0x88:
        push(true);
        break;
      case 0x89:
        push(false);
        break;
      case 0x49: {
        // INT (text); protocol 0 writes bools as I01 / I00
        const s = line();
        push(s === '01' ? true : s === '00' ? false : intText(s));
        break;
      }
      case 0x4a:
        push(i32());
        break;
      case 0x4b:
        push(u8());
        break;
      case 0x4d:
        push(u16());
        break;
      case 0x4c: // LONG (text)
        push(intText(line()));
        break;
      case 0x8a: // LONG1
        push(longBytes(take(u8())));
        break;
      case 0x8b: {
        // LONG4
        const k = i32();
        if (k < 0) fail('negative LONG4 length');
        push(longBytes(take(k)));
        break;
      }
      case 0x46: {
        // FLOAT (text, repr)
        const s = line().trim();
        const v = s === 'inf' ? Infinity : s === '-inf' ? -Infinity : s === 'nan' ? NaN : /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s) ? Number(s) : fail(`bad float literal ${JSON.stringify(s.slice(0, 40))}`);
        push(v);
        break;
      }
      case 0x47: // BINFLOAT: big-endian double
        need(8);
        push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x58: // BINUNICODE
        push(text(take(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        push(text(take(u8())));
        break;
      case 0x8d: // BINUNICODE8
        push(text(take(u64())));
        break;
      case 0x56: {
        // UNICODE: raw-unicode-escape text line
        const s = line().replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, a: string, b: string) => {
          const cp = parseInt(a ?? b, 16);
          return cp <= 0x10ffff ? String.fromCodePoint(cp) : fail(`bad code point \\U${b}`);
        });
        push(s);
        break;
      }
      case 0x54: {
        // BINSTRING (Python 2 str): bytes read as latin-1
        const k = i32();
        if (k < 0) fail('negative BINSTRING length');
        push(latin1.decode(take(k)));
        break;
      }
      case 0x55: // SHORT_BINSTRING
        push(latin1.decode(take(u8())));
        break;
      case 0x42: // BINBYTES
        push(take(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        push(take(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
        push(take(u64()).slice());
        break;
      case 0x5d: // EMPTY_LIST
        push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        push(Object.freeze([]));
        break;
      case 0x7d: // EMPTY_DICT
        push(new Map());
        break;
      case 0x8f: // EMPTY_SET
        push(new Set());
        break;
      case 0x6c: {
        // LIST
        const items = popMark();
        push(nested(items, items));
        break;
      }
      case 0x74: // TUPLE
        push(tuple(popMark()));
        break;
      case 0x85:
        push(tuple([pop()]));
        break;
      case 0x86: {
        const b = pop();
        const a = pop();
        push(tuple([a, b]));
        break;
      }
      case 0x87: {
        const c = pop();
        const b = pop();
        const a = pop();
        push(tuple([a, b, c]));
        break;
      }
      case 0x64: {
        // DICT
        const items = popMark();
        const d = new Map();
        setItems(d, items);
        push(d);
        break;
      }
      case 0x91: {
        // FROZENSET
        const items = popMark();
        const s = nested(new Set(items), items);
        push(Object.freeze(s));
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        appendItems(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        addItems(top(), items);
        break;
      }
      case 0x67: // GET (text)
        push(memo.get(memoKey(Number(intText(line())))));
        break;
      case 0x68: // BINGET
        push(memo.get(memoKey(u8())));
        break;
      case 0x6a: // LONG_BINGET
        push(memo.get(memoKey(u32())));
        break;
      case 0x70: // PUT (text)
        memo.set(Number(intText(line())), top());
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        const name = line();
        push(findGlobal(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail(`STACK_GLOBAL needs two strings, got ${typeName(module)} and ${typeName(name)}`);
        push(findGlobal(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE: callable(*args)
        const args = asArgs(pop(), 'REDUCE');
        const f = pop();
        if (!(f instanceof PyGlobal)) return fail(`REDUCE calls a ${typeName(f)}; only allowed globals may be called`);
        if (!f.impl.call) return fail(`REDUCE calls '${f.qualname}', which may not be called`);
        push(f.impl.call(args, fail));
        break;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args)
        const args = asArgs(pop(), 'NEWOBJ');
        const cls = pop();
        if (!(cls instanceof PyGlobal)) return fail(`NEWOBJ instantiates a ${typeName(cls)}; only allowed classes may be instantiated`);
        if (!cls.impl.construct) return fail(`NEWOBJ instantiates '${cls.qualname}', which may not be instantiated`);
        push(cls.impl.construct(args, fail));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX: cls.__new__(cls, *args, **kwargs)
        const kwargs = pop();
        const args = asArgs(pop(), 'NEWOBJ_EX');
        const cls = pop();
        if (!(kwargs instanceof Map) || kwargs.size > 0) fail('NEWOBJ_EX with keyword arguments is not allowed');
        if (!(cls instanceof PyGlobal)) return fail(`NEWOBJ_EX instantiates a ${typeName(cls)}; only allowed classes may be instantiated`);
        if (!cls.impl.construct) return fail(`NEWOBJ_EX instantiates '${cls.qualname}', which may not be instantiated`);
        push(cls.impl.construct(args, fail));
        break;
      }
      case 0x62: {
        // BUILD: inst.__setstate__(state) or inst.__dict__.update(state)
        const state = pop();
        const inst = top();
        const b = inst as Partial<PickleBuildable> | null;
        if (typeof b !== 'object' || b === null || typeof b.pickleBuild !== 'function') return fail(`BUILD on a ${typeName(inst)}; only argparse.Namespace-like objects and OrderedDicts take state`);
        b.pickleBuild(state, fail);
        if (typeof inst === 'object' && inst !== null) setDepth(inst, Math.max(depthOf(inst), depthOf(state) + 1));
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop();
        if (!opts.persistentLoad) return fail('pickle uses persistent ids, which this reader does not accept');
        push(opts.persistentLoad(pid, fail));
        break;
      }
      case 0x50: {
        // PERSID (text)
        const pid = line();
        if (!opts.persistentLoad) return fail('pickle uses persistent ids, which this reader does not accept');
        push(opts.persistentLoad(pid, fail));
        break;
      }
      case 0x69: // INST
      case 0x6f: // OBJ
        return fail('protocol-0 instance creation is not allowed');
      case 0x82:
      case 0x83:
      case 0x84:
        return fail('the copyreg extension registry is not allowed');
      case 0x53:
        return fail('protocol-0 STRING is not supported');
      case 0x96:
      case 0x97:
      case 0x98:
        return fail('protocol-5 out-of-band buffers are not supported');
      default:
        return fail(`unknown pickle opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
  }
}

/**
 * Converts unpickled data (dicts, lists, tuples, Namespaces) to plain JSON-like values:
 * dicts and objects become plain objects (keys set as own properties, so '__proto__' stays
 * data), sets and tuples arrays, bigints strings. Bounded: cycles, nesting deeper than
 * `maxDepth` and more than `maxParts` values in all are refused; `leaf` may replace values it
 * recognises (tensors) first.
 */
export function toPlain(v: unknown, source: string, leaf?: (v: unknown) => unknown, maxDepth = 64, maxParts = 1_000_000): unknown {
  const onPath = new Set<object>();
  let parts = 0;
  const walk = (x: unknown, d: number): unknown => {
    // a value shared through the memo is expanded at every use: count what the expansion makes
    if (++parts > maxParts) throw new SncError(`${source}: value expands to more than ${maxParts} parts (shared sub-values repeated)`);
    if (leaf) {
      const r = leaf(x);
      if (r !== undefined) return r;
    }
    if (x === null || typeof x === 'boolean' || typeof x === 'number' || typeof x === 'string') return x;
    if (typeof x === 'bigint') return x.toString();
    if (x instanceof Uint8Array) return Buffer.from(x).toString('base64');
    if (typeof x !== 'object') return String(x);
    if (d > maxDepth) throw new SncError(`${source}: value nests deeper than ${maxDepth} levels`);
    if (onPath.has(x)) throw new SncError(`${source}: value contains itself (a cycle)`);
    onPath.add(x);
    try {
      if (Array.isArray(x)) return x.map((e) => walk(e, d + 1));
      if (x instanceof Set) return [...x].map((e) => walk(e, d + 1));
      const out: Record<string, unknown> = {};
      const put = (k: unknown, val: unknown): void => {
        Object.defineProperty(out, typeof k === 'string' ? k : String(k), { value: walk(val, d + 1), enumerable: true, writable: true, configurable: true });
      };
      if (x instanceof Map) for (const [k, val] of x) put(k, val);
      else if (x instanceof PyObject) for (const [k, val] of x.attrs) put(k, val);
      else if (x instanceof PyGlobal) return x.qualname;
      else return String(x);
      return out;
    } finally {
      onPath.delete(x);
    }
  };
  return walk(v, 0);
}

/**
 * Globals that only rebuild plain data: collections.OrderedDict, argparse.Namespace (attributes
 * only), set/frozenset and _codecs.encode(str, 'latin1') (how protocol 2 writes bytes).
 */
export const PLAIN_GLOBALS: ReadonlyMap<string, PickleGlobal> = (() => {
  const g = new Map<string, PickleGlobal>();
  const ordered = (args: readonly unknown[], fail: (why: string) => never): PyOrderedDict => {
    const d = new PyOrderedDict();
    if (args.length === 0) return d;
    if (args.length !== 1 || !Array.isArray(args[0])) return fail('collections.OrderedDict takes no arguments or one list of pairs');
    for (const pair of args[0]) {
      if (!Array.isArray(pair) || pair.length !== 2) fail('collections.OrderedDict takes a list of (key, value) pairs');
      d.set(pair[0], pair[1]);
    }
    return d;
  };
  g.set('collections.OrderedDict', { call: ordered, construct: () => new PyOrderedDict() });
  const namespace = (args: readonly unknown[], fail: (why: string) => never): PyObject => {
    if (args.length !== 0) fail('argparse.Namespace is created without positional arguments');
    return new PyObject('argparse.Namespace');
  };
  g.set('argparse.Namespace', { call: namespace, construct: namespace });
  const set = (frozen: boolean) => (args: readonly unknown[], fail: (why: string) => never): Set<unknown> => {
    if (args.length > 1 || (args.length === 1 && !Array.isArray(args[0]))) fail('set() takes one list');
    const s = new Set<unknown>(args.length ? (args[0] as unknown[]) : []);
    return frozen ? Object.freeze(s) : s;
  };
  // protocol 2 pickles written by Python 3 name builtins as __builtin__ (fix_imports)
  for (const m of ['builtins', '__builtin__']) {
    g.set(`${m}.set`, { call: set(false) });
    g.set(`${m}.frozenset`, { call: set(true) });
  }
  // bytes at protocol 2: _codecs.encode(text, 'latin1')
  g.set('_codecs.encode', {
    call: (args, fail) => {
      if (args.length !== 2 || typeof args[0] !== 'string' || !['latin1', 'latin-1'].includes(String(args[1]))) fail("_codecs.encode is allowed only as encode(str, 'latin1')");
      return Uint8Array.from(args[0] as string, (c) => c.charCodeAt(0) & 0xff);
    },
  });
  return g;
})();

export const PLAIN_GLOBALS_TEXT = 'collections.OrderedDict, argparse.Namespace, builtins.set, builtins.frozenset, _codecs.encode';
