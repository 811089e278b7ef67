/**
 * Which LUT a device's build uses. A LUT is profiled once and reused while the device, the
 * supernet family and the host kind are unchanged: the same descriptor (runtime, provider,
 * threads, precision, optimisation level), the same family hash (architecture and knob grid),
 * the same kind of host (CPU model, cores, platform, architecture) and the same runtime version.
 *
 * Looked for in order: the config's `options.lut`; the committed `lut/<device>/<supernet>.json`
 * (beside the config, then in the package); the LUT cache, `<cache>/luts/<host kind>/`. When none
 * fits, the device is profiled into the cache (resumable: an interrupted build continues).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Supernet } from '../detr/supernet.js';
import { cacheDir } from '../detr/supernet.js';
import { SncError } from '../errors.js';
import type { Device } from '../latency/device.js';
import { hostDifferences, hostInfo, type HostInfo } from '../latency/host.js';
import { familyHash, isFamily, readLut, type Lut } from '../latency/lut.js';
import { profile, type ProfileOptions } from '../latency/profiler.js';
import { runtimeVersion, type RuntimeVersions } from '../latency/runtime.js';
import { hashInputs } from './steps.js';

export type LutSource = 'config' | 'committed' | 'cache' | 'profiled';

export interface LutChoice {
  path: string;
  lut: Lut;
  source: LutSource;
  /** Why the LUTs looked at before this one were not used. */
  skipped: string[];
}

/** The package's lut/ folder. */
export const PACKAGE_LUTS = fileURLToPath(new URL('../../../lut/', import.meta.url));

const DESCRIPTOR_FIELDS = ['runtime', 'executionProvider', 'threads', 'precision', 'graphOptimizationLevel'] as const;

/** Why `lut` does not fit (device, supernet, host kind, runtime); empty when it does. */
export function lutMisfits(lut: Lut, device: Device, net: Supernet, host: HostInfo = hostInfo(), runtime: RuntimeVersions = runtimeVersion(device)): string[] {
  const out: string[] = [];
  if (lut.device.name !== device.name) out.push(`device ${lut.device.name}, not ${device.name}`);
  for (const k of DESCRIPTOR_FIELDS) if (lut.device[k] !== device[k]) out.push(`${k} ${JSON.stringify(lut.device[k])}, not ${JSON.stringify(device[k])}`);
  if (!isFamily(lut.supernet.familyHash, net.spec)) out.push(`supernet family ${lut.supernet.name} (${lut.supernet.familyHash}), not ${net.spec.name} (${familyHash(net.spec)})`);
  out.push(...hostDifferences(lut.host, host).map((d) => `host ${d}`));
  if (lut.runtime.runtime !== runtime.runtime || lut.runtime.version !== runtime.version) out.push(`runtime ${lut.runtime.runtime} ${lut.runtime.version}, not ${runtime.runtime} ${runtime.version}`);
  if (!lut.complete) out.push('incomplete (an interrupted profile)');
  return out;
}

/** The cache file of a device's LUT on this kind of host. */
export function cachedLutPath(device: Device, net: Supernet, host: HostInfo = hostInfo(), runtime: RuntimeVersions = runtimeVersion(device)): string {
  const kind = hashInputs({ cpu: host.cpu, cores: host.cores, platform: host.platform, arch: host.arch, runtime, device: DESCRIPTOR_FIELDS.map((k) => device[k]) }).slice(0, 16);
  return join(cacheDir(), 'luts', kind, `${device.name}-${net.spec.name}-${familyHash(net.spec)}.json`);
}

export interface ResolveLutOptions {
  /** The config's options.lut (absolute). */
  configured?: string;
  /** Folders holding lut/<device>/<supernet>.json, in order. */
  committedRoots: string[];
  onProfileProgress?: ProfileOptions['onProgress'];
  /** Profile with these options (tests make it small). */
  profile?: Partial<ProfileOptions>;
}

/** The LUT for `device`, profiling one when none fits. */
export async function resolveLut(net: Supernet, device: Device, opts: ResolveLutOptions): Promise<LutChoice> {
  const skipped: string[] = [];
  if (opts.configured) {
    const lut = readLut(opts.configured);
    const why = lutMisfits(lut, device, net);
    if (why.length) throw new SncError(`LUT ${opts.configured} (options.lut of ${device.name}) does not fit this build: ${why.join('; ')}; remove options.lut to use or profile one that fits`);
    return { path: opts.configured, lut, source: 'config', skipped };
  }
  for (const root of opts.committedRoots) {
    const path = join(root, device.name, `${net.spec.name}.json`);
    if (!existsSync(path)) continue;
    const lut = readLut(path);
    const why = lutMisfits(lut, device, net);
    if (!why.length) return { path, lut, source: 'committed', skipped };
    skipped.push(`${path}: ${why.join('; ')}`);
  }
  const path = cachedLutPath(device, net);
  if (existsSync(path)) {
    const lut = readLut(path);
    const why = lutMisfits(lut, device, net);
    if (!why.length) return { path, lut, source: 'cache', skipped };
    if (!(why.length === 1 && !lut.complete)) skipped.push(`${path}: ${why.join('; ')}`);
  }
  const lut = await profile(net, device, { out: path, resume: existsSync(path), onProgress: opts.onProfileProgress, ...opts.profile });
  return { path, lut, source: 'profiled', skipped };
}
