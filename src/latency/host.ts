import { availableParallelism, cpus, platform, arch, totalmem } from 'node:os';

/** The machine a LUT was measured on. */
export interface HostInfo {
  cpu: string;
  cores: number;
  platform: string;
  arch: string;
  memoryGiB: number;
  node: string;
}

export function hostInfo(): HostInfo {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    platform: platform(),
    arch: arch(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.versions.node,
  };
}

/** Differences that make a LUT measured on `a` not valid for `b` (memory is ignored). */
export function hostDifferences(a: HostInfo, b: HostInfo): string[] {
  const out: string[] = [];
  for (const k of ['cpu', 'cores', 'platform', 'arch'] as const) if (a[k] !== b[k]) out.push(`${k} ${JSON.stringify(a[k])} vs ${JSON.stringify(b[k])}`);
  return out;
}
