/**
 * `snc import rfdetr CHECKPOINT --out DIR`: an RF-DETR checkpoint (.pth from torch.save, read
 * without Python, or a .safetensors of the same state dict) as an snc supernet folder.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { SncError, choices } from '../errors.js';
import { readRfdetrCheckpoint } from '../detr/rfdetr/checkpoint.js';
import { RFDETR_VARIANTS, supernetFromRfdetr, type RfdetrVariant } from '../detr/rfdetr/import.js';
import { configKey } from '../detr/spec.js';
import { writeSupernetDir } from '../detr/supernet.js';
import { intOption, parseCommand, progress, progressDone, requireString } from './args.js';

const SOURCES = ['rfdetr'];

const USAGE = `usage: snc import rfdetr CHECKPOINT --out DIR [--ema] [--variant ${RFDETR_VARIANTS.join('|')}] [--vit-heads N] [--force] [--json]
  Reads an RF-DETR checkpoint (a .pth written by torch.save, as RF-DETR saves them, or a
  .safetensors of the same state dict) and writes an snc supernet folder (supernet.json +
  weights.safetensors) that every other command takes as --supernet DIR.
  --ema       take the EMA weights (ema_model) of a training checkpoint instead of model
  --variant   the RF-DETR variant; needed for a .safetensors (it holds no args), otherwise
              it only fills what the checkpoint's args leave out
  --vit-heads the backbone's attention heads, for a ViT whose width is not 64 per head
              (RF-DETR's released models all are; test fixtures need it)
  --force     replace DIR if it exists
  A .pth is unpickled without running code: any Python global other than the tensor rebuild
  functions, storage types, OrderedDict and argparse.Namespace is refused by name.
`;

export interface ImportResult {
  out: string;
  source: string;
  format: 'pth' | 'safetensors';
  name: string;
  tensors: number;
  params: number;
  default: string;
  notes: string[];
  seconds: number;
}

/** Imports an RF-DETR checkpoint into a supernet folder; nothing is written unless every check passes. */
export function importRfdetr(checkpoint: string, opts: { out: string; ema?: boolean; variant?: RfdetrVariant; vitHeads?: number; force?: boolean }): ImportResult {
  const t0 = performance.now();
  if (opts.variant !== undefined && !RFDETR_VARIANTS.includes(opts.variant))
    throw new SncError(`import: --variant '${opts.variant}' is not an RF-DETR variant; valid variants are ${choices(RFDETR_VARIANTS)}`);
  // refuse an existing folder before reading a checkpoint of hundreds of MB
  if (existsSync(opts.out) && !opts.force && !(statSync(opts.out).isDirectory() && readdirSync(opts.out).length === 0))
    throw new SncError(`import: --out ${opts.out} already exists; pass --force to replace it`);
  progress(`import: reading ${checkpoint}`);
  const ckpt = readRfdetrCheckpoint(checkpoint, { ema: opts.ema });
  progress('import: mapping RF-DETR tensors to snc names');
  const imported = supernetFromRfdetr(ckpt, { variant: opts.variant, ...(opts.vitHeads ? { vitHeads: opts.vitHeads } : {}) });
  progress(`import: writing ${opts.out}`);
  writeSupernetDir(opts.out, imported.spec, imported.weights, { force: opts.force });
  progressDone();
  let params = 0;
  for (const t of imported.weights.values()) params += t.data.length;
  return {
    out: opts.out,
    source: ckpt.source,
    format: ckpt.format,
    name: imported.spec.name,
    tensors: imported.weights.size,
    params,
    default: configKey(imported.spec.default),
    notes: imported.notes,
    seconds: (performance.now() - t0) / 1000,
  };
}

export async function run(argv: string[]): Promise<number> {
  const cmd = parseCommand('import', argv, {
    out: { type: 'string', short: 'o' },
    ema: { type: 'boolean' },
    variant: { type: 'string' },
    'vit-heads': { type: 'string' },
    force: { type: 'boolean' },
    json: { type: 'boolean' },
  }, USAGE);
  if (!cmd) return 0;
  const { values, positionals } = cmd;
  const [source, checkpoint, ...rest] = positionals;
  if (!source) throw new SncError(`import: name what to import; valid sources are ${choices(SOURCES)} (snc import rfdetr CHECKPOINT --out DIR)`);
  if (!SOURCES.includes(source)) throw new SncError(`import: unknown source '${source}'; valid sources are ${choices(SOURCES)}`);
  if (!checkpoint) throw new SncError('import rfdetr: give the checkpoint file (a .pth or a .safetensors): snc import rfdetr CHECKPOINT --out DIR');
  if (rest.length) throw new SncError(`import rfdetr: unexpected argument '${rest[0]}'; give one checkpoint file`);
  const out = requireString('import', values.out, 'out', 'the supernet folder to write');
  const r = importRfdetr(checkpoint, {
    out,
    ema: values.ema === true,
    variant: typeof values.variant === 'string' ? (values.variant as RfdetrVariant) : undefined,
    vitHeads: intOption('import', values['vit-heads'], 'vit-heads', 1),
    force: values.force === true,
  });
  if (values.json) process.stdout.write(JSON.stringify(r) + '\n');
  else {
    const lines = [
      `imported ${r.source} (${r.format}) as ${r.name} into ${r.out} in ${r.seconds.toFixed(2)} s`,
      `  ${r.tensors} tensors, ${(r.params / 1e6).toFixed(2)} M parameters; default subnet ${r.default}`,
      ...r.notes.map((n) => `  note: ${n}`),
    ];
    process.stdout.write(lines.join('\n') + '\n');
  }
  return 0;
}
