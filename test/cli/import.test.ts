import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSubnet } from '../../src/detr/model.js';
import { loadSupernetDir } from '../../src/detr/supernet.js';
import { encodeModel } from '../../src/onnx/writer.js';
import { readSafetensors, writeSafetensors } from '../../src/onnx/safetensors.js';
import { f32, type Tensor } from '../../src/onnx/tensor.js';
import { ZipArchive } from '../../src/onnx/zip.js';
import { runOnnx } from '../helpers/ort.js';
import { P, pickle } from '../helpers/pickle.js';
import { RFDETR_TINY } from '../helpers/rfdetr-tiny.js';
import { writeZip } from '../helpers/zip.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const snc = (...args: string[]) => spawnSync(process.execPath, [join(root, 'bin/snc.js'), ...args], { encoding: 'utf8' });
const pth = join(RFDETR_TINY, 'rf-detr-tiny-random.pth');
const tmp = () => mkdtempSync(join(tmpdir(), 'snc-import-'));

/** The fixture's archive with its pickle edited (same-length string replacements keep it valid). */
function editedPth(dir: string, name: string, edits: [string, string][]): string {
  const zip = ZipArchive.open(readFileSync(pth), pth);
  const records = [...zip.entries.keys()].map((k): [string, Uint8Array] => {
    let b = Buffer.from(zip.read(k));
    if (k.endsWith('data.pkl'))
      for (const [from, to] of edits) {
        if (from.length !== to.length || b.indexOf(from) < 0) throw new Error(`bad edit ${from}`);
        b = Buffer.from(b.toString('latin1').replace(from, to), 'latin1');
      }
    return [k, b];
  });
  const path = join(dir, name);
  writeFileSync(path, writeZip(records));
  return path;
}

test('snc import rfdetr writes a supernet folder from the fixture .pth', (t) => {
  const out = join(tmp(), 'net');
  const r = snc('import', 'rfdetr', pth, '--out', out, '--vit-heads', '3', '--json');
  t.is(r.status, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  t.like(info, { out, source: pth, format: 'pth', default: 'res=128,patch=16,windows=2,layers=2,queries=100' });
  t.true(info.notes.some((n: string) => /group 0/.test(n)));
  const net = loadSupernetDir(out);
  t.deepEqual(readdirSync(out).sort(), ['supernet.json', 'weights.safetensors']);
  t.is(net.spec.default.resolution, 128);
  t.is(net.weights.size, info.tensors);
  // the folder's weights are the checkpoint's, renamed: spot-check two
  const src = readSafetensors(join(RFDETR_TINY, 'rf-detr-tiny-random.safetensors')).tensors;
  t.deepEqual(net.weights.get('backbone.patch_embed.weight').data, src.get('backbone.0.encoder.encoder.embeddings.patch_embeddings.projection.weight')!.data);
  t.deepEqual(net.weights.get('decoder.class_head.bias').data, src.get('class_embed.bias')!.data);
  // the human output names the folder and the notes
  const again = snc('import', 'rfdetr', pth, '--out', out, '--vit-heads', '3', '--force');
  t.is(again.status, 0, again.stderr);
  t.regex(again.stdout, /^imported .*rf-detr-tiny-random\.pth \(pth\) as rfdetr into .* in \d+\.\d\d s\n {2}\d+ tensors, \d+\.\d\d M parameters; default subnet res=128,/);
});

test('the folder imported from the .pth gives RF-DETR 1.4.1\'s outputs on both fixture subnets (args read from the checkpoint)', async (t) => {
  const out = join(tmp(), 'net');
  const r = snc('import', 'rfdetr', pth, '--out', out, '--vit-heads', '3');
  t.is(r.status, 0, r.stderr);
  const net = loadSupernetDir(out);
  for (const [file, config] of [
    ['io.safetensors', { resolution: 128, patch: 16, windows: 2, layers: 2, queries: 100 }],
    ['io_res160_l1_q50.safetensors', { resolution: 160, patch: 16, windows: 2, layers: 1, queries: 50 }],
  ] as const) {
    const io = readSafetensors(join(RFDETR_TINY, file)).tensors;
    const input = io.get('input')!;
    const got = await runOnnx(encodeModel(buildSubnet(net, config)), { image: { dims: [...input.dims], data: input.data as Float32Array } });
    for (const [name, tol] of [['boxes', 1e-4], ['logits', 1e-3]] as const) {
      const want = io.get(name)!.data as Float32Array;
      t.deepEqual([...got[name].dims], [...io.get(name)!.dims], `${file} ${name} shape`);
      let err = 0;
      for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[name].data[i] - want[i]));
      t.log(`${file}: ${name} max abs error ${err.toExponential(2)}`);
      t.true(err <= tol, `${file} ${name}: max abs error ${err} > ${tol}`);
    }
  }
});

