import { parseArgs, type ParseArgsConfig } from 'node:util';
import { SncError, choices } from '../errors.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs that turns every parsing problem into one SncError line naming the valid flags. */
export type Parsed = { values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[] };

/**
 * `--flag -3` as `--flag=-3` for flags that take a value: node's parseArgs reads a value that
 * starts with '-' as an ambiguous option, so a negative number would not reach the check that
 * names the flag and its valid range.
 */
function joinNegativeValues(argv: string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = argv[i + 1];
    if (a.startsWith('--') && !a.includes('=') && options[a.slice(2)]?.type === 'string' && next !== undefined && /^-(\d|\.\d|Infinity|NaN)/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

export function parse(command: string, argv: string[], options: Options): Parsed {
  try {
    return parseArgs({ args: joinNegativeValues(argv, options), options, allowPositionals: true, strict: true });
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0].replace(/\. To specify a positional.*$/, '');
    const flags = Object.keys(options).map((k) => `--${k}`);
    throw new SncError(`${command}: ${msg}; valid options are ${choices(flags)}`);
  }
}

/** A command's parsed flags, with `str(flag)`: the flag's string value, or undefined. */
export interface Command extends Parsed {
  str(flag: string): string | undefined;
}

/**
 * parse() for a command with a usage text (or a function of the flags giving it): adds --help,
 * which prints the usage and returns null (the command then exits 0).
 */
export function parseCommand(command: string, argv: string[], options: Options, usage: string | ((values: Parsed['values']) => string)): Command | null {
  const p = parse(command, argv, { ...options, help: { type: 'boolean' } });
  if (p.values.help) {
    const text = typeof usage === 'string' ? usage : usage(p.values);
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    return null;
  }
  return { ...p, str: (flag) => (typeof p.values[flag] === 'string' ? (p.values[flag] as string) : undefined) };
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

/** Seconds between plain progress lines when stderr is not a terminal (a CI log, a file). */
export const PLAIN_PROGRESS_SECONDS = 5;

/**
 * Progress for a stream that is not a terminal: a plain line at most every `everySeconds`, the
 * first once that long has passed (a short command prints none), so a CI log shows a long
 * command is alive without a line per step.
 */
export class PlainProgress {
  private since: number | undefined;
  constructor(
    private readonly write: (text: string) => void,
    private readonly everySeconds = PLAIN_PROGRESS_SECONDS,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  update(line: string): void {
    const now = this.clock();
    if (this.since === undefined) this.since = now;
    else if (now - this.since >= this.everySeconds * 1000) {
      this.since = now;
      this.write(`${line}\n`);
    }
  }

  done(): void {
    this.since = undefined;
  }
}

const plain = new PlainProgress((text) => process.stderr.write(text));

/** Progress on stderr: one line redrawn in place on a terminal, else a plain line every few seconds. */
export function progress(line: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${line}`);
  else plain.update(line);
}
export function progressDone(): void {
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  else plain.done();
}
