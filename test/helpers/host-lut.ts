import { readFileSync, writeFileSync } from 'node:fs';
import { loadDevice } from '../../src/latency/device.js';
import { hostInfo } from '../../src/latency/host.js';
import { runtimeVersion } from '../../src/latency/runtime.js';

/** Relabels a LUT file as measured on this host with this runtime, so that a build takes it as fitting. */
export function relabelForThisHost(path: string): string {
  const lut = JSON.parse(readFileSync(path, 'utf8'));
  lut.host = hostInfo();
  lut.runtime = runtimeVersion(loadDevice(lut.device.name));
  writeFileSync(path, JSON.stringify(lut));
  return path;
}
