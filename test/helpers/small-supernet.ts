import { copyFileSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { SupernetSpec } from '../../src/detr/spec.js';
import { loadSupernet } from '../../src/detr/supernet.js';
import { familyHash } from '../../src/latency/lut.js';
import { labelForThisHost } from './host-lut.js';

const root = new URL('../../..', import.meta.url).pathname;

/**
 * shapes-tiny's (seeded) weights with a small knob grid, so that a search over every subnet
 * takes seconds, and copies of the committed shapes-tiny LUTs relabelled for that family (every
 * block the small grid needs is in them) and for this machine (the committed ones name the host
 * they were profiled on, which a CI machine of another CPU model is not).
 */
export function smallSupernet(dir: string, knobs: Partial<SupernetSpec['knobs']> = {}): { dir: string; luts: string[] } {
  const base = loadSupernet('shapes-tiny');
  const grid = { resolution: [160], patch: [16], windows: [1, 2], layers: [1, 2], queries: [30, 60], ...knobs };
  // the embedded weights' untrained values, as far as the small grid has them
  const untrained = Object.entries(base.spec.untrained ?? {})
    .map(([k, vs]) => [k, vs!.filter((v) => grid[k as keyof typeof grid].includes(v))] as const)
    .filter(([, vs]) => vs.length);
  const spec: SupernetSpec = {
    ...base.spec,
    name: 'shapes-small',
    knobs: grid,
    default: { resolution: 160, patch: 16, windows: 1, layers: 1, queries: 30 },
    untrained: untrained.length ? Object.fromEntries(untrained) : undefined,
  };
  const net = join(dir, 'supernet');
  mkdirSync(net, { recursive: true });
  copyFileSync(join(base.dir, 'weights.safetensors'), join(net, 'weights.safetensors'));
  writeFileSync(join(net, 'supernet.json'), JSON.stringify(spec, null, 2));
  const luts = ['ort-cpu-1t', 'ort-cpu-2t'].map((device) => {
    const lut = JSON.parse(readFileSync(join(root, 'lut', device, 'shapes-tiny.json'), 'utf8'));
    lut.supernet = { name: spec.name, familyHash: familyHash(spec) };
    labelForThisHost(lut);
    const path = join(dir, `${device}.json`);
    writeFileSync(path, JSON.stringify(lut));
    return path;
  });
  return { dir: net, luts };
}
