/**
 * Progress of long work on stderr. On a terminal: one line rewritten in place. Elsewhere (a CI
 * log): a plain line at most every `intervalMs` (default 5 s) and whenever the stage changes, so
 * that a log never goes silent for minutes and never floods.
 */

export interface ProgressSink {
  isTTY?: boolean;
  write(s: string): unknown;
}

export interface ProgressOptions {
  intervalMs?: number;
  /** Milliseconds; injected by tests. */
  now?: () => number;
}

export class Progress {
  private last = -Infinity;
  private lastStage: string | undefined;
  private shown = false;
  private lastLine: string | undefined;
  private lineSince = 0;
  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(
    private readonly sink: ProgressSink = process.stderr,
    opts: ProgressOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 5000;
    this.now = opts.now ?? (() => Date.now());
  }

  /** A progress line; `stage` (e.g. the step) forces a plain line when it changes. */
  update(line: string, stage?: string): void {
    if (line !== this.lastLine) this.lineSince = this.now();
    this.lastLine = line;
    if (this.sink.isTTY) {
      this.sink.write(`\r\x1b[K${line}`);
      this.shown = true;
      return;
    }
    const t = this.now();
    if (stage !== this.lastStage || t - this.last >= this.intervalMs) {
      this.sink.write(line + '\n');
      this.last = t;
      this.lastStage = stage;
    }
  }

  /**
   * Off a terminal, repeats the last line when nothing was written for `intervalMs` (long work
   * between two progress events must not leave a CI log silent). Call it from a timer.
   */
  tick(): void {
    if (this.sink.isTTY || this.lastLine === undefined) return;
    const t = this.now();
    if (t - this.last < this.intervalMs || t - this.lineSince < this.intervalMs) return;
    this.sink.write(`${this.lastLine} (still at it, ${fmtDuration((t - this.lineSince) / 1000)})\n`);
    this.last = t;
  }

  /** tick() every second until stop() (the timer does not keep the process alive). */
  start(): this {
    this.timer ??= setInterval(() => this.tick(), 1000);
    this.timer.unref();
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.clear();
  }

  private timer: ReturnType<typeof setInterval> | undefined;

  /** A line that always shows (a step done), below any progress line. */
  log(line: string): void {
    this.clear();
    this.lastLine = undefined;
    this.sink.write(line + '\n');
  }

  /** Removes the terminal's progress line. */
  clear(): void {
    if (this.sink.isTTY && this.shown) this.sink.write('\r\x1b[K');
    this.shown = false;
  }
}

/** 42 s, 3.5 min; '?' when unknown. */
export function fmtDuration(s: number | undefined): string {
  if (s === undefined || !Number.isFinite(s)) return '?';
  return s >= 90 ? `${(s / 60).toFixed(1)} min` : `${Math.max(0, s).toFixed(0)} s`;
}
