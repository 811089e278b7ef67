import { readFileSync, writeFileSync } from 'node:fs';
import { loadDevice } from '../../src/latency/device.js';
import { hostInfo } from '../../src/latency/host.js';
import { runtimeVersion } from '../../src/latency/runtime.js';

/** Labels a parsed LUT as measured on this host with this runtime (in place; returns it). */
export function labelForThisHost<T extends { device: { name: string } }>(lut: T): T {
  Object.assign(lut, { host: hostInfo(), runtime: runtimeVersion(loadDevice(lut.device.name)) });
  return lut;
}

/** Relabels a LUT file as measured on this host with this runtime, so that a build takes it as fitting. */
export function relabelForThisHost(path: string): string {
  writeFileSync(path, JSON.stringify(labelForThisHost(JSON.parse(readFileSync(path, 'utf8')))));
  return path;
}