/** A Nano-layout state dict (12 blocks, taps 3/6/9/12, 300 queries, one group, 16 x 2 sampling points) at the fixture's small widths. */
function nanoLayout(): Map<string, Tensor> {
  const src = readSafetensors(join(RFDETR_TINY, 'rf-detr-tiny-random.safetensors')).tensors;
  const out = new Map<string, Tensor>();
  const layer = /^backbone\.0\.encoder\.encoder\.encoder\.layer\.(\d+)\.(.*)$/;
  for (const [k, v] of src) {
    if (/^transformer\.enc_(output|output_norm|out_bbox_embed|out_class_embed)\.[12]\./.test(k)) continue; // one group
    const m = layer.exec(k);
    if (m) for (let copy = 0; copy < 3; copy++) out.set(`backbone.0.encoder.encoder.encoder.layer.${Number(m[1]) + 4 * copy}.${m[2]}`, v);
    else out.set(k, v);
  }
  out.set('backbone.0.projector.stages.0.0.cv1.conv.weight', f32([64, 4 * 96, 1, 1])); // four taps
  for (const l of [0, 1]) {
    // Nano's cross-attention: 16 heads x 2 points
    const ca = `transformer.decoder.layers.${l}.cross_attn`;
    out.set(`${ca}.sampling_offsets.weight`, f32([64, 64]));
    out.set(`${ca}.sampling_offsets.bias`, f32([64]));
    out.set(`${ca}.attention_weights.weight`, f32([32, 64]));
    out.set(`${ca}.attention_weights.bias`, f32([32]));
  }
  return out;
}

test('snc import rfdetr reads a .safetensors with --variant, and needs --variant for it', (t) => {
  const dir = tmp();
  const st = join(dir, 'nano-layout.safetensors');
  writeSafetensors(st, nanoLayout());
  let r = snc('import', 'rfdetr', st, '--out', join(dir, 'a'));
  t.is(r.status, 2);
  t.regex(r.stderr, /^snc: .*nano-layout\.safetensors: holds no RF-DETR args, so its configuration is unknown; name the variant \(nano, small, medium, base or large\)\n$/);
  t.false(existsSync(join(dir, 'a')));
  r = snc('import', 'rfdetr', st, '--out', join(dir, 'b'), '--variant', 'nano', '--vit-heads', '3', '--json');
  t.is(r.status, 0, r.stderr);
  t.like(JSON.parse(r.stdout), { format: 'safetensors', name: 'rfdetr-nano', default: 'res=384,patch=16,windows=2,layers=2,queries=300' });
  const net = loadSupernetDir(join(dir, 'b'));
  t.deepEqual(net.spec.architecture.backbone.tapBlocks, [2, 5, 8, 11]);
});

