import { parseArgs, type ParseArgsConfig } from 'node:util';
import { SncError, choices } from '../errors.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs that turns every parsing problem into one SncError line naming the valid flags. */
export type Parsed = { values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[] };

export function parse(command: string, argv: string[], options: Options): Parsed {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0].replace(/\. To specify a positional.*$/, '');
    const flags = Object.keys(options).map((k) => `--${k}`);
    throw new SncError(`${command}: ${msg}; valid options are ${choices(flags)}`);
  }
}

export function requireString(command: string, v: unknown, flag: string, hint: string): string {
  if (typeof v !== 'string' || !v) throw new SncError(`${command}: --${flag} is required (${hint})`);
  return v;
}

export function intOption(command: string, v: unknown, flag: string, min = 0): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new SncError(`${command}: --${flag} ${JSON.stringify(v)} is not an integer >= ${min}`);
  return n;
}

/** A number flag, checked by `ok`; `what` names the valid values in the error. */
export function numberOption(command: string, v: unknown, flag: string, ok: (n: number) => boolean, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n) || !ok(n)) throw new SncError(`${command}: --${flag} ${JSON.stringify(v)} is not ${what}`);
  return n;
}

/** Progress on stderr, only when stderr is a terminal. */
export function progress(line: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${line}`);
}
export function progressDone(): void {
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
}
