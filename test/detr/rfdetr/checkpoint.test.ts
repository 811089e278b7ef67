import test from 'ava';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SncError } from '../../../src/errors.js';
import { checkpointFormat, readRfdetrCheckpoint } from '../../../src/detr/rfdetr/checkpoint.js';
import { toBytes } from '../../../src/onnx/tensor.js';
import { RFDETR_TINY } from '../../helpers/rfdetr-tiny.js';

const root = fileURLToPath(new URL('../../../..', import.meta.url));
const pth = join(RFDETR_TINY, 'rf-detr-tiny-random.pth');
const st = join(RFDETR_TINY, 'rf-detr-tiny-random.safetensors');

test('the .pth and the .safetensors of the fixture give the same state dict; only the .pth has args', (t) => {
  const a = readRfdetrCheckpoint(pth);
  const b = readRfdetrCheckpoint(st);
  t.is(a.format, 'pth');
  t.is(b.format, 'safetensors');
  t.is(a.source, pth);
  t.is(a.args?.resolution, 128);
  t.is(b.args, undefined);
  t.deepEqual([...a.state.keys()].sort(), [...b.state.keys()].sort());
  for (const [k, v] of b.state) t.true(Buffer.from(toBytes(a.state.get(k)!)).equals(Buffer.from(toBytes(v))), k);
});

test('a torch zip is read as .pth whatever its name', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'snc-ckpt-'));
  const renamed = join(dir, 'weights.safetensors');
  copyFileSync(pth, renamed);
  t.is(checkpointFormat(renamed), 'pth');
  t.is(readRfdetrCheckpoint(renamed).state.size, 201);
});

test('--ema takes ema_model, and is refused by name where there is none', (t) => {
  const train = join(root, 'test/fixtures/pth/train-layout.pth');
  const ema = readRfdetrCheckpoint(train, { ema: true });
  t.is(ema.source, `${train} (ema_model)`);
  t.deepEqual(ema.args, { resolution: 64 });
  t.is(ema.state.size, 4);
  let e = t.throws(() => readRfdetrCheckpoint(pth, { ema: true }), { instanceOf: SncError });
  t.is(e.message, `${pth}: has no 'ema_model' for --ema (its keys are model, args); drop --ema to import 'model'`);
  e = t.throws(() => readRfdetrCheckpoint(st, { ema: true }), { instanceOf: SncError });
  t.regex(e.message, /--ema needs a \.pth training checkpoint with 'ema_model'; a \.safetensors file holds one state dict$/);
  e = t.throws(() => readRfdetrCheckpoint('/nonexistent.pth'), { instanceOf: SncError });
  t.is(e.message, 'cannot open checkpoint /nonexistent.pth: ENOENT');
});