const bad: [string, (dir: string) => string[], RegExp][] = [
  [
    'a pickle naming os.system',
    (dir) => {
      const evil = pickle(P.proto(2), P.global('os', 'system'), P.str('touch /tmp/snc-import-pwned'), P.tuple1, P.reduce, P.stop);
      const path = join(dir, 'evil.pth');
      writeFileSync(path, writeZip([['evil/data.pkl', evil], ['evil/version', Buffer.from('3\n')]]));
      return [path];
    },
    /^snc: .*evil\.pth \(evil\/data\.pkl\): pickle global 'os\.system' is not allowed; allowed: torch\._utils\._rebuild_tensor_v2, .*\(pickle opcode GLOBAL at byte 2\)\n$/,
  ],
  [
    'a truncated zip',
    (dir) => {
      const path = join(dir, 'cut.pth');
      const whole = readFileSync(pth);
      writeFileSync(path, whole.subarray(0, whole.length - 5000));
      return [path];
    },
    /^snc: .*cut\.pth: zip archive is truncated \(no end-of-central-directory record\)\n$/,
  ],
  [
    'an unknown architecture (projector_scale P3)',
    (dir) => [editedPth(dir, 'p3.pth', [["X\x02\x00\x00\x00P4", "X\x02\x00\x00\x00P3"]])],
    /^snc: .*p3\.pth: unknown architecture: projector_scale \["P3"\] \(valid: \["P4"\]\); snc imports RF-DETR's detection models/,
  ],
  [
    'a checkpoint that is no RF-DETR model',
    () => [join(root, 'test/fixtures/pth/train-layout.pth'), '--variant', 'nano'],
    /^snc: .*train-layout\.pth: unknown architecture: no query_feat\.weight/,
  ],
  [
    'a missing tensor',
    (dir) => [editedPth(dir, 'missing.pth', [['transformer.decoder.norm.weight', 'transformer.decoder.norm.weighX']])],
    /^snc: .*missing\.pth: tensor 'transformer\.decoder\.norm\.weight' is missing\n$/,
  ],
  [
    'an extra tensor',
    (dir) => [editedPth(dir, 'extra.pth', [['embeddings.mask_token', 'embeddings.mask_tokeX']])],
    /^snc: .*extra\.pth: 1 tensor that RF-DETR's detection architecture does not have, first 'backbone\.0\.encoder\.encoder\.embeddings\.mask_tokeX'\n$/,
  ],
  ['--ema on a checkpoint without ema_model', () => [pth, '--ema'], /^snc: .*rf-detr-tiny-random\.pth: has no 'ema_model' for --ema \(its keys are model, args\); drop --ema to import 'model'\n$/],
  ['an unknown variant', () => [pth, '--variant', 'huge'], /^snc: import: --variant 'huge' is not an RF-DETR variant; valid variants are nano, small, medium, base or large\n$/],
  ['a checkpoint that does not exist', (dir) => [join(dir, 'nope.pth')], /^snc: cannot open checkpoint .*nope\.pth: ENOENT\n$/],
];
for (const [what, args, re] of bad)
  test(`snc import rfdetr: ${what} is one line naming it, exit code 2, nothing written`, (t) => {
    const dir = tmp();
    const out = join(dir, 'net');
    const r = snc('import', 'rfdetr', ...args(dir), '--out', out, '--vit-heads', '3');
    t.is(r.status, 2, r.stderr);
    t.regex(r.stderr, re);
    t.is(r.stderr.trim().split('\n').length, 1);
    t.is(r.stdout, '');
    t.false(existsSync(out));
    t.deepEqual(readdirSync(dir).filter((f) => f.startsWith('net')), []);
  });

test('snc import: usage problems are one line, exit code 2; an existing folder is kept without --force', (t) => {
  const dir = tmp();
  const cases: [string[], RegExp][] = [
    [['import'], /^snc: import: name what to import; valid sources are rfdetr/],
    [['import', 'yolo', pth, '--out', join(dir, 'x')], /^snc: import: unknown source 'yolo'; valid sources are rfdetr\n$/],
    [['import', 'rfdetr', '--out', join(dir, 'x')], /^snc: import rfdetr: give the checkpoint file/],
    [['import', 'rfdetr', pth], /^snc: import: --out is required \(the supernet folder to write\)\n$/],
    [['import', 'rfdetr', pth, pth, '--out', join(dir, 'x')], /^snc: import rfdetr: unexpected argument/],
    [['import', 'rfdetr', pth, '--out', join(dir, 'x'), '--colour'], /^snc: import: Unknown option '--colour'; valid options are --out, --ema, --variant, --vit-heads, --force, --json or --help\n$/],
  ];
  for (const [args, re] of cases) {
    const r = snc(...args);
    t.is(r.status, 2, args.join(' '));
    t.regex(r.stderr, re);
  }
  const kept = join(dir, 'kept');
  mkdirSync(kept);
  writeFileSync(join(kept, 'mine.txt'), 'user data');
  const r = snc('import', 'rfdetr', pth, '--out', kept);
  t.is(r.status, 2);
  t.regex(r.stderr, /^snc: import: --out .*kept already exists; pass --force to replace it\n$/);
  t.is(readFileSync(join(kept, 'mine.txt'), 'utf8'), 'user data');
  t.false(existsSync(join(dir, 'x')));
});
