import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));
export const cli = join(root, 'bin/snc.js');

/** An `snc worker` process; its stderr is collected in `log`. */
export class SncWorker {
  log = '';
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;

  constructor(args: string[], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, [cli, 'worker', ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    this.child.stderr!.on('data', (b: Buffer) => (this.log += b.toString()));
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code)));
  }

  /** Resolves once the log matches `re` (generous bound: the machine may be loaded). */
  async waitFor(re: RegExp, ms = 120_000): Promise<void> {
    const end = Date.now() + ms;
    while (!re.test(this.log)) {
      if (this.child.exitCode !== null) throw new Error(`worker exited (code ${this.child.exitCode}) before ${re}:\n${this.log}`);
      if (Date.now() > end) throw new Error(`worker log did not match ${re} within ${ms} ms:\n${this.log}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  ready(): Promise<void> {
    return this.waitFor(/ready on redis:/);
  }

  /** Stops it: SIGTERM (running jobs finish first), SIGKILL when it does not exit within `ms`. */
  async stop(ms = 60_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), ms);
    await this.exited;
    clearTimeout(t);
  }

  async kill9(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** Runs `snc ARGS` to its end: exit code, stdout, stderr. */
export function runSnc(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}
