import { SncError, choices } from '../errors.js';
import type { Preprocess } from '../data/preprocess.js';

export type { Preprocess };

/** The architecture of a supernet family: everything fixed by its weights. */
export interface Architecture {
  backbone: {
    /** Token width C. */
    width: number;
    depth: number;
    heads: number;
    mlpRatio: number;
    inChannels: number;
    /** Patch size the patch-embedding kernel is stored at. */
    storedPatch: number;
    /** Side of the patch grid the position table is stored for. */
    posGrid: number;
    /** Blocks that attend over the whole image; all others use windowed attention. */
    globalBlocks: number[];
    /** Blocks whose outputs feed the projector (after the shared final norm). */
    tapBlocks: number[];
    eps: number;
  };
  decoder: {
    /** Decoder width D. */
    width: number;
    heads: number;
    /** Sampling points per head in deformable cross-attention. */
    points: number;
    ffn: number;
    maxLayers: number;
    maxQueries: number;
    eps: number;
  };
  numClasses: number;
  /** Width and height of every two-stage anchor box (normalised). */
  anchorSize: number;
}

/** The searchable knobs and the values each may take. */
export interface KnobGrid {
  resolution: number[];
  patch: number[];
  windows: number[];
  layers: number[];
  queries: number[];
}

export type KnobName = keyof KnobGrid;
export const KNOB_NAMES: readonly KnobName[] = ['resolution', 'patch', 'windows', 'layers', 'queries'];
/** Short names accepted in config strings ("res=384,patch=16,..."). */
const ALIASES: Record<string, KnobName> = { res: 'resolution', resolution: 'resolution', patch: 'patch', windows: 'windows', layers: 'layers', queries: 'queries' };
const SHORT: Record<KnobName, string> = { resolution: 'res', patch: 'patch', windows: 'windows', layers: 'layers', queries: 'queries' };

/** One subnet: a value for every knob. */
export type SubnetConfig = Record<KnobName, number>;

/** The content of supernet.json. */
export interface SupernetSpec {
  format: 'snc-supernet';
  version: 1;
  name: string;
  architecture: Architecture;
  knobs: KnobGrid;
  default: SubnetConfig;
  preprocess: Preprocess;
  classes: string[];
}

export function configKey(c: SubnetConfig): string {
  return KNOB_NAMES.map((k) => `${SHORT[k]}=${c[k]}`).join(',');
}

/** Parses "res=384,patch=16,windows=2,layers=2,queries=300"; omitted knobs come from `defaults`. */
export function parseConfig(text: string, defaults?: SubnetConfig): SubnetConfig {
  const out: Partial<SubnetConfig> = { ...(defaults ?? {}) };
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z]+)\s*=\s*(-?\d+)$/.exec(part);
    if (!m) throw new SncError(`config: cannot read '${part}'; write knob=value pairs such as res=384,patch=16,windows=2,layers=2,queries=300`);
    const knob = ALIASES[m[1]];
    if (!knob) throw new SncError(`config: unknown knob '${m[1]}'; valid knobs are ${choices(Object.keys(ALIASES))}`);
    out[knob] = Number(m[2]);
  }
  const missing = KNOB_NAMES.filter((k) => out[k] === undefined);
  if (missing.length) throw new SncError(`config: missing ${choices(missing.map((k) => SHORT[k]))} in '${text}'`);
  return out as SubnetConfig;
}

/** Why a config is not a subnet of the grid, or undefined when it is one. */
export function invalidReason(grid: KnobGrid, c: SubnetConfig): string | undefined {
  for (const k of KNOB_NAMES)
    if (!grid[k].includes(c[k])) return `${SHORT[k]}=${c[k]} is not in the knob grid; valid values are ${choices(grid[k])}`;
  const unit = c.patch * c.windows;
  if (c.resolution % unit !== 0) {
    const ok = grid.resolution.filter((r) => r % unit === 0);
    return `res=${c.resolution} is not divisible by patch x windows = ${c.patch} x ${c.windows} = ${unit}; ` +
      (ok.length ? `valid resolutions for this patch and window count are ${choices(ok)}` : 'no resolution of the grid is, change patch or windows');
  }
  const tokens = (c.resolution / c.patch) ** 2;
  if (c.queries > tokens) return `queries=${c.queries} is more than the ${tokens} tokens of res=${c.resolution},patch=${c.patch}, and queries are selected from tokens`;
  return undefined;
}

export function validateConfig(grid: KnobGrid, c: SubnetConfig): SubnetConfig {
  const why = invalidReason(grid, c);
  if (why) throw new SncError(`config: ${why}`);
  return c;
}

/** Every valid config of the grid, in a fixed order. */
export function enumerateConfigs(grid: KnobGrid): SubnetConfig[] {
  const out: SubnetConfig[] = [];
  for (const resolution of grid.resolution)
    for (const patch of grid.patch)
      for (const windows of grid.windows)
        for (const layers of grid.layers)
          for (const queries of grid.queries) {
            const c = { resolution, patch, windows, layers, queries };
            if (!invalidReason(grid, c)) out.push(c);
          }
  return out;
}

/** Checks a parsed supernet.json and throws one SncError naming the first bad field. */
export function checkSpec(spec: SupernetSpec, source: string): SupernetSpec {
  const bad = (why: string): never => {
    throw new SncError(`${source}: ${why}`);
  };
  if (spec?.format !== 'snc-supernet') bad(`format is ${JSON.stringify(spec?.format)}, expected "snc-supernet"`);
  if (spec.version !== 1) bad(`version ${spec.version} is not supported; this snc reads version 1`);
  const a = spec.architecture;
  if (!a?.backbone || !a?.decoder) bad('architecture.backbone and architecture.decoder are required');
  const b = a.backbone;
  if (b.width % b.heads !== 0) bad(`backbone.width ${b.width} is not divisible by backbone.heads ${b.heads}`);
  if (a.decoder.width % a.decoder.heads !== 0) bad(`decoder.width ${a.decoder.width} is not divisible by decoder.heads ${a.decoder.heads}`);
  for (const t of [...b.tapBlocks, ...b.globalBlocks])
    if (!(Number.isInteger(t) && t >= 0 && t < b.depth)) bad(`block index ${t} is outside 0..${b.depth - 1}`);
  if (!b.tapBlocks.length) bad('backbone.tapBlocks is empty');
  for (const k of KNOB_NAMES) if (!Array.isArray(spec.knobs?.[k]) || !spec.knobs[k].length) bad(`knobs.${k} must be a non-empty list`);
  if (Math.max(...spec.knobs.layers) > a.decoder.maxLayers) bad(`knobs.layers goes past decoder.maxLayers ${a.decoder.maxLayers}`);
  if (Math.max(...spec.knobs.queries) > a.decoder.maxQueries) bad(`knobs.queries goes past decoder.maxQueries ${a.decoder.maxQueries}`);
  if (spec.classes.length !== a.numClasses) bad(`${spec.classes.length} class names for numClasses ${a.numClasses}`);
  const why = invalidReason(spec.knobs, spec.default);
  if (why) bad(`default config: ${why}`);
  return spec;
}
