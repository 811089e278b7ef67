import test from 'ava';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSupernet } from '../../src/detr/supernet.js';
import { SncError } from '../../src/errors.js';
import { cachedLutPath, lutMisfits, resolveLut } from '../../src/export/lut-source.js';
import { loadDevice } from '../../src/latency/device.js';
import { readLut } from '../../src/latency/lut.js';
import { relabelForThisHost } from '../helpers/host-lut.js';
import { smallSupernet } from '../helpers/small-supernet.js';

const tmp = mkdtempSync(join(tmpdir(), 'snc-lut-source-'));
process.env.SNC_CACHE_DIR = join(tmp, 'cache');
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));
const small = smallSupernet(join(tmp, 'net'));
relabelForThisHost(small.luts[0]);
const net = loadSupernet(small.dir);
const device = loadDevice('ort-cpu-1t');

/** A committed-LUT folder (ROOT/<device>/<supernet>.json) holding the small LUT, changed by `edit`. */
function committed(name: string, edit: (lut: Record<string, any>) => void = () => {}): string {
  const root = join(tmp, name);
  mkdirSync(join(root, 'ort-cpu-1t'), { recursive: true });
  const lut = JSON.parse(readFileSync(small.luts[0], 'utf8'));
  edit(lut);
  writeFileSync(join(root, 'ort-cpu-1t', `${net.spec.name}.json`), JSON.stringify(lut));
  return root;
}

test('lutMisfits names every difference: device, descriptor, family, host kind, runtime, completeness', (t) => {
  const lut = readLut(small.luts[0]);
  t.deepEqual(lutMisfits(lut, device, net), []);
  const other = { ...lut, device: { ...lut.device, threads: 2 }, host: { ...lut.host, cpu: 'Intel Xeon', memoryGiB: 1 }, runtime: { ...lut.runtime, version: '0.0.1' }, complete: false };
  const why = lutMisfits(other, device, net);
  t.true(why.includes('threads 2, not 1'), why.join('; '));
  t.true(why.some((w) => /^host cpu "Intel Xeon" vs /.test(w)), why.join('; '));
  t.false(why.some((w) => /memory/.test(w)), 'memory does not make a host kind');
  t.true(why.some((w) => /^runtime onnxruntime-node 0\.0\.1, not onnxruntime-node /.test(w)));
  t.true(why.includes('incomplete (an interrupted profile)'));
  t.true(lutMisfits(readLut(join(committed('fam', (l) => (l.supernet.familyHash = 'ffff')), 'ort-cpu-1t', `${net.spec.name}.json`)), device, net).some((w) => /^supernet family /.test(w)));
});

test('resolveLut: a fitting committed LUT is used; one of another host kind is passed over for the cache', async (t) => {
  const good = await resolveLut(net, device, { committedRoots: [committed('good')] });
  t.is(good.source, 'committed');
  t.deepEqual(good.skipped, []);

  const cached = cachedLutPath(device, net);
  mkdirSync(join(cached, '..'), { recursive: true });
  copyFileSync(small.luts[0], cached);
  const other = await resolveLut(net, device, { committedRoots: [committed('other-host', (l) => (l.host.cpu = 'Some Other CPU'))] });
  t.is(other.source, 'cache');
  t.is(other.path, cached);
  t.is(other.skipped.length, 1);
  t.regex(other.skipped[0], /host cpu "Some Other CPU" vs /);
});

test('resolveLut: a configured LUT that does not fit is refused, naming why', async (t) => {
  const root = committed('configured', (l) => (l.host.cores = 64));
  const e = await t.throwsAsync(resolveLut(net, device, { configured: join(root, 'ort-cpu-1t', `${net.spec.name}.json`), committedRoots: [] }), { instanceOf: SncError });
  t.regex(e!.message, /\(options\.lut of ort-cpu-1t\) does not fit this build: host cores 64 vs \d+; remove options\.lut/);
});

test('the cache path depends on the host kind and the device, not on memory', (t) => {
  const a = cachedLutPath(device, net, { cpu: 'A', cores: 2, platform: 'linux', arch: 'x64', memoryGiB: 8, node: '20' }, { runtime: 'onnxruntime-node', version: '1' });
  const b = cachedLutPath(device, net, { cpu: 'A', cores: 2, platform: 'linux', arch: 'x64', memoryGiB: 64, node: '22' }, { runtime: 'onnxruntime-node', version: '1' });
  const c = cachedLutPath(device, net, { cpu: 'B', cores: 2, platform: 'linux', arch: 'x64', memoryGiB: 8, node: '20' }, { runtime: 'onnxruntime-node', version: '1' });
  t.is(a, b);
  t.not(a, c);
});
