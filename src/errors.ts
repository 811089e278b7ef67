/**
 * An error caused by what the user gave (a bad flag, a knob outside the grid, a malformed file).
 * The CLI prints its message as one line and exits with code 2; anything else is a bug.
 */
export class SncError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    // one line whatever it quotes: line breaks and other control characters of a bad value
    // (a terminal escape sequence in a hostile file) are shown escaped
    super(message.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1)));
    this.name = 'SncError';
  }
}

/** Formats a list of valid choices for an error message: `a, b or c`. */
export function choices(values: readonly (string | number)[]): string {
  const s = values.map(String);
  if (s.length <= 1) return s.join('');
  return `${s.slice(0, -1).join(', ')} or ${s[s.length - 1]}`;
}
