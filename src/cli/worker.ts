/**
 * `snc worker`: runs queued jobs (docs/scale-out.md) until stopped (SIGINT/SIGTERM: the jobs it
 * is running finish first). Group evaluations of `snc search --queue` when given --data, block
 * timings of `snc profile --queue` for each --device it announces. It logs one line per job on
 * stderr.
 */
import { Problems } from '../data/problems.js';
import { readCocoDataset } from '../data/coco.js';
import { loadSupernet } from '../detr/supernet.js';
import { SncError } from '../errors.js';
import { EVAL_QUEUE, type EvalJobData, type EvalJobResult } from '../eval/queue.js';
import { EvalJobRunner } from '../eval/queue-worker.js';
import { loadDevice } from '../latency/device.js';
import { ProfileJobRunner, profileQueueName, type ProfileJobData, type ProfileJobResult } from '../latency/profile-jobs.js';
import { checkAvailable } from '../latency/runtime.js';
import { parseQueueUrl, processName, runJobs } from '../util/job-queue.js';
import { intOption, parseCommand, requireString } from './args.js';
import type { Worker } from 'bullmq';

const USAGE = `usage: snc worker --queue redis://HOST:PORT[/DB] --supernet DIR|PRESET [--supernet ...] [--data DIR ...] [--device NAME ...] [--concurrency N]
  Runs queued jobs until stopped (Ctrl-C: running jobs finish first). Run it on every machine
  that should work for a coordinator (docs/scale-out.md).
  --supernet DIR|PRESET  a local copy of the coordinator's supernet (repeatable); jobs name it by
                         content hash, a job for another supernet fails with the reason
  --data DIR             a local copy of the validation set (repeatable): run the group
                         evaluations of snc search --queue; checked by hash like the supernet
  --device NAME          time blocks for snc profile --queue on this device (repeatable; one
                         profiling job at a time, on a machine not loaded by anything else)
  --concurrency N        group evaluations at once (default 1), one thread each
  --threads N            onnxruntime threads per evaluation (default 1)
  --lock-ms N            a job's lock lapses N ms after this worker stops renewing it (default 30000)
  --stalled-ms N         how often to look for stalled jobs of dead workers (default 30000)
`;

/** Test hooks (SNC_WORKER_HOOK): 'hang' never finishes the jobs it takes; 'fail-group:KEY' fails every job of that group. */
function hookOf(env: string | undefined): { hang: boolean; failGroup?: string } {
  if (!env) return { hang: false };
  if (env === 'hang') return { hang: true };
  if (env.startsWith('fail-group:')) return { hang: false, failGroup: env.slice('fail-group:'.length) };
  throw new SncError(`worker: SNC_WORKER_HOOK '${env}' is not 'hang' or 'fail-group:res=R,patch=P,windows=W'`);
}

export async function run(argv: string[]): Promise<number> {
  const cmd = parseCommand('worker', argv, {
    queue: { type: 'string' },
    supernet: { type: 'string', multiple: true },
    data: { type: 'string', multiple: true },
    device: { type: 'string', multiple: true },
    concurrency: { type: 'string' },
    threads: { type: 'string' },
    'lock-ms': { type: 'string' },
    'stalled-ms': { type: 'string' },
  }, USAGE);
  if (!cmd) return 0;
  const { values } = cmd;
  const target = parseQueueUrl(requireString('worker', values.queue, 'queue', 'the coordinator\'s Redis: redis://HOST:PORT[/DB]'), 'worker: --queue');
  const supernets = (values.supernet as string[] | undefined) ?? [];
  const dataDirs = (values.data as string[] | undefined) ?? [];
  const deviceNames = (values.device as string[] | undefined) ?? [];
  if (!supernets.length) throw new SncError('worker: --supernet is required (a local copy of the coordinator\'s supernet folder, or a preset name; repeatable)');
  if (!dataDirs.length && !deviceNames.length) throw new SncError('worker: nothing to do: give --data DIR (run group evaluations) and/or --device NAME (time blocks for snc profile --queue)');
  const concurrency = intOption('worker', values.concurrency, 'concurrency', 1) ?? 1;
  const threads = intOption('worker', values.threads, 'threads', 1) ?? 1;
  const lockMs = intOption('worker', values['lock-ms'], 'lock-ms', 100);
  const stalledMs = intOption('worker', values['stalled-ms'], 'stalled-ms', 100);
  const hook = hookOf(process.env.SNC_WORKER_HOOK);

  const nets = supernets.map((s) => loadSupernet(s));
  const problems = new Problems();
  const sets = dataDirs.map((d) => readCocoDataset(d, {}, problems));
  const devices = deviceNames.map((d) => loadDevice(d));
  for (const d of devices) await checkAvailable(d);

  const me = processName();
  const log = (line: string) => process.stderr.write(`worker ${me}: ${line}\n`);
  const workers: Worker[] = [];
  const closers: (() => Promise<void>)[] = [];
  const common = { lockMs, stalledMs, onNotice: log };

  if (sets.length) {
    const runner = new EvalJobRunner(nets, sets, { concurrency, threads });
    for (const line of runner.describe()) log(line);
    workers.push(
      runJobs<EvalJobData, EvalJobResult>(
        target,
        EVAL_QUEUE,
        async (data, job) => {
          const what = EvalJobRunner.label(data);
          log(`job ${job.id} started: ${what} (attempt ${job.attemptsStarted})`);
          if (hook.hang) await new Promise(() => {});
          const t0 = performance.now();
          try {
            if (hook.failGroup && data.task && `res=${data.task.config.resolution},patch=${data.task.config.patch},windows=${data.task.config.windows}` === hook.failGroup)
              throw new Error(`SNC_WORKER_HOOK: injected failure of group ${hook.failGroup}`);
            const r = await runner.run(data);
            log(`job ${job.id} done: ${what} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
            return r;
          } catch (e) {
            log(`job ${job.id} failed: ${what}: ${(e as Error).message}`);
            throw e;
          }
        },
        { ...common, concurrency },
      ),
    );
    closers.push(() => runner.close());
  }
  if (devices.length) {
    const runner = new ProfileJobRunner(nets, devices);
    for (const d of devices) {
      log(`device ${d.name}: queue ${profileQueueName(d.name)}`);
      workers.push(
        runJobs<ProfileJobData, ProfileJobResult>(
          target,
          profileQueueName(d.name),
          async (data, job) => {
            const what = ProfileJobRunner.label(data);
            log(`job ${job.id} started: ${what}`);
            if (hook.hang) await new Promise(() => {});
            const t0 = performance.now();
            try {
              const r = await runner.run(data, d);
              log(`job ${job.id} done: ${what} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
              return r;
            } catch (e) {
              log(`job ${job.id} failed: ${what}: ${(e as Error).message}`);
              throw e;
            }
          },
          { ...common, concurrency: 1 },
        ),
      );
    }
  }
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  log(`ready on ${target.url}: ${workers.map((w) => w.name).join(', ')}`);

  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      log(`${sig}: finishing running jobs, then stopping`);
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  await Promise.all(workers.map((w) => w.close()));
  for (const c of closers) await c();
  log('stopped');
  return 0;
}
