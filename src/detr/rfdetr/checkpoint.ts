/**
 * Reads an RF-DETR checkpoint file into the state dict + args that `supernetFromRfdetr` maps:
 * a `.pth` written by torch.save (RF-DETR's own format: {'model', 'args'} after
 * strip_checkpoint, plus 'ema_model', 'optimizer', ... in training checkpoints) or a
 * `.safetensors` of the same state dict (no args: the variant names the configuration).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { extname } from 'node:path';
import { SncError } from '../../errors.js';
import { readPth } from '../../onnx/pth.js';
import { readSafetensors } from '../../onnx/safetensors.js';
import type { Tensor } from '../../onnx/tensor.js';

export type CheckpointFormat = 'pth' | 'safetensors';

export interface RfdetrCheckpointFile {
  /** The state dict: `model`, or `ema_model` with `ema`. */
  state: Map<string, Tensor>;
  /** The checkpoint's argparse args as a plain object (.pth only). */
  args?: Record<string, unknown>;
  /** Names the file (and the state dict taken) in messages. */
  source: string;
  format: CheckpointFormat;
  /** Top-level keys of a .pth. */
  keys?: string[];
}

function sniff(path: string): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new SncError(`cannot open checkpoint ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const head = new Uint8Array(4);
    const n = readSync(fd, head, 0, 4, 0);
    return head.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** The format of a checkpoint file: a zip (torch.save) is a .pth whatever its name; otherwise by extension. */
export function checkpointFormat(path: string): CheckpointFormat {
  const head = sniff(path);
  const zip = head.length >= 2 && head[0] === 0x50 && head[1] === 0x4b; // "PK"
  if (zip) return 'pth';
  return extname(path).toLowerCase() === '.safetensors' ? 'safetensors' : 'pth';
}

/** Reads a checkpoint; `ema` takes the EMA weights of a training checkpoint instead of `model`. */
export function readRfdetrCheckpoint(path: string, opts: { ema?: boolean } = {}): RfdetrCheckpointFile {
  const format = checkpointFormat(path);
  if (format === 'safetensors') {
    if (opts.ema) throw new SncError(`${path}: --ema needs a .pth training checkpoint with 'ema_model'; a .safetensors file holds one state dict`);
    return { state: readSafetensors(path).tensors, source: path, format };
  }
  const ckpt = readPth(path, { parts: [opts.ema ? 'ema' : 'model'] });
  if (opts.ema && !ckpt.ema) throw new SncError(`${path}: has no 'ema_model' for --ema (its keys are ${ckpt.keys.join(', ')}); drop --ema to import 'model'`);
  const state = opts.ema ? ckpt.ema! : ckpt.model;
  return { state, ...(ckpt.args ? { args: ckpt.args } : {}), source: opts.ema ? `${path} (ema_model)` : path, format, keys: ckpt.keys };
}
