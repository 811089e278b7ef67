/**
 * Profiling as jobs: `snc profile --queue` times a LUT's blocks on a worker that announces the
 * device (`snc worker --device NAME`, one queue per device). The coordinator runs profile()
 * unchanged, with a BlockTimer whose timings come back from jobs: the same groups, passes,
 * seeds, re-measurements and calibration as a local profile, merged by the same code. The LUT
 * records the worker's machine and runtime; every timing of one profile must come from one
 * machine (a LUT's scale does not transfer between machines). Documented in docs/scale-out.md.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { configKey, type SubnetConfig } from '../detr/spec.js';
import type { Supernet } from '../detr/supernet.js';
import { SncError } from '../errors.js';
import { JobClient, JobFailed, UnrecoverableError, processName, type JobClientOptions, type QueueTarget } from '../util/job-queue.js';
import type { Device } from './device.js';
import { hostInfo } from './host.js';
import { familyHash, isFamily } from './lut.js';
import type { MeasureOptions } from './measure.js';
import { checkAvailable, runtimeVersion } from './runtime.js';
import { distinctBlocks, measureConfigSamples, pickBlocks, timeBlockSamples, type BlockTimer, type ProfileItem, type TimerIdentity } from './profiler.js';

/** The queue of a device's profiling jobs. */
export function profileQueueName(device: string): string {
  return `snc-profile-${device}`;
}

type Op = { op: 'identity' } | { op: 'blocks'; keys: string[]; measure: MeasureOptions } | { op: 'configs'; configs: SubnetConfig[]; measure: MeasureOptions; seed: number; passes: number; references?: string[] };

export type ProfileJobData = {
  kind: 'snc-profile';
  version: 1;
  /** One profile run (its jobs' ids start with it). */
  run: string;
  supernet: { name: string; familyHash: string };
  device: Device;
} & Op;

export interface ProfileJobResult {
  identity: TimerIdentity;
  /** Raw samples (ms) per block or config, in the order asked. */
  samples: number[][];
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** A BlockTimer whose timings are made by workers of the device's queue. */
export class QueueTimer implements BlockTimer {
  readonly client: JobClient<ProfileJobData, ProfileJobResult>;
  private readonly run = randomUUID().slice(0, 8);
  private seq = 0;
  private first: TimerIdentity | undefined;

  constructor(
    target: QueueTarget,
    private readonly net: Supernet,
    private readonly device: Device,
    opts: JobClientOptions = {},
  ) {
    this.client = new JobClient(target, profileQueueName(device.name), opts);
  }

  private async job(op: Op): Promise<ProfileJobResult> {
    const data = { kind: 'snc-profile', version: 1, run: this.run, supernet: { name: this.net.spec.name, familyHash: familyHash(this.net.spec) }, device: this.device, ...op } as ProfileJobData;
    const id = `profile-${this.device.name}-${this.run}-${++this.seq}`;
    let r: ProfileJobResult;
    try {
      r = (await this.client.submit(op.op, data, id)).result;
    } catch (e) {
      if (e instanceof JobFailed) throw new SncError(`profile: ${op.op} job on queue ${profileQueueName(this.device.name)} failed: ${e.message}`);
      throw e;
    }
    // every timing of one LUT from one machine
    if (!this.first) this.first = r.identity;
    else if (r.identity.machine !== this.first.machine || !sameJson(r.identity.runtime, this.first.runtime))
      throw new SncError(
        `profile: queue ${profileQueueName(this.device.name)} is served by more than one machine (${this.first.machine}, ${this.first.runtime.runtime} ${this.first.runtime.version}; and ${r.identity.machine}, ${r.identity.runtime.runtime} ${r.identity.runtime.version}): one LUT's timings must come from one machine; stop the other workers announcing ${this.device.name}`,
      );
    return r;
  }

  async identity(): Promise<TimerIdentity> {
    return (await this.job({ op: 'identity' })).identity;
  }

  async timeBlocks(items: ProfileItem[], measure: MeasureOptions): Promise<number[][]> {
    return (await this.job({ op: 'blocks', keys: items.map((i) => i.key), measure })).samples;
  }

  async timeConfigs(configs: SubnetConfig[], measure: MeasureOptions, seed: number, passes: number, references: string[] = []): Promise<number[][]> {
    return (await this.job({ op: 'configs', configs, measure, seed, passes, ...(references.length ? { references } : {}) })).samples;
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/** The worker's side: times what a job asks with the code a local profile uses. One job at a time. */
export class ProfileJobRunner {
  private readonly items = new Map<string, Map<string, ProfileItem>>();
  private busy: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly nets: Supernet[],
    private readonly devices: Device[],
  ) {}

  /** The blocks as `device` runs them (int8 devices: quantized), per family and precision. */
  private blocksOf(net: Supernet, hash: string, device: Device): Map<string, ProfileItem> {
    const key = `${hash}|${device.precision}|${device.runtime}`;
    let m = this.items.get(key);
    if (!m) this.items.set(key, (m = new Map(distinctBlocks(net, device).map((i) => [i.key, i]))));
    return m;
  }

  /** Runs one job on `device` (the queue's); jobs of every device run one after another. */
  run(job: ProfileJobData, device: Device): Promise<ProfileJobResult> {
    const p = this.busy.then(() => this.runNow(job, device));
    this.busy = p.catch(() => {});
    return p;
  }

  private async runNow(job: ProfileJobData, device: Device): Promise<ProfileJobResult> {
    const me = processName();
    if (job?.kind !== 'snc-profile' || job.version !== 1) throw new UnrecoverableError(`worker ${me}: not an snc profiling job (kind ${JSON.stringify(job?.kind)}); coordinator and worker run different snc versions`);
    if (!sameJson(job.device, device))
      throw new UnrecoverableError(`worker ${me}: device mismatch: the job's ${job.device.name} descriptor differs from this worker's ${device.name} (devices/${device.name}.json): ${JSON.stringify(job.device)} vs ${JSON.stringify(device)}`);
    const net = this.nets.find((n) => isFamily(job.supernet.familyHash, n.spec));
    if (!net)
      throw new UnrecoverableError(
        `worker ${me}: supernet family mismatch: the job times '${job.supernet.name}' (family hash ${job.supernet.familyHash}); this worker has ${this.nets.map((n) => `${n.spec.name} ${familyHash(n.spec)}`).join(', ')} (give snc worker --supernet a copy of the coordinator's supernet)`,
      );
    await checkAvailable(device);
    const identity: TimerIdentity = { host: hostInfo(), runtime: runtimeVersion(device), machine: hostname() };
    if (job.op === 'identity') return { identity, samples: [] };
    const blocks = (keys: readonly string[]) => (keys.length ? pickBlocks(this.blocksOf(net, job.supernet.familyHash, device), keys, job.supernet.name, (m) => new UnrecoverableError(`worker ${me}: ${m}`)) : []);
    if (job.op === 'blocks') return { identity, samples: await timeBlockSamples(device, blocks(job.keys), job.measure) };
    return { identity, samples: await measureConfigSamples(net, device, job.configs, job.measure, job.seed, job.passes, blocks(job.references ?? [])) };
  }

  static label(job: ProfileJobData): string {
    if (job.op === 'blocks') return `${job.device.name}: ${job.keys.length} blocks x ${job.measure.runs} runs`;
    if (job.op === 'configs') return `${job.device.name}: ${job.configs.length} subnets for the calibration (${job.configs.map((c) => configKey(c)).join('; ')})`;
    return `${job.device.name}: identity`;
  }
}
