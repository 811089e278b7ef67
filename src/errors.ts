/**
 * An error caused by what the user gave (a bad flag, a knob outside the grid, a malformed file).
 * The CLI prints its message as one line and exits with code 2; anything else is a bug.
 */
export class SncError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'SncError';
  }
}

/** Formats a list of valid choices for an error message: `a, b or c`. */
export function choices(values: readonly (string | number)[]): string {
  const s = values.map(String);
  if (s.length <= 1) return s.join('');
  return `${s.slice(0, -1).join(', ')} or ${s[s.length - 1]}`;
}
