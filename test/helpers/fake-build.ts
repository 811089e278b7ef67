import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportSubnet } from '../../src/detr/export-subnet.js';
import { configKey, parseConfig } from '../../src/detr/spec.js';
import { loadSupernet } from '../../src/detr/supernet.js';
import { parseConfig as parseBuildConfig, resolveConfig, type BuildConfig } from '../../src/export/config.js';
import { fileSha256 } from '../../src/export/steps.js';
import { hostInfo } from '../../src/latency/host.js';
import { runtimeVersion } from '../../src/latency/runtime.js';
import { loadDevice } from '../../src/latency/device.js';
import { smallSupernet } from './small-supernet.js';

/**
 * A build folder as snc build leaves it, without running a build: for one device, a real exported
 * subnet of the small supernet, a LUT relabelled for this host, and a report.json whose chosen
 * subnet is predicted at `predictedMs`.
 */
export function fakeBuild(dir: string, opts: { budgetMs: number; predictedMs: number; device?: string; check?: object }): { cfg: BuildConfig; modelPath: string; small: ReturnType<typeof smallSupernet> } {
  const device = opts.device ?? 'ort-cpu-1t';
  const small = smallSupernet(join(dir, 'net'));
  const lutPath = small.luts[device === 'ort-cpu-2t' ? 1 : 0];
  const lut = JSON.parse(readFileSync(lutPath, 'utf8'));
  lut.host = hostInfo();
  lut.runtime = runtimeVersion(loadDevice(device));
  writeFileSync(lutPath, JSON.stringify(lut));
  const net = loadSupernet(small.dir);
  const config = parseConfig('res=160,patch=16,windows=2,layers=1,queries=30', net.spec.default);
  const out = join(dir, 'build');
  const modelPath = join(out, device, 'model.onnx');
  mkdirSync(join(out, device), { recursive: true });
  writeFileSync(modelPath, exportSubnet(net, config));
  const metrics = { AP: 0.3, AP50: 0.5 };
  const report = {
    format: 'snc-build-device',
    version: 1,
    name: device,
    device: loadDevice(device),
    budgetMs: opts.budgetMs,
    precision: 'fp32',
    supernet: { name: net.spec.name, dir: net.dir, weightsSha256: net.weights.hash },
    data: { dir: join(dir, 'val'), images: 8, hash: 'x' },
    lut: { path: lutPath, source: 'config', sha256: fileSha256(lutPath), host: lut.host, runtime: 'onnxruntime-node', calibrated: true, profileSeconds: 1, skipped: [] },
    search: { metric: 'AP', mode: 'exhaustive', evaluated: [{ key: configKey(config), accuracy: 0.3, predictedMs: opts.predictedMs }], front: [configKey(config)], seconds: 1 },
    chosen: { key: configKey(config), config, metrics, predictedMs: opts.predictedMs, reason: 'test' },
    model: { path: modelPath, file: `${device}/model.onnx`, sha256: fileSha256(modelPath), bytes: 1, precision: 'fp32' },
    measurement: null,
    validation: null,
    steps: [],
    builtAt: '2026-12-01T00:00:00.000Z',
  };
  writeFileSync(join(out, device, 'report.json'), JSON.stringify(report));
  const cfgDoc = { supernet: small.dir, data: { validation: { synth: { dir: 'val', images: 8, seed: 1, size: 96 } } }, out: 'build', check: opts.check ?? {}, devices: [{ device, budgetMs: opts.budgetMs, options: { lut: lutPath } }] };
  writeFileSync(join(dir, 'snc.config.json'), JSON.stringify(cfgDoc));
  return { cfg: resolveConfig(parseBuildConfig(JSON.stringify(cfgDoc), join(dir, 'snc.config.json')), join(dir, 'snc.config.json'), dir), modelPath, small };
}
