import { loadDevice } from '../../src/latency/device.js';
import { hostInfo } from '../../src/latency/host.js';
import type { OpLut } from '../../src/latency/op-lut.js';

/** A small, valid op-level LUT document (as snc lut ops writes one), for reader tests. */
export function opLutDoc(): OpLut {
  const entry = (op: string, us: number) => ({ op, median_us: us, q1_us: us * 0.9, q3_us: us * 1.1, n: 10, kernels: 1 });
  return {
    format: 'snc-lut',
    version: 1,
    kind: 'ops',
    device: loadDevice('ort-cpu-1t'),
    host: hostInfo(),
    runtime: { runtime: 'onnxruntime-node', version: '1.30.0' },
    protocol: { warmup: 1, runs: 2, group: 4, zoo: { cnn: 1, transformer: 1, seed: 1 }, files: [] },
    complete: true,
    profileSeconds: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    models: [{ name: 'cnn-0', source: 'zoo', kernels: 2, kernelSumUs: 150, measuredMs: 0.2, spread: 0.01 }],
    entries: {
      'Conv|in=1x3x32x32,8x3x3x3,8|out=1x8x32x32': entry('Conv', 100),
      'Relu|in=1x8x32x32|out=1x8x32x32': entry('Relu', 5),
      'Add|in=1x8x32x32,1x8x32x32|out=1x8x32x32': entry('Add', 6),
      'MatMul|in=1x64x32,32x32|out=1x64x32': entry('MatMul', 40),
    },
    calibration: { a: 1.1, b: 0.05, rmspe: 0.05, rmspeAll: 0.08, models: 1 },
  } as unknown as OpLut;
}
