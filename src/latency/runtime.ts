/**
 * Runs ONNX models in a device's runtime. One interface, one implementation per runtime:
 * onnxruntime-node (CPU, CUDA, WebGPU providers) and onnxruntime-web (WebAssembly, the engine
 * browsers run). Inputs are generated once per session so that runs time the model alone.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { SncError } from '../errors.js';
import type { Device } from './device.js';

export interface ModelInput {
  name: string;
  dims: number[];
  dtype: 'float32' | 'int64';
}

export interface TimedSession {
  /** One inference on the session's fixed inputs; resolves when outputs are back in JS. */
  run(): Promise<void>;
  release(): Promise<void>;
}

export interface RuntimeVersions {
  runtime: string;
  version: string;
}

type OrtModule = typeof import('onnxruntime-node');
const require = createRequire(import.meta.url);
let ortNode: OrtModule | undefined;
let ortWeb: OrtModule | undefined;

async function runtimeModule(device: Device): Promise<OrtModule> {
  if (device.runtime === 'onnxruntime-node') return (ortNode ??= (await import('onnxruntime-node')).default as unknown as OrtModule);
  if (!ortWeb) {
    ortWeb = (await import('onnxruntime-web')) as unknown as OrtModule;
    ortWeb.env.wasm.numThreads = device.threads;
    ortWeb.env.logLevel = 'fatal';
  }
  return ortWeb;
}

export function runtimeVersion(device: Device): RuntimeVersions {
  // onnxruntime-web's package "exports" hide its package.json: find it above the resolved entry
  let dir = dirname(require.resolve(device.runtime));
  for (;;) {
    const path = join(dir, 'package.json');
    if (existsSync(path)) {
      const pkg = JSON.parse(readFileSync(path, 'utf8')) as { name?: string; version: string };
      if (pkg.name === device.runtime) return { runtime: device.runtime, version: pkg.version };
    }
    const up = dirname(dir);
    if (up === dir) return { runtime: device.runtime, version: 'unknown' };
    dir = up;
  }
}

/** Throws an SncError naming the provider when this machine cannot run the device. */
export async function checkAvailable(device: Device): Promise<void> {
  if (device.runtime !== 'onnxruntime-node') return;
  const ort = await runtimeModule(device);
  const backends = ort.listSupportedBackends?.() ?? [];
  const b = backends.find((x: { name: string }) => x.name === device.executionProvider);
  if (!b)
    throw new SncError(`device ${device.name}: onnxruntime-node has no '${device.executionProvider}' execution provider on this machine; available: ${backends.map((x: { name: string }) => x.name).join(', ')}`);
  if (device.executionProvider === 'cuda' && !(b as { bundled?: boolean }).bundled) {
    // the CUDA provider ships separately; probe it
    try {
      const { buildOverheadProbe } = await import('./probe.js');
      const s = await ort.InferenceSession.create(buildOverheadProbe(), { executionProviders: ['cuda'] });
      await s.release();
    } catch (e) {
      throw new SncError(`device ${device.name}: the 'cuda' execution provider is not available (${(e as Error).message.split('\n')[0]}); install onnxruntime-node's CUDA binaries on a machine with an NVIDIA GPU`);
    }
  }
}

function fill(input: ModelInput, ort: OrtModule) {
  const n = input.dims.reduce((p, d) => p * d, 1);
  if (input.dtype === 'int64') return new ort.Tensor('int64', new BigInt64Array(n), input.dims);
  const data = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = s / 4294967296; // uniform [0, 1): valid boxes for reference-box inputs too
  }
  return new ort.Tensor('float32', data, input.dims);
}

export interface SessionOptions {
  /** Write onnxruntime's per-node profile with this file prefix. */
  profilePrefix?: string;
  /** What the model is called in errors (its file); default 'model'. */
  source?: string;
}

/** onnxruntime's error as one line: its first line, without the native log prefix. */
function ortMessage(e: unknown): string {
  return String((e as Error)?.message ?? e)
    .split('\n')[0]
    .replace(/^\[[^\]]*\]\s*:?\s*/, '')
    .replace(/^Can't create a session\. ERROR_CODE: \d+, ERROR_MESSAGE: /, '')
    .replace(/^\S+\.(?:h|cc|cpp):\d+ [^(]*\(.*?\) (?=[A-Z])/, '') // the C++ source line and signature
    .trim();
}

/** Opens a session of the device's runtime on the model, with fixed random inputs. */
export async function openSession(device: Device, model: Uint8Array, inputs: ModelInput[], opts: SessionOptions = {}): Promise<TimedSession & { endProfiling(): string | undefined }> {
  const ort = await runtimeModule(device);
  let session: import('onnxruntime-node').InferenceSession;
  try {
    session = await ort.InferenceSession.create(model, {
      executionProviders: [device.executionProvider],
      intraOpNumThreads: device.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: device.graphOptimizationLevel,
      enableProfiling: opts.profilePrefix !== undefined,
      profileFilePrefix: opts.profilePrefix,
      // 4 (fatal only): a model onnxruntime rejects is reported once, as one SncError line,
      // not also as a native '[E:onnxruntime:...]' log line on stderr
      logSeverityLevel: 4,
      // Intra-op threads that spin after a run steal the cores of the next session's run when
      // sessions are interleaved (each has its own pool): measure with spinning off.
      extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
    });
  } catch (e) {
    const msg = ortMessage(e);
    // a GPU provider that cannot start is the machine's lack, not the model's fault
    const gpu = device.executionProvider !== 'cpu' && device.executionProvider !== 'wasm';
    if (gpu && /provider|backend|adapter/i.test(String((e as Error)?.message ?? e)))
      throw new SncError(`device ${device.name}: cannot create a session with the '${device.executionProvider}' provider: ${msg}`);
    throw new SncError(`${opts.source ?? 'model'}: ${device.runtime} cannot load it on ${device.name}: ${msg}`);
  }
  const feeds: Record<string, import('onnxruntime-node').Tensor> = {};
  for (const i of inputs) feeds[i.name] = fill(i, ort);
  return {
    run: async () => {
      try {
        await session.run(feeds);
      } catch (e) {
        throw new SncError(`${opts.source ?? 'model'}: ${device.runtime} cannot run it on ${device.name}: ${ortMessage(e)}`);
      }
    },
    release: () => session.release(),
    endProfiling: () => (session as unknown as { endProfiling(): string | undefined }).endProfiling(),
  };
}
